// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * stallwatch - the wake-up lateness probe (probe.h) as a program of its
 * own, for the shell tests whose clients (Chromium, PortAudio, Snapcast)
 * run in processes a test cannot put a probe thread into.
 *
 *   stallwatch OUT [SECONDS]
 *	Watch until SIGTERM, SIGINT or SIGHUP, or SECONDS (default 120) at
 *	most, then exit 0.  OUT gets, CLOCK_MONOTONIC seconds:
 *	  begin T          at once, when the probes run (wait for it)
 *	  stall B L        at the end, one line per stall, in order: the
 *	                   probes did not run from B for L ms (their worst
 *	                   lateness; stalls on several CPUs at once merged)
 *	  end T            last: the watch covered begin..end
 *	A file without "end" is a watch that was killed: it says nothing.
 *   stallwatch now
 *	Print CLOCK_MONOTONIC seconds.
 *
 * The probes take this program's scheduling: run it as the clients run
 * (SCHED_OTHER, nice 0, as the tests start them) and it sees what delays
 * them, a host that did not run the vCPU or other jobs holding the CPUs.
 * Every wake-up 1 ms or more late is a stall: a deadline each ms, so a
 * stall of length L shows as a lateness of at least L - 1 ms.  Exit 2 on
 * usage or I/O errors, or when no probe could start.
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PERIOD_US 1000
#define RECORD_US 1000

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static int watch(const char *out, double secs)
{
	struct timespec limit = { .tv_sec = (time_t)secs };
	struct probe_span *span;
	double begin, end;
	sigset_t set;
	FILE *f;
	unsigned long lost;
	int n, err;

	/* The signals wait in sigtimedwait: block them before any thread. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	err = probe_start(PERIOD_US, RECORD_US);
	if (err) {
		fprintf(stderr, "stallwatch: no probe started: %s\n", strerror(-err));
		return 2;
	}
	begin = now_s();
	f = fopen(out, "w");
	if (!f || fprintf(f, "begin %.6f\n", begin) < 0 || fflush(f)) {
		fprintf(stderr, "stallwatch: cannot write %s\n", out);
		return 2;
	}
	while (sigtimedwait(&set, NULL, &limit) < 0 && errno == EINTR)
		;
	end = now_s();
	/* A stall that ended by now is logged once every probe woke after it. */
	if (!probe_sync(end, 1.0))
		fprintf(stderr, "stallwatch: a probe did not wake within 1 s\n");
	n = probe_spans(begin, end, RECORD_US / 1e6, &span);
	for (int i = 0; i < n; i++)
		fprintf(f, "stall %.6f %.2f\n", span[i].begin, span[i].worst * 1e3);
	if (n > 0)
		free(span);
	lost = probe_lost();
	if (lost)
		fprintf(stderr, "stallwatch: %lu late wake-ups not logged (log full)\n", lost);
	probe_stop();
	/* Without "end" the file says nothing: not all stalls were seen. */
	if (n < 0 || lost || fprintf(f, "end %.6f\n", end) < 0 || fclose(f)) {
		fprintf(stderr, "stallwatch: cannot write %s\n", out);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "now")) {
		printf("%.6f\n", now_s());
		return 0;
	}
	if (argc == 2 || argc == 3)
		return watch(argv[1], argc == 3 ? atof(argv[2]) : 120);
	fprintf(stderr, "usage: stallwatch OUT [SECONDS] | stallwatch now\n");
	return 2;
}
