/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * probe.h - how late does this machine wake a thread?  A wake-up lateness
 * probe for the real-time test cases.
 *
 * A real-time case (a duplex loop on 2.7 ms periods) can fail for two
 * reasons: the plugin, or the machine not running the test in time (a VM
 * whose vCPU the host did not run, an interrupt storm).  Only the first is
 * a bug.  On a 2-vCPU VM a SCHED_FIFO thread sleeping to absolute 2.67 ms
 * deadlines was woken more than 1 ms late about once in 100 wake-ups, and
 * once 6.8 ms late: longer than a 256-frame buffer.  The probe tells the
 * two apart by measuring the machine while the case runs.
 *
 * One probe thread per CPU the caller may run on (at most PROBE_MAX_CPUS),
 * pinned there, sleeps to absolute deadlines (clock_nanosleep TIMER_ABSTIME
 * on CLOCK_MONOTONIC) every period and records each wake-up later than the
 * record threshold: the CPU was not available to a real-time thread from
 * (wake - lateness) to wake, a stall.  A stall of length L shows as a
 * lateness of at least L - period (a deadline falls inside it).  A case then
 * asks whether a stall overlapped the time of an event it saw.
 *
 * Why pinned, one per CPU: a host may stall one vCPU only, and the test's
 * thread may be on either.  Why the caller's policy one priority above it
 * (SCHED_FIFO 10 -> 11): the probe must see what stops the caller (the
 * host, interrupts, higher-priority real-time work), and must not see the
 * caller's own thread running: a plugin that spins at SCHED_FIFO would else
 * delay the probe on its CPU and excuse its own xruns.  Under SCHED_OTHER
 * the probe is SCHED_OTHER too, and sees what the caller's class sees.
 *
 * Times are CLOCK_MONOTONIC seconds, as h_now().  The records are read
 * without a lock (each probe publishes its count with a release store).
 */
#ifndef TESTS_LIB_PROBE_H
#define TESTS_LIB_PROBE_H

#include <stdbool.h>

#define PROBE_MAX_CPUS 8	/* probes; CPUs beyond these are not watched */

/*
 * Start the probes: a wake-up every period_us, a record for each wake-up
 * later than record_us.  Call after setting the caller's scheduling.
 * Returns 0, or a negative errno (no thread could be started).
 */
int probe_start(unsigned int period_us, unsigned int record_us);
/* Stop and join the probes, free the records. */
void probe_stop(void);
/*
 * Wait until every probe has woken after t, so that a stall that ended by
 * t is recorded.  A probe on the caller's CPU may wake only after the
 * caller sleeps: call this before judging events that happened up to t.
 * False if a probe did not wake within timeout_s.
 */
bool probe_sync(double t, double timeout_s);
/*
 * The stalls of lateness at least min_late (s) whose span overlaps
 * [t0, t1]: their number, stalls seen on several CPUs at once merged into
 * one, and (when worst is not NULL) the worst lateness, 0 when none.
 */
unsigned int probe_stalls(double t0, double t1, double min_late, double *worst);
/*
 * The same stalls one by one, in order of their start: the number of
 * them, *spans (free() it) holding each one's span (begin, end; merged
 * over CPUs) and worst lateness.  -1 if out of memory.
 */
struct probe_span {
	double begin, end, worst;
};
int probe_spans(double t0, double t1, double min_late, struct probe_span **spans);
/* The number of probes running, and records dropped (a full log) so far. */
unsigned int probe_threads(void);
unsigned long probe_lost(void);

#endif /* TESTS_LIB_PROBE_H */
