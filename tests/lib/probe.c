// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * probe.c - the wake-up lateness probe (see probe.h).
 */
#define _GNU_SOURCE
#include "probe.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/*
 * A log holds 64 Ki stalls per probe: a minute of every wake-up late at
 * 1 kHz.  Beyond that stalls are counted as lost (probe_lost()), and a
 * case may then blame the plugin for one of them: it says so.
 */
#define LOG_SIZE (1u << 16)

struct stall {
	double end;	/* when the probe woke */
	double late;	/* how late: the stall began at end - late */
};

struct probe {
	pthread_t tid;
	struct stall *log;
	unsigned int n;		/* records published (release store) */
	unsigned long lost;
	int64_t woke_ns;	/* last wake-up (release store) */
};

static struct probe probes[PROBE_MAX_CPUS];
static unsigned int nprobes;
static int64_t period_ns, record_ns;
static int stop;

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static struct timespec to_ts(int64_t ns)
{
	return (struct timespec){ .tv_sec = ns / 1000000000, .tv_nsec = ns % 1000000000 };
}

static void *probe_main(void *arg)
{
	struct probe *p = arg;
	int64_t next = mono_ns();

	while (!__atomic_load_n(&stop, __ATOMIC_ACQUIRE)) {
		struct timespec ts;
		int64_t now, late;

		next += period_ns;
		ts = to_ts(next);
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
			;
		now = mono_ns();
		late = now - next;
		if (late > record_ns) {
			unsigned int n = p->n;

			if (n < LOG_SIZE) {
				p->log[n].end = (double)now / 1e9;
				p->log[n].late = (double)late / 1e9;
				__atomic_store_n(&p->n, n + 1, __ATOMIC_RELEASE);
			} else {
				__atomic_add_fetch(&p->lost, 1, __ATOMIC_RELAXED);
			}
		}
		/* One stall is one record: the deadlines it covered are gone. */
		if (late >= period_ns)
			next = now;
		__atomic_store_n(&p->woke_ns, now, __ATOMIC_RELEASE);
	}
	return NULL;
}

/* The caller's policy, one priority above it when that is a real-time one. */
static void probe_sched(int *policy, struct sched_param *sp)
{
	if (pthread_getschedparam(pthread_self(), policy, sp)) {
		*policy = SCHED_OTHER;
		sp->sched_priority = 0;
	}
	if ((*policy == SCHED_FIFO || *policy == SCHED_RR) &&
	    sp->sched_priority < sched_get_priority_max(*policy))
		sp->sched_priority++;
}

static int start_one(struct probe *p, int cpu, int policy, const struct sched_param *sp)
{
	pthread_attr_t attr;
	cpu_set_t one;
	int err;

	CPU_ZERO(&one);
	CPU_SET(cpu, &one);
	pthread_attr_init(&attr);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, policy);
	pthread_attr_setschedparam(&attr, sp);
	pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
	p->woke_ns = mono_ns();
	err = pthread_create(&p->tid, &attr, probe_main, p);
	pthread_attr_destroy(&attr);
	return err;
}

int probe_start(unsigned int period_us, unsigned int record_us)
{
	struct sched_param sp;
	cpu_set_t cpus;
	int policy, err = ENOMEM;

	if (nprobes)
		return -EBUSY;
	period_ns = (int64_t)period_us * 1000;
	record_ns = (int64_t)record_us * 1000;
	stop = 0;
	if (sched_getaffinity(0, sizeof(cpus), &cpus) < 0)
		return -errno;
	probe_sched(&policy, &sp);
	for (int cpu = 0; cpu < CPU_SETSIZE && nprobes < PROBE_MAX_CPUS; cpu++) {
		struct probe *p = &probes[nprobes];

		if (!CPU_ISSET(cpu, &cpus))
			continue;
		memset(p, 0, sizeof(*p));
		p->log = malloc(LOG_SIZE * sizeof(*p->log));
		if (!p->log)
			break;
		err = start_one(p, cpu, policy, &sp);
		/* A limit (RLIMIT_RTPRIO) may allow the caller's priority only. */
		if (err == EPERM && policy != SCHED_OTHER) {
			struct sched_param same = { .sched_priority = sp.sched_priority - 1 };

			err = start_one(p, cpu, policy, &same);
		}
		if (err) {
			free(p->log);
			break;
		}
		nprobes++;
	}
	return nprobes ? 0 : -err;
}

void probe_stop(void)
{
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < nprobes; i++) {
		pthread_join(probes[i].tid, NULL);
		free(probes[i].log);
		probes[i].log = NULL;
	}
	nprobes = 0;
}

bool probe_sync(double t, double timeout_s)
{
	int64_t want = (int64_t)(t * 1e9);
	double until = (double)mono_ns() / 1e9 + timeout_s;

	for (unsigned int i = 0; i < nprobes; i++) {
		while (__atomic_load_n(&probes[i].woke_ns, __ATOMIC_ACQUIRE) <= want) {
			struct timespec ts = { .tv_nsec = 200000 };

			if ((double)mono_ns() / 1e9 > until)
				return false;
			nanosleep(&ts, NULL);
		}
	}
	return true;
}

static int cmp_begin(const void *a, const void *b)
{
	const struct stall *x = a, *y = b;
	double bx = x->end - x->late, by = y->end - y->late;

	return (bx > by) - (bx < by);
}

/*
 * The stalls of lateness at least min_late whose span overlaps [t0, t1],
 * spans that overlap (a host stalling both vCPUs) merged into one, in
 * order: their number, or -1 (no memory).  *out is malloc'ed.
 */
static int collect(double t0, double t1, double min_late, struct probe_span **out)
{
	unsigned int total = 0, k = 0;
	struct stall *hit;
	struct probe_span *span;
	int count = 0;

	for (unsigned int i = 0; i < nprobes; i++)
		total += __atomic_load_n(&probes[i].n, __ATOMIC_ACQUIRE);
	hit = malloc((total ? total : 1) * sizeof(*hit));
	span = malloc((total ? total : 1) * sizeof(*span));
	if (!hit || !span) {
		free(hit);
		free(span);
		return -1;
	}
	for (unsigned int i = 0; i < nprobes; i++) {
		unsigned int n = __atomic_load_n(&probes[i].n, __ATOMIC_ACQUIRE);

		for (unsigned int j = 0; j < n && k < total; j++) {
			const struct stall *s = &probes[i].log[j];

			if (s->late >= min_late && s->end >= t0 && s->end - s->late <= t1)
				hit[k++] = *s;
		}
	}
	qsort(hit, k, sizeof(*hit), cmp_begin);
	for (unsigned int j = 0; j < k; j++) {
		double begin = hit[j].end - hit[j].late;

		if (!count || begin > span[count - 1].end) {
			span[count++] = (struct probe_span){ begin, hit[j].end, hit[j].late };
			continue;
		}
		if (hit[j].end > span[count - 1].end)
			span[count - 1].end = hit[j].end;
		if (hit[j].late > span[count - 1].worst)
			span[count - 1].worst = hit[j].late;
	}
	free(hit);
	*out = span;
	return count;
}

unsigned int probe_stalls(double t0, double t1, double min_late, double *worst)
{
	struct probe_span *span;
	int n = collect(t0, t1, min_late, &span);
	double w = 0;

	if (n < 0)
		return 0;
	for (int i = 0; i < n; i++)
		if (span[i].worst > w)
			w = span[i].worst;
	free(span);
	if (worst)
		*worst = w;
	return (unsigned int)n;
}

int probe_spans(double t0, double t1, double min_late, struct probe_span **spans)
{
	return collect(t0, t1, min_late, spans);
}

unsigned int probe_threads(void)
{
	return nprobes;
}

unsigned long probe_lost(void)
{
	unsigned long lost = 0;

	for (unsigned int i = 0; i < nprobes; i++)
		lost += __atomic_load_n(&probes[i].lost, __ATOMIC_RELAXED);
	return lost;
}
