// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * latency.c - end-to-end latency, jitter, wake-up lateness, xruns and clock
 * accuracy of one loopback cable, both ends in one process.
 *
 *   latency -P loop:... -C loopcap:... [-p PERIOD] [-n PERIODS] [-t SECONDS]
 *           [-r RATE] [-c CHANNELS] [-R]
 *
 * The playback end keeps its buffer full with silence, one period per
 * wake-up, and about every 10 ms puts one marked frame (an impulse: left =
 * MARK, right = a sequence number) at a random place in the period.  The
 * capture end reads everything, checks every frame bit-exactly (silence or
 * the next impulse, nothing else) and timestamps each impulse's arrival as
 * the time its poll() returned.
 *
 * Bound.  An impulse written with Q frames queued ahead of it is played,
 * and captured on the same tick grid, Q frames later; the capture hands it
 * over once its period is complete, at most one capture period after that.
 * bound = (Q + capture period) / rate; excess = latency - bound; an ideal
 * device has excess <= 0, wake-up lateness is what pushes it above.
 *
 * Wake-up lateness.  After every poll() we read avail at time t: the
 * moment avail reached avail_min was t - (avail - avail_min) / rate (to
 * within one frame), and poll() returned at t_wake: lateness = t_wake - it.
 *
 * Clock.  (frames read + avail) of the capture and (frames written -
 * queued) of the playback against CLOCK_MONOTONIC from 0.5 s in to the end
 * (restarted after an xrun): error in ppm of the nominal rate.
 *
 * One key=value line on stdout.  Exit 1 if the stream is not bit-exact
 * (a frame that is neither silence nor the expected impulse, or an impulse
 * lost without an xrun to explain it), nothing arrived, or ALSA failed;
 * xruns and timings are figures, never failures.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#define MARK		((int16_t)0x4b1d)
#define SEQ_MOD		32768u		/* right channel carries seq in 1..32767 */
#define MAX_FDS		8

struct end {
	snd_pcm_t *pcm;
	const char *name;
	snd_pcm_uframes_t period, buffer;
	uint64_t frames;		/* written or read in total */
	unsigned int xruns;
	/* Clock origin and latest sample: position at time. */
	double t0, t1;
	int64_t p0, p1;
	uint64_t clock_from;		/* first frame count after the last xrun */
	bool have0;
};

struct samples {
	double *v;
	size_t n, cap;
};

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void add(struct samples *s, double v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 4096;
		s->v = realloc(s->v, s->cap * sizeof(*s->v));
		if (!s->v) {
			fprintf(stderr, "latency: out of memory\n");
			exit(2);
		}
	}
	s->v[s->n++] = v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of sorted samples, NAN when empty. */
static double pct(const struct samples *s, double p)
{
	size_t k;

	if (!s->n)
		return NAN;
	k = (size_t)ceil(p / 100.0 * (double)s->n);
	return s->v[k ? k - 1 : 0];
}

static void die_alsa(const char *what, const char *dev, int err)
{
	fprintf(stderr, "latency: %s %s: %s\n", what, dev, snd_strerror(err));
	exit(2);
}

static void setup(struct end *e, unsigned int rate, unsigned int channels,
		  snd_pcm_uframes_t period, unsigned int periods)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	unsigned int r = rate;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	e->period = period;
	e->buffer = period * periods;
	if ((err = snd_pcm_hw_params_any(e->pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(e->pcm, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(e->pcm, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(e->pcm, hw, channels)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate_near(e->pcm, hw, &r, NULL)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size(e->pcm, hw, period, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_near(e->pcm, hw, &e->buffer)) < 0 ||
	    (err = snd_pcm_hw_params(e->pcm, hw)) < 0)
		die_alsa("hw_params", e->name, err);
	if (r != rate || e->buffer != period * periods) {
		fprintf(stderr, "latency: %s gave rate %u buffer %lu, asked %u %lu\n", e->name, r,
			e->buffer, rate, period * periods);
		exit(2);
	}
	if ((err = snd_pcm_sw_params_current(e->pcm, sw)) < 0 ||
	    (err = snd_pcm_sw_params_set_avail_min(e->pcm, sw, period)) < 0 ||
	    /* Playback starts when the prefill completes, capture explicitly. */
	    (err = snd_pcm_sw_params_set_start_threshold(e->pcm, sw, e->buffer)) < 0 ||
	    (err = snd_pcm_sw_params_set_stop_threshold(e->pcm, sw, e->buffer)) < 0 ||
	    (err = snd_pcm_sw_params(e->pcm, sw)) < 0)
		die_alsa("sw_params", e->name, err);
}

static void clock_sample(struct end *e, double t, int64_t pos, double t_begin)
{
	if (t < t_begin + 0.5 || e->frames < e->clock_from)
		return;
	if (!e->have0) {
		e->t0 = t;
		e->p0 = pos;
		e->have0 = true;
	}
	e->t1 = t;
	e->p1 = pos;
}

static double clock_ppm(const struct end *e, unsigned int rate)
{
	if (!e->have0 || e->t1 - e->t0 < 1.0)
		return NAN;
	return ((double)(e->p1 - e->p0) / ((e->t1 - e->t0) * rate) - 1.0) * 1e6;
}

static void xrun(struct end *e)
{
	int err;

	e->xruns++;
	e->have0 = false;
	e->clock_from = e->frames + 1;
	if ((err = snd_pcm_prepare(e->pcm)) < 0)
		die_alsa("prepare after xrun", e->name, err);
}

int main(int argc, char **argv)
{
	const char *pdev = NULL, *cdev = NULL;
	unsigned int rate = 48000, channels = 2, periods = 4, rt = 0;
	snd_pcm_uframes_t period = 64;
	double seconds = 10, t_begin, t_end;
	struct end play = { 0 }, cap = { 0 };
	struct samples lat = { 0 }, excess = { 0 }, bound = { 0 }, wake = { 0 };
	/* Per sequence number: when it was written and what was queued ahead. */
	static double w_time[SEQ_MOD];
	static int64_t w_ahead[SEQ_MOD];
	unsigned int next_seq = 1, expect_seq = 1, impulses = 0, received = 0, lost = 0;
	unsigned int corrupt = 0;
	bool resync = true;
	uint64_t next_impulse;
	int16_t *pbuf, *cbuf;
	int opt, err;

	while ((opt = getopt(argc, argv, "P:C:p:n:t:r:c:R")) != -1) {
		switch (opt) {
		case 'P': pdev = optarg; break;
		case 'C': cdev = optarg; break;
		case 'p': period = strtoul(optarg, NULL, 0); break;
		case 'n': periods = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'r': rate = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'c': channels = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'R': rt = 1; break;
		default:
			fprintf(stderr, "usage: latency -P PLAYDEV -C CAPDEV [-p PERIOD] [-n PERIODS] "
				"[-t SECONDS] [-r RATE] [-c CHANNELS] [-R]\n");
			return 2;
		}
	}
	if (!pdev || !cdev || !period || periods < 2 || channels < 2 || seconds <= 0) {
		fprintf(stderr, "latency: need -P and -C, PERIOD > 0, PERIODS >= 2, CHANNELS >= 2\n");
		return 2;
	}
	/* A hung stream must not hang the benchmark. */
	alarm((unsigned int)seconds + 30);
	if (rt) {
		/* What a low-latency client does; the figure says whether we got it. */
		struct sched_param sp = { .sched_priority = 40 };

		if (sched_setscheduler(0, SCHED_FIFO, &sp) < 0)
			rt = 0;
		mlockall(MCL_CURRENT | MCL_FUTURE);
	}

	/* Capture first: it is the end that must not miss the start. */
	cap.name = cdev;
	play.name = pdev;
	if ((err = snd_pcm_open(&cap.pcm, cdev, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK)) < 0)
		die_alsa("open", cdev, err);
	if ((err = snd_pcm_open(&play.pcm, pdev, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK)) < 0)
		die_alsa("open", pdev, err);
	setup(&cap, rate, channels, period, periods);
	setup(&play, rate, channels, period, periods);
	pbuf = calloc(play.buffer, channels * sizeof(int16_t));
	cbuf = calloc(cap.buffer, channels * sizeof(int16_t));
	if (!pbuf || !cbuf)
		return 2;
	srand(1);
	/* An impulse about every 10 ms, at least one period apart. */
	next_impulse = play.buffer + rate / 100;

	if ((err = snd_pcm_prepare(cap.pcm)) < 0 || (err = snd_pcm_start(cap.pcm)) < 0)
		die_alsa("start", cdev, err);
	t_begin = now_s();
	t_end = t_begin + seconds;

	while (now_s() < t_end) {
		struct pollfd pfd[MAX_FDS];
		unsigned short prev = 0, crev = 0;
		int np, nc;
		double t_wake;

		np = snd_pcm_poll_descriptors(play.pcm, pfd, MAX_FDS / 2);
		nc = snd_pcm_poll_descriptors(cap.pcm, pfd + np, MAX_FDS / 2);
		if (np <= 0 || nc <= 0)
			die_alsa("poll_descriptors", pdev, np <= 0 ? np : nc);
		if (poll(pfd, (nfds_t)(np + nc), 1000) < 0) {
			if (errno == EINTR)
				continue;
			perror("latency: poll");
			return 2;
		}
		t_wake = now_s();
		snd_pcm_poll_descriptors_revents(play.pcm, pfd, (unsigned int)np, &prev);
		snd_pcm_poll_descriptors_revents(cap.pcm, pfd + np, (unsigned int)nc, &crev);

		/* Capture: read all, check every frame. */
		for (;;) {
			double t = now_s();
			snd_pcm_sframes_t avail = snd_pcm_avail(cap.pcm), got;

			if (avail == -EPIPE) {
				xrun(&cap);
				resync = true;
				if ((err = snd_pcm_start(cap.pcm)) < 0)
					die_alsa("restart", cdev, err);
				break;
			}
			if (avail < 0)
				die_alsa("avail", cdev, (int)avail);
			clock_sample(&cap, t, (int64_t)(cap.frames + (uint64_t)avail), t_begin);
			if ((crev & POLLIN) && avail >= (snd_pcm_sframes_t)cap.period) {
				add(&wake, (t_wake - (t - (double)(avail - (snd_pcm_sframes_t)cap.period) /
						      rate)) * 1e6);
				crev = 0;
			}
			if (avail < (snd_pcm_sframes_t)cap.period)
				break;
			got = snd_pcm_readi(cap.pcm, cbuf, (snd_pcm_uframes_t)avail);
			if (got == -EPIPE) {
				xrun(&cap);
				resync = true;
				snd_pcm_start(cap.pcm);
				break;
			}
			if (got < 0)
				die_alsa("read", cdev, (int)got);
			for (snd_pcm_sframes_t f = 0; f < got; f++) {
				const int16_t *fr = cbuf + (size_t)f * channels;
				bool silent = true;
				unsigned int seq;

				for (unsigned int ch = 0; ch < channels; ch++)
					silent &= fr[ch] == 0;
				if (silent)
					continue;
				seq = (uint16_t)fr[1];
				for (unsigned int ch = 2; ch < channels; ch++)
					if (fr[ch])
						seq = 0;	/* impulses have zeros there */
				if (fr[0] != MARK || !seq || seq >= SEQ_MOD ||
				    (!resync && seq != expect_seq)) {
					/* Anything else is corruption, unless a gap. */
					if (fr[0] == MARK && seq && seq < SEQ_MOD &&
					    (seq + SEQ_MOD - 1 - expect_seq) % (SEQ_MOD - 1) < 1000) {
						lost += (seq + SEQ_MOD - 1 - expect_seq) %
							(SEQ_MOD - 1);
					} else {
						if (corrupt < 5)
							fprintf(stderr, "latency: frame %llu is %d,%d "
								"(expected silence or impulse %u)\n",
								(unsigned long long)(cap.frames + f),
								fr[0], fr[1], expect_seq);
						corrupt++;
						continue;
					}
				}
				resync = false;
				received++;
				{
					double l = t_wake - w_time[seq];
					double b = (double)(w_ahead[seq] + (int64_t)cap.period) / rate;

					add(&lat, l * 1e6);
					add(&bound, b * 1e6);
					add(&excess, (l - b) * 1e6);
				}
				expect_seq = seq % (SEQ_MOD - 1) + 1;
			}
			cap.frames += (uint64_t)got;
		}

		/* Playback: top the buffer up one period at a time. */
		for (;;) {
			double t = now_s();
			snd_pcm_sframes_t avail = snd_pcm_avail(play.pcm), put;
			snd_pcm_state_t st = snd_pcm_state(play.pcm);
			int64_t queued;

			if (avail == -EPIPE) {
				xrun(&play);
				continue;	/* prefill again */
			}
			if (avail < 0)
				die_alsa("avail", pdev, (int)avail);
			queued = (int64_t)play.buffer - avail;
			if (st == SND_PCM_STATE_RUNNING) {
				clock_sample(&play, t, (int64_t)play.frames - queued, t_begin);
				if ((prev & POLLOUT) && avail >= (snd_pcm_sframes_t)play.period) {
					add(&wake, (t_wake - (t - (double)(avail -
						(snd_pcm_sframes_t)play.period) / rate)) * 1e6);
					prev = 0;
				}
			}
			if (avail < (snd_pcm_sframes_t)play.period)
				break;
			memset(pbuf, 0, play.period * channels * sizeof(int16_t));
			if (st == SND_PCM_STATE_RUNNING &&
			    play.frames + play.period > next_impulse) {
				unsigned int k = (unsigned int)rand() % (unsigned int)play.period;

				pbuf[(size_t)k * channels] = MARK;
				pbuf[(size_t)k * channels + 1] = (int16_t)next_seq;
				w_time[next_seq] = now_s();
				w_ahead[next_seq] = queued + k;
				next_seq = next_seq % (SEQ_MOD - 1) + 1;
				impulses++;
				next_impulse = play.frames + play.period + rate / 100;
			}
			put = snd_pcm_writei(play.pcm, pbuf, play.period);
			if (put == -EPIPE) {
				xrun(&play);
				resync = true;
				continue;
			}
			if (put < 0)
				die_alsa("write", pdev, (int)put);
			if (put != (snd_pcm_sframes_t)play.period) {
				fprintf(stderr, "latency: short write %ld of %lu\n", put, play.period);
				return 2;
			}
			play.frames += play.period;
		}
	}

	qsort(lat.v, lat.n, sizeof(double), cmp_double);
	qsort(excess.v, excess.n, sizeof(double), cmp_double);
	qsort(bound.v, bound.n, sizeof(double), cmp_double);
	qsort(wake.v, wake.n, sizeof(double), cmp_double);
	/* Impulses still in flight at the end are not lost. */
	{
		unsigned int in_flight = impulses - received - lost;

		if (in_flight > play.buffer / (rate / 100) + cap.buffer / (rate / 100) + 2)
			lost += in_flight;
	}
	printf("period=%lu periods=%u seconds=%.0f rt=%u impulses=%u received=%u lost=%u "
	       "corrupt=%u play_xruns=%u cap_xruns=%u "
	       "lat_p50_us=%.0f lat_p99_us=%.0f lat_max_us=%.0f bound_p50_us=%.0f "
	       "excess_p50_us=%.0f excess_p99_us=%.0f excess_max_us=%.0f "
	       "wake_p50_us=%.0f wake_p99_us=%.0f wake_max_us=%.0f "
	       "play_ppm=%.2f cap_ppm=%.2f\n",
	       period, periods, seconds, rt, impulses, received, lost, corrupt, play.xruns,
	       cap.xruns, pct(&lat, 50), pct(&lat, 99), pct(&lat, 100), pct(&bound, 50),
	       pct(&excess, 50), pct(&excess, 99), pct(&excess, 100), pct(&wake, 50),
	       pct(&wake, 99), pct(&wake, 100), clock_ppm(&play, rate), clock_ppm(&cap, rate));
	snd_pcm_close(play.pcm);
	snd_pcm_close(cap.pcm);
	snd_config_update_free_global();
	free(pbuf);
	free(cbuf);
	if (corrupt || !received || (lost && !play.xruns && !cap.xruns)) {
		fprintf(stderr, "latency: stream not bit-exact: %u corrupt frames, %u of %u "
			"impulses lost, %u received, no xrun to explain it\n", corrupt, lost,
			impulses, received);
		return 1;
	}
	return 0;
}
