// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-poll.c - poll returns per period, for every way a client waits.
 *
 * The kernel's snd_pcm_poll() says a stream is ready when avail >=
 * avail_min (or it needs attention: xrun, drained, stopped), and not
 * otherwise; a period-driven client therefore wakes once per period and
 * finds a period to move every time.  Our poll descriptor must behave so
 * for every combination of
 *
 *	direction (playback, capture)
 *	x access (RW or MMAP, interleaved or not)
 *	x clock (realtime, shared, lossless)
 *	x client loop (below),
 *
 * whether or not the client asks snd_pcm_poll_descriptors_revents().  The
 * client loops:
 *
 *	nb+revents  non-blocking; poll(), revents, then transfer until -EAGAIN
 *	nb          non-blocking; poll(), then transfer until -EAGAIN, no revents
 *	nb1+revents non-blocking; poll(), revents, then transfer avail frames once
 *	bl+revents  blocking; poll(), revents, then transfer avail frames once
 *	bl          blocking; poll(), then transfer avail frames once, no revents
 *		    (mmap: avail_update, mmap_begin, mmap_commit, poll: no call
 *		    into the plugin between the commit and the next poll)
 *	wait        blocking; one period per call, alsa-lib waits (aplay/arecord,
 *		    with -M: snd_pcm_mmap_readi/writei)
 *
 * Each combination runs in a child process for POLL_SECONDS (default 1 s
 * after a 0.25 s warm-up), period 480, buffer 1920 at 48 kHz, and counts,
 * over the measured part: poll() returns (every one, also alsa-lib's own
 * waits: this program interposes poll() and __poll_chk()), empty returns
 * (the client found nothing to do: revents 0, or no frame moved), transfer
 * calls, frames moved and the CPU it used (getrusage).  A lossless end
 * needs its other end: a second child moves one period every period time.
 *
 * The assertions are counts, not timings, so a loaded machine cannot fail
 * them: a late wake-up finds more than a period, which is still one
 * return.  Per combination:
 *	poll returns <= 1.1 per period (+2, +3 per xrun and its recovery);
 *	empty returns <= 5 % of the returns (+2);
 *	CPU per period <= 10 % of the period's duration (50-150 us are
 *	usual; a client that polls in a loop uses all of a CPU it gets);
 *	the stream ran: at least half the nominal frames moved.
 * Before this program, a non-blocking MMAP capture that polls and reads
 * until -EAGAIN without revents made ~500,000 poll returns per second.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RATE		48000
#define CHANNELS	2
#define PERIOD		480
#define BUFFER		1920
#define WARMUP_S	0.25
#define JOBS_DEFAULT	10

enum clock_kind { CK_REALTIME, CK_SHARED, CK_LOSSLESS };
enum style { ST_NB_REVENTS, ST_NB, ST_NB1_REVENTS, ST_BL_REVENTS, ST_BL, ST_WAIT, ST_COUNT };

static const char *const clock_names[] = { "realtime", "shared", "lossless" };
static const char *const style_names[] = {
	"nb+revents", "nb", "nb1+revents", "bl+revents", "bl", "wait",
};

static bool nonblocking(enum style st)
{
	return st == ST_NB_REVENTS || st == ST_NB || st == ST_NB1_REVENTS;
}

static bool asks_revents(enum style st)
{
	return st == ST_NB_REVENTS || st == ST_NB1_REVENTS || st == ST_BL_REVENTS;
}
static const snd_pcm_access_t accesses[] = {
	SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_ACCESS_RW_NONINTERLEAVED,
	SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
};
static const char *const access_names[] = { "rw-i", "rw-n", "mmap-i", "mmap-n" };
#define NACCESS (sizeof(accesses) / sizeof(accesses[0]))

/* What one combination measured (written by its child into shared memory). */
struct result {
	int done;		/* 1: the child got through its run */
	char why[160];		/* set up or run error, if any */
	unsigned long polls;	/* poll() returns > 0 */
	unsigned long timeouts;	/* poll() returns 0 */
	unsigned long empty;	/* returns that found nothing to do */
	unsigned long transfers;
	unsigned long xruns;
	unsigned long frames;
	double cpu_s, seconds;
};

/* ---- counting every poll() of this process ------------------------------------ */

static unsigned long n_polls, n_timeouts;

static int counted_poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	struct timespec ts, *tp = NULL;
	int r;

	if (timeout >= 0) {
		ts.tv_sec = timeout / 1000;
		ts.tv_nsec = (long)(timeout % 1000) * 1000000;
		tp = &ts;
	}
	r = ppoll(fds, nfds, tp, NULL);
	if (r > 0)
		n_polls++;
	else if (r == 0)
		n_timeouts++;
	return r;
}

/*
 * alsa-lib's waits (snd_pcm_wait_nocheck) call poll() or, fortified,
 * __poll_chk(): both resolve to these, as the program's own calls do.
 */
int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	return counted_poll(fds, nfds, timeout);
}

int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < nfds)
		abort();
	return counted_poll(fds, nfds, timeout);
}

/* ---- one end ------------------------------------------------------------------- */

static double cpu_now(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static int open_end(snd_pcm_t **pcm, enum clock_kind ck, unsigned int sub, bool play,
		    int mode)
{
	return h_openf(pcm, play ? SND_PCM_STREAM_PLAYBACK : SND_PCM_STREAM_CAPTURE, mode,
		       "type loopback card \"%s\" subdevice %u device %u%s", h_card, sub,
		       play ? 0 : 1, ck == CK_SHARED ? " shared true" :
		       ck == CK_LOSSLESS ? " clock lossless" : "");
}

static void params_of(struct h_params *p, snd_pcm_access_t access)
{
	h_params_init(p, SND_PCM_FORMAT_S16_LE, RATE, CHANNELS, 40);
	p->access = access;
	p->buffer = BUFFER;
	p->period = PERIOD;
}

/* The buffers every transfer uses (silence: the content is not the point). */
static int16_t ibuf[BUFFER * CHANNELS];
static int16_t nbuf[CHANNELS][BUFFER];

/*
 * One period through the blocking calls that wait inside alsa-lib, as
 * aplay and arecord (-M: the mmap ones) do.
 */
static snd_pcm_sframes_t xfer_wait(snd_pcm_t *pcm, const struct h_params *p, bool play)
{
	void *bufs[CHANNELS] = { nbuf[0], nbuf[1] };

	switch (p->access) {
	case SND_PCM_ACCESS_RW_INTERLEAVED:
		return play ? snd_pcm_writei(pcm, ibuf, PERIOD) : snd_pcm_readi(pcm, ibuf, PERIOD);
	case SND_PCM_ACCESS_RW_NONINTERLEAVED:
		return play ? snd_pcm_writen(pcm, bufs, PERIOD) : snd_pcm_readn(pcm, bufs, PERIOD);
	case SND_PCM_ACCESS_MMAP_INTERLEAVED:
		return play ? snd_pcm_mmap_writei(pcm, ibuf, PERIOD) :
			      snd_pcm_mmap_readi(pcm, ibuf, PERIOD);
	default:
		return play ? snd_pcm_mmap_writen(pcm, bufs, PERIOD) :
			      snd_pcm_mmap_readn(pcm, bufs, PERIOD);
	}
}

/* Up to frames frames the way a poll-driven client moves them (harness). */
static snd_pcm_sframes_t xfer(snd_pcm_t *pcm, const struct h_params *p, bool play,
			      snd_pcm_uframes_t frames)
{
	if (frames > BUFFER)
		frames = BUFFER;
	return play ? h_write(pcm, p, ibuf, frames) : h_read(pcm, p, ibuf, frames);
}

/*
 * A child that hangs is killed by its own alarm, quietly: the harness's
 * watchdog handler would remove the segments of every run.
 */
static void child_watchdog(void)
{
	signal(SIGALRM, SIG_DFL);
	alarm(30);
}

/* An xrun: recover as aplay/arecord do. */
static int recover(snd_pcm_t *pcm, bool play, struct result *r)
{
	int err;

	r->xruns++;
	err = snd_pcm_prepare(pcm);
	if (err >= 0 && !play)
		err = snd_pcm_start(pcm);
	return err;
}

/*
 * The other end of a lossless cable: one period every period time, by the
 * clock (a capture behind it, or a playback ahead, simply waits).
 */
static void lossless_peer(enum clock_kind ck, unsigned int sub, bool play)
{
	struct h_params p;
	struct timespec next;
	snd_pcm_t *pcm;

	child_watchdog();
	if (open_end(&pcm, ck, sub, play, SND_PCM_NONBLOCK) < 0)
		_exit(2);
	params_of(&p, SND_PCM_ACCESS_RW_INTERLEAVED);
	if (h_setup(pcm, &p) < 0)
		_exit(3);
	if (!play && snd_pcm_start(pcm) < 0)
		_exit(4);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (;;) {
		snd_pcm_sframes_t r = play ? snd_pcm_writei(pcm, ibuf, PERIOD) :
					     snd_pcm_readi(pcm, ibuf, PERIOD);

		if (r < 0 && r != -EAGAIN)
			break;	/* the measured end closed: -ENODEV */
		next.tv_nsec += 1000000000L / RATE * PERIOD;
		if (next.tv_nsec >= 1000000000L) {
			next.tv_nsec -= 1000000000L;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	snd_pcm_close(pcm);
	_exit(0);
}

/* The measured end: run the client loop, count, write the result. */
static void measured_end(enum clock_kind ck, unsigned int sub, bool play,
			 snd_pcm_access_t access, enum style st, double seconds,
			 struct result *res)
{
	int mode = nonblocking(st) ? SND_PCM_NONBLOCK : 0;
	struct result r = { 0 };
	struct pollfd pfd[8];
	struct h_params p;
	snd_pcm_t *pcm;
	double t0, t_measure = 0, cpu0 = 0;
	unsigned long polls0 = 0, timeouts0 = 0;
	bool measuring = false;
	int nfds, err;

	child_watchdog();
	err = open_end(&pcm, ck, sub, play, mode);
	if (err < 0) {
		snprintf(res->why, sizeof(res->why), "open: %s", snd_strerror(err));
		_exit(1);
	}
	params_of(&p, access);
	err = h_setup(pcm, &p);
	if (err < 0 || p.period != PERIOD || p.buffer != BUFFER) {
		snprintf(res->why, sizeof(res->why), "setup: %s (period %lu buffer %lu)",
			 snd_strerror(err), p.period, p.buffer);
		_exit(1);
	}
	nfds = snd_pcm_poll_descriptors(pcm, pfd, 8);
	if (nfds <= 0) {
		snprintf(res->why, sizeof(res->why), "poll descriptors: %d", nfds);
		_exit(1);
	}
	if (!play && (err = snd_pcm_start(pcm)) < 0) {
		snprintf(res->why, sizeof(res->why), "start: %s", snd_strerror(err));
		_exit(1);
	}
	t0 = h_now();
	for (;;) {
		double now = h_now();
		snd_pcm_sframes_t n, moved = 0;
		bool empty = false;

		if (!measuring && now - t0 >= WARMUP_S) {
			/* From here on it counts. */
			measuring = true;
			t_measure = now;
			cpu0 = cpu_now();
			polls0 = n_polls;
			timeouts0 = n_timeouts;
			r = (struct result){ 0 };
		}
		if (measuring && now - t_measure >= seconds)
			break;
		if (st == ST_WAIT) {
			n = xfer_wait(pcm, &p, play);
			r.transfers++;
			if (n > 0)
				r.frames += (unsigned long)n;
			else if (n == -EPIPE)
				err = recover(pcm, play, &r);
			else
				err = (int)n;
			if (n <= 0 && err < 0)
				goto fail;
			continue;
		}
		if (poll(pfd, (nfds_t)nfds, 1000) <= 0)
			continue;	/* counted as a timeout */
		if (asks_revents(st)) {
			unsigned short rev = 0;

			err = snd_pcm_poll_descriptors_revents(pcm, pfd, (unsigned int)nfds, &rev);
			if (err < 0)
				goto fail;
			if (!(rev & (POLLIN | POLLOUT | POLLERR))) {
				r.empty++;
				continue;
			}
		}
		if (st == ST_NB_REVENTS || st == ST_NB) {
			/* Until -EAGAIN. */
			do {
				n = xfer(pcm, &p, play, BUFFER);
				r.transfers++;
				if (n > 0)
					moved += n;
			} while (n > 0);
		} else {
			/* What avail says, once (a blocking call that never waits). */
			n = snd_pcm_avail_update(pcm);
			if (n > 0) {
				n = xfer(pcm, &p, play, (snd_pcm_uframes_t)n);
				r.transfers++;
				if (n > 0)
					moved = n;
			}
		}
		if (n == -EPIPE) {
			err = recover(pcm, play, &r);
			if (err < 0)
				goto fail;
		} else if (n < 0 && n != -EAGAIN) {
			err = (int)n;
			goto fail;
		} else if (!moved) {
			empty = true;
		}
		r.frames += (unsigned long)moved;
		if (empty && !asks_revents(st))
			r.empty++;
	}
	r.seconds = h_now() - t_measure;
	r.cpu_s = cpu_now() - cpu0;
	r.polls = n_polls - polls0;
	r.timeouts = n_timeouts - timeouts0;
	r.done = 1;
	*res = r;
	snd_pcm_close(pcm);
	_exit(0);
fail:
	snprintf(res->why, sizeof(res->why), "%s at %.2f s: %s", style_names[st],
		 h_now() - t0, snd_strerror(err));
	snd_pcm_close(pcm);
	_exit(1);
}

/* ---- the matrix ------------------------------------------------------------------ */

struct combo {
	enum clock_kind ck;
	bool play;
	snd_pcm_access_t access;
	const char *access_name;
	enum style st;
	struct result *res;
	pid_t pid, peer;
	unsigned int sub;
};

static double seconds_per_run(void)
{
	const char *s = getenv("POLL_SECONDS");
	double v = s ? atof(s) : 1.0;

	return v >= 0.2 && v <= 60 ? v : 1.0;
}

static unsigned int jobs(void)
{
	const char *s = getenv("POLL_JOBS");
	int v = s ? atoi(s) : JOBS_DEFAULT;

	return v >= 1 && v <= 40 ? (unsigned int)v : JOBS_DEFAULT;
}

static void start_combo(struct combo *c, double seconds)
{
	if (c->ck == CK_LOSSLESS) {
		c->peer = fork();
		if (c->peer == 0)
			lossless_peer(c->ck, c->sub, !c->play);
	}
	c->pid = fork();
	if (c->pid == 0)
		measured_end(c->ck, c->sub, c->play, c->access, c->st, seconds, c->res);
}

static void reap_combo(struct combo *c)
{
	int status;

	if (c->pid > 0)
		waitpid(c->pid, &status, 0);
	if (c->peer > 0) {
		kill(c->peer, SIGTERM);
		waitpid(c->peer, &status, 0);
	}
	c->pid = c->peer = 0;
}

static void check_combo(const struct combo *c, double seconds)
{
	const struct result *r = c->res;
	char name[96];
	double periods = (double)r->frames / PERIOD;
	double nominal = seconds * RATE / PERIOD;
	double per = periods > 0 ? (double)r->polls / periods : 0;
	double cpu_us = periods > 0 ? r->cpu_s * 1e6 / periods : 0;
	double cpu_max_us = 0.1 * 1e6 * PERIOD / RATE;

	snprintf(name, sizeof(name), "%s %s %s %s", clock_names[c->ck],
		 c->play ? "playback" : "capture", c->access_name, style_names[c->st]);
	if (!r->done) {
		CHECK(0, "%s: %s", name, r->why[0] ? r->why : "the child died");
		return;
	}
	h_note("%-36s %6.1f periods  %5.2f polls/period  %4lu empty  %5.2f transfers/period  "
	       "%6.0f us CPU/period  %lu xruns", name, periods, per, r->empty,
	       periods > 0 ? (double)r->transfers / periods : 0, cpu_us, r->xruns);
	CHECK(periods >= nominal * 0.5, "%s: moved %.1f periods in %.2f s, want about %.0f",
	      name, periods, r->seconds, nominal);
	CHECK((double)r->polls <= 1.1 * periods + 2 + 3.0 * (double)r->xruns,
	      "%s: %lu poll returns for %.1f periods (%.2f per period; %lu xruns)", name,
	      r->polls, periods, per, r->xruns);
	CHECK((double)r->empty <= 0.05 * (double)r->polls + 2,
	      "%s: %lu of %lu poll returns found nothing to do", name, r->empty, r->polls);
	CHECK(cpu_us <= cpu_max_us, "%s: %.0f us of CPU per period of %.0f us (bound %.0f)",
	      name, cpu_us, 1e6 * PERIOD / RATE, cpu_max_us);
	CHECK(r->timeouts == 0, "%s: %lu polls timed out after 1 s with a running stream",
	      name, r->timeouts);
}

/* Every access x client loop of one clock and direction, JOBS at a time. */
static void run_matrix(enum clock_kind ck, bool play)
{
	enum { N = NACCESS * ST_COUNT };
	double seconds = seconds_per_run();
	unsigned int pool = jobs(), subs[N];
	struct combo c[N];
	struct result *res;
	size_t next = 0, done = 0;

	res = mmap(NULL, sizeof(*res) * N, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		   -1, 0);
	REQUIRE(res != MAP_FAILED, "mmap");
	memset(res, 0, sizeof(*res) * N);
	/* One subdevice per place in the pool: a finished run's cable is reused. */
	for (unsigned int i = 0; i < pool && i < N; i++)
		subs[i] = h_subdev();
	for (size_t i = 0; i < N; i++) {
		c[i] = (struct combo){ .ck = ck, .play = play, .access = accesses[i / ST_COUNT],
				       .access_name = access_names[i / ST_COUNT],
				       .st = (enum style)(i % ST_COUNT), .res = &res[i] };
	}
	/* Runs i and i + pool share a subdevice: start one only when the other ended. */
	while (done < N) {
		size_t batch_end = next + pool < N ? next + pool : N;

		for (size_t i = next; i < batch_end; i++) {
			c[i].sub = subs[i - next];
			start_combo(&c[i], seconds);
		}
		for (size_t i = next; i < batch_end; i++)
			reap_combo(&c[i]);
		for (size_t i = next; i < batch_end; i++)
			check_combo(&c[i], seconds);
		done += batch_end - next;
		next = batch_end;
	}
	munmap(res, sizeof(*res) * N);
}

#define MATRIX(ck, play)					\
	static void test_##ck##_##play(void)			\
	{							\
		run_matrix(ck, play);				\
	}
MATRIX(CK_REALTIME, true)
MATRIX(CK_REALTIME, false)
MATRIX(CK_SHARED, true)
MATRIX(CK_SHARED, false)
MATRIX(CK_LOSSLESS, true)
MATRIX(CK_LOSSLESS, false)

int main(int argc, char **argv)
{
	(void)argc;
	h_init(argv[0]);
	/* 20 runs, JOBS at a time, each warm-up + POLL_SECONDS + open/close. */
	h_run("poll: realtime capture, every access and client loop", test_CK_REALTIME_false,
	      60);
	h_run("poll: realtime playback, every access and client loop", test_CK_REALTIME_true,
	      60);
	h_run("poll: shared capture, every access and client loop", test_CK_SHARED_false, 60);
	h_run("poll: shared playback, every access and client loop", test_CK_SHARED_true, 60);
	h_run("poll: lossless capture, every access and client loop", test_CK_LOSSLESS_false,
	      60);
	h_run("poll: lossless playback, every access and client loop", test_CK_LOSSLESS_true,
	      60);
	return h_finish();
}
