// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-pcm-data.c - what goes into one end comes out of the other, bit for
 * bit, and nowhere else.
 *
 * Round trips run many cables at once (each on its own subdevice) from one
 * poll() loop, so the whole format x access matrix costs a few seconds of
 * real time.  Each capture is started first, then the playback queues a
 * pattern; the capture must be: silence, exactly the pattern, silence.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm_layout.h"

static const snd_pcm_format_t formats[] = {
	SND_PCM_FORMAT_S8, SND_PCM_FORMAT_U8,
	SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S16_BE,
	SND_PCM_FORMAT_U16_LE, SND_PCM_FORMAT_U16_BE,
	SND_PCM_FORMAT_S24_LE, SND_PCM_FORMAT_S24_BE,
	SND_PCM_FORMAT_U24_LE, SND_PCM_FORMAT_U24_BE,
	SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S32_BE,
	SND_PCM_FORMAT_U32_LE, SND_PCM_FORMAT_U32_BE,
	SND_PCM_FORMAT_FLOAT_LE, SND_PCM_FORMAT_FLOAT_BE,
	SND_PCM_FORMAT_FLOAT64_LE, SND_PCM_FORMAT_FLOAT64_BE,
	SND_PCM_FORMAT_MU_LAW, SND_PCM_FORMAT_A_LAW,
	SND_PCM_FORMAT_S24_3LE, SND_PCM_FORMAT_S24_3BE,
	SND_PCM_FORMAT_U24_3LE, SND_PCM_FORMAT_U24_3BE,
	SND_PCM_FORMAT_S20_3LE, SND_PCM_FORMAT_S20_3BE,
	SND_PCM_FORMAT_S18_3LE, SND_PCM_FORMAT_S18_3BE,
};
#define N_FORMATS (sizeof(formats) / sizeof(formats[0]))

static const snd_pcm_access_t accesses[] = {
	SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_ACCESS_RW_NONINTERLEAVED,
	SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
};
static const char *const access_names[] = { "rw-i", "rw-n", "mmap-i", "mmap-n" };

static const unsigned int channel_counts[] = { 1, 2, 7, 32 };
static const unsigned int rates[] = { 8000, 44100, 48000, 192000, 768000 };

#define PATTERN_FRAMES	3000	/* "a few thousand" */
#define BATCH		28	/* cables pumped at once */

/* ---- one cable's round trip ------------------------------------------------ */

struct job {
	char label[160];
	snd_pcm_t *play, *cap;		/* play may be NULL: a pure listener */
	struct h_params pp, cp;
	uint8_t *pat;			/* in the playback's format */
	size_t pat_frames, pat_off;
	uint8_t *expect;		/* in the capture's format (== pat when raw) */
	uint8_t *capbuf;
	size_t cap_alloc, cap_got, cap_target;
	size_t listen_frames;		/* listener: capture this many */
	bool play_done, cap_done;
	int err;
	const char *err_where;
};

static void job_free(struct job *j)
{
	if (j->play)
		snd_pcm_close(j->play);
	if (j->cap)
		snd_pcm_close(j->cap);
	if (j->expect != j->pat)
		free(j->expect);
	free(j->pat);
	free(j->capbuf);
	memset(j, 0, sizeof(*j));
}

/* Capture room for lead + pattern + tail at the capture's rate, generously. */
static void job_alloc_capture(struct job *j, double seconds)
{
	j->cap_alloc = (size_t)(j->cp.rate * seconds) + 65536;
	j->capbuf = malloc(j->cap_alloc * h_frame_bytes(j->cp.format, j->cp.channels));
}

/* Open and configure both ends (capture first, as the tests want). */
static int job_open(struct job *j, const char *card, unsigned int sub, unsigned int play_dev)
{
	int err;

	err = h_open_end(&j->cap, card, sub, play_dev ^ 1, SND_PCM_STREAM_CAPTURE,
			 SND_PCM_NONBLOCK);
	if (err < 0) {
		j->err_where = "open capture";
		return j->err = err;
	}
	err = h_setup(j->cap, &j->cp);
	if (err < 0) {
		j->err_where = "setup capture";
		return j->err = err;
	}
	err = h_open_end(&j->play, card, sub, play_dev, SND_PCM_STREAM_PLAYBACK,
			 SND_PCM_NONBLOCK);
	if (err < 0) {
		j->err_where = "open playback";
		return j->err = err;
	}
	err = h_setup(j->play, &j->pp);
	if (err < 0) {
		j->err_where = "setup playback";
		return j->err = err;
	}
	return 0;
}

/* Pattern of up to want frames that fits the playback buffer (no underrun). */
static void job_pattern(struct job *j, size_t want, uint32_t seed)
{
	j->pat_frames = want < j->pp.buffer ? want : j->pp.buffer;
	j->pat = malloc(j->pat_frames * h_frame_bytes(j->pp.format, j->pp.channels));
	h_pattern(j->pat, j->pp.format, j->pp.channels, j->pat_frames, seed);
	j->expect = j->pat;
	job_alloc_capture(j, (double)j->pat_frames / j->pp.rate + 1.0);
}

static void fill_pollfds(snd_pcm_t *pcm, struct pollfd *pfd, unsigned int *n)
{
	int c = snd_pcm_poll_descriptors(pcm, pfd + *n, 4);

	if (c > 0)
		*n += (unsigned int)c;
}

/* Consume the PCM's wake-up (revents) if its descriptors fired. */
static void consume(snd_pcm_t *pcm, struct pollfd *pfd, unsigned int n)
{
	unsigned short rev;
	bool fired = false;

	for (unsigned int i = 0; i < n; i++)
		fired |= pfd[i].revents != 0;
	if (fired)
		snd_pcm_poll_descriptors_revents(pcm, pfd, n, &rev);
}

static void job_fail(struct job *j, const char *where, int err)
{
	if (!j->err) {
		j->err = err ? err : -EIO;
		j->err_where = where;
	}
	j->play_done = j->cap_done = true;
}

static void job_read(struct job *j)
{
	size_t fb = h_frame_bytes(j->cp.format, j->cp.channels);

	while (!j->cap_done) {
		size_t want = j->cap_alloc - j->cap_got;
		snd_pcm_sframes_t r;

		if (j->cap_target && j->cap_target - j->cap_got < want)
			want = j->cap_target - j->cap_got;
		if (!want) {
			j->cap_done = true;
			break;
		}
		r = h_read(j->cap, &j->cp, j->capbuf + j->cap_got * fb, want);
		if (r == -EAGAIN || r == 0)
			break;
		if (r < 0) {
			job_fail(j, "capture read", (int)r);
			break;
		}
		j->cap_got += (size_t)r;
	}
}

/* After the playback ran dry: capture up to "now" plus a tail of silence. */
static void job_set_target(struct job *j)
{
	snd_pcm_sframes_t avail = snd_pcm_avail_update(j->cap);

	if (avail < 0) {
		job_fail(j, "capture avail after playback end", (int)avail);
		return;
	}
	j->cap_target = j->cap_got + (size_t)avail + j->cp.rate / 50 + 16;
	if (j->cap_target > j->cap_alloc)
		j->cap_target = j->cap_alloc;
}

static void job_write(struct job *j)
{
	size_t fb = h_frame_bytes(j->pp.format, j->pp.channels);

	while (j->pat_off < j->pat_frames) {
		snd_pcm_sframes_t r = h_write(j->play, &j->pp, j->pat + j->pat_off * fb,
					      j->pat_frames - j->pat_off);

		if (r == -EAGAIN || r == 0)
			return;
		if (r < 0) {
			job_fail(j, "playback write", (int)r);
			return;
		}
		j->pat_off += (size_t)r;
	}
}

static void job_check_play_end(struct job *j)
{
	snd_pcm_sframes_t avail;

	if (j->play_done || j->pat_off < j->pat_frames)
		return;
	if (snd_pcm_state(j->play) == SND_PCM_STATE_PREPARED) {
		int err = snd_pcm_start(j->play);

		if (err < 0)
			job_fail(j, "playback start", err);
		return;
	}
	/* The stream runs dry after the pattern: that underrun is its end. */
	avail = snd_pcm_avail_update(j->play);
	if (avail == -EPIPE || snd_pcm_state(j->play) == SND_PCM_STATE_XRUN) {
		j->play_done = true;
		job_set_target(j);
	} else if (avail < 0) {
		job_fail(j, "playback avail", (int)avail);
	}
}

/* Drive all jobs to completion from one poll() loop. */
static void run_jobs(struct job *jobs, size_t n, double max_s)
{
	struct pollfd *pfd = calloc(n * 8 + 1, sizeof(*pfd));
	unsigned int *first = calloc(n * 2 + 1, sizeof(*first));
	double deadline;

	/* Captures first, then a short gap so the leading silence is real. */
	for (size_t i = 0; i < n; i++) {
		struct job *j = &jobs[i];
		int err;

		if (j->err) {
			j->play_done = j->cap_done = true;
			continue;
		}
		err = snd_pcm_start(j->cap);
		if (err < 0)
			job_fail(j, "capture start", err);
		if (!j->play) {
			j->play_done = true;
			j->cap_target = j->listen_frames;
		}
	}
	h_sleep_ms(3);
	for (size_t i = 0; i < n; i++)
		if (!jobs[i].play_done)
			job_write(&jobs[i]);

	deadline = h_now() + max_s;
	for (;;) {
		unsigned int nfd = 0;
		bool all_done = true;

		for (size_t i = 0; i < n; i++) {
			struct job *j = &jobs[i];

			first[2 * i] = nfd;
			/* Only ends we still wait for: a finished one stays ready. */
			if (!j->play_done && j->pat_off < j->pat_frames)
				fill_pollfds(j->play, pfd, &nfd);
			first[2 * i + 1] = nfd;
			if (!j->cap_done)
				fill_pollfds(j->cap, pfd, &nfd);
			all_done &= j->cap_done;
		}
		if (all_done)
			break;
		if (h_now() > deadline) {
			for (size_t i = 0; i < n; i++)
				if (!jobs[i].cap_done)
					job_fail(&jobs[i], "deadline (stream stalled)", -ETIMEDOUT);
			break;
		}
		poll(pfd, nfd, 5);
		for (size_t i = 0; i < n; i++) {
			struct job *j = &jobs[i];
			unsigned int p0 = first[2 * i], c0 = first[2 * i + 1];
			unsigned int c1 = i + 1 < n ? first[2 * i + 2] : nfd;

			if (j->cap_done)
				continue;
			if (c0 > p0) {
				consume(j->play, pfd + p0, c0 - p0);
				job_write(j);
			}
			if (c1 > c0)
				consume(j->cap, pfd + c0, c1 - c0);
			job_read(j);
			if (j->play)
				job_check_play_end(j);
			if (j->cap_target && j->cap_got >= j->cap_target)
				j->cap_done = true;
		}
	}
	free(pfd);
	free(first);
}

/* Is the job's capture silence, the expected data, silence? */
static bool job_verify(struct job *j)
{
	char why[512];
	size_t lead;

	if (j->err) {
		h_fail(__FILE__, __LINE__, "%s: %s: %s", j->label, j->err_where,
		       snd_strerror(j->err));
		return false;
	}
	if (!j->play) {
		size_t s = h_first_sound(j->capbuf, j->cp.format, j->cp.channels, j->cap_got);

		if (s < j->cap_got) {
			h_fail(__FILE__, __LINE__, "%s: listener heard sound at frame %zu of %zu",
			       j->label, s, j->cap_got);
			return false;
		}
		return true;
	}
	if (!h_check_sps(j->capbuf, j->cap_got, j->expect, j->pat_frames, j->cp.format,
			 j->cp.channels, &lead, why, sizeof(why))) {
		h_fail(__FILE__, __LINE__, "%s: %s", j->label, why);
		return false;
	}
	return true;
}

/* ---- the format x access matrix ------------------------------------------- */

/* Highest listed rate <= want whose 100 ms buffer fits the 512 KiB limit. */
static unsigned int fit_rate(unsigned int want, size_t fb)
{
	unsigned int best = 8000;

	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++)
		if (rates[i] <= want && rates[i] * fb <= 5000000 && rates[i] > best)
			best = rates[i];
	return best;
}

/* Job k of the matrix: format, access pair, cable, channels, rate. */
static void matrix_job(struct job *j, size_t k, unsigned int seed, unsigned int *per_rate,
		       unsigned int *per_ch)
{
	unsigned int f = (unsigned int)(k / 8), a = (unsigned int)(k / 2 % 4);
	unsigned int cable = (unsigned int)(k % 2);
	unsigned int ch = channel_counts[(f + a + 2 * cable) % 4];
	size_t fb = h_frame_bytes(formats[f], ch);
	unsigned int rate = fit_rate(rates[(f + 2 * a + cable) % 5], fb);
	unsigned int sub = h_subdev();

	for (unsigned int r = 0; per_rate && r < 5; r++)
		per_rate[r] += rates[r] == rate;
	if (per_ch)
		per_ch[(f + a + 2 * cable) % 4]++;
	memset(j, 0, sizeof(*j));
	/* Playback buffer holds the whole pattern: no underrun mid-way. */
	h_params_init(&j->pp, formats[f], rate, ch, 1000);
	if (j->pp.buffer > 8192)
		j->pp.buffer = 8192;
	j->pp.period = j->pp.buffer / 4;
	h_params_init(&j->cp, formats[f], rate, ch, 200);
	j->pp.access = accesses[a];
	/* Cable 1 also mixes accesses between the two ends. */
	j->cp.access = accesses[(a + cable) % 4];
	snprintf(j->label, sizeof(j->label),
		 "%s %u ch %u Hz play %s dev%u -> capture %s dev%u (sub %u)",
		 snd_pcm_format_name(formats[f]), ch, rate, access_names[a], cable,
		 access_names[(a + cable) % 4], cable ^ 1, sub);
	if (job_open(j, h_card, sub, cable) == 0)
		job_pattern(j, PATTERN_FRAMES, seed);
}

static void test_matrix(void)
{
	struct job jobs[BATCH];
	size_t total = N_FORMATS * 4 * 2, done = 0, ok = 0, retried = 0;
	unsigned int per_rate[5] = { 0 }, per_ch[4] = { 0 };
	/* ASan slows the one thread that pumps every cable: fewer at once. */
#ifdef __SANITIZE_ADDRESS__
	size_t batch = 4;
#else
	size_t batch = BATCH;
#endif

	while (done < total) {
		size_t n = 0;

		for (; n < batch && done + n < total; n++)
			matrix_job(&jobs[n], done + n, (unsigned int)(done + n + 1), per_rate, per_ch);
		run_jobs(jobs, n, 8.0);
		for (size_t i = 0; i < n; i++) {
			/*
			 * An xrun is the pump being starved on a loaded machine, not
			 * wrong data: run that job once more, alone.  Wrong data, or a
			 * second xrun, fails.
			 */
			if (jobs[i].err == -EPIPE) {
				job_free(&jobs[i]);
				matrix_job(&jobs[i], done + i, (unsigned int)(done + i + 1), NULL, NULL);
				run_jobs(&jobs[i], 1, 8.0);
				retried++;
			}
			ok += job_verify(&jobs[i]);
			job_free(&jobs[i]);
		}
		done += n;
	}
	h_note("%zu of %zu format/access/channel/rate round trips bit-exact (%zu retried after "
	       "an xrun)", ok, total, retried);
	h_note("rates 8000/44100/48000/192000/768000: %u/%u/%u/%u/%u jobs; channels "
	       "1/2/7/32: %u/%u/%u/%u jobs", per_rate[0], per_rate[1], per_rate[2], per_rate[3],
	       per_rate[4], per_ch[0], per_ch[1], per_ch[2], per_ch[3]);
}

/* Both cables of one subdevice at the same time, each direction its own. */
static void test_both_cables_at_once(void)
{
	struct job jobs[2];
	unsigned int sub = h_subdev();

	memset(jobs, 0, sizeof(jobs));
	for (unsigned int d = 0; d < 2; d++) {
		struct job *j = &jobs[d];

		h_params_init(&j->pp, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
		h_params_init(&j->cp, SND_PCM_FORMAT_S16_LE, 48000, 2, 200);
		snprintf(j->label, sizeof(j->label), "sub %u dev%u -> dev%u", sub, d, d ^ 1);
		if (job_open(j, h_card, sub, d) == 0)
			job_pattern(j, 4000, 100 + d);
	}
	run_jobs(jobs, 2, 5.0);
	for (unsigned int d = 0; d < 2; d++) {
		job_verify(&jobs[d]);
		job_free(&jobs[d]);
	}
}

/* A pattern longer than both buffers: streamed through the poll loop. */
static void test_long_stream(void)
{
	struct job j;
	unsigned int sub = h_subdev();

	memset(&j, 0, sizeof(j));
	h_params_init(&j.pp, SND_PCM_FORMAT_S32_LE, 48000, 2, 100);
	h_params_init(&j.cp, SND_PCM_FORMAT_S32_LE, 48000, 2, 100);
	snprintf(j.label, sizeof(j.label), "S32_LE 48000 Hz 2 ch, 1 s through 100 ms buffers");
	if (job_open(&j, h_card, sub, 0) == 0) {
		j.pat_frames = 48000;
		j.pat = malloc(j.pat_frames * h_frame_bytes(j.pp.format, j.pp.channels));
		h_pattern(j.pat, j.pp.format, j.pp.channels, j.pat_frames, 77);
		j.expect = j.pat;
		job_alloc_capture(&j, 3.0);
	}
	run_jobs(&j, 1, 10.0);
	job_verify(&j);
	job_free(&j);
}

/* ---- two processes ---------------------------------------------------------- */

static void test_two_processes(void)
{
	struct h_params p;
	unsigned int sub = h_subdev();
	size_t pat_frames = 9600, cap_frames = 48000 * 3 / 4;	/* 200 ms in 750 ms */
	size_t fb;
	uint8_t *pat, *shared;
	int ready[2], status;
	pid_t rec, ply;
	char why[512];
	size_t lead;

	h_params_init(&p, SND_PCM_FORMAT_S24_3LE, 48000, 2, 100);
	fb = h_frame_bytes(p.format, p.channels);
	pat = malloc(pat_frames * fb);
	h_pattern(pat, p.format, p.channels, pat_frames, 4242);
	/* The recorder hands its capture to us through shared memory. */
	shared = mmap(NULL, cap_frames * fb, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
		      -1, 0);
	REQUIRE(shared != MAP_FAILED, "mmap: %s", strerror(errno));
	REQUIRE(pipe(ready) == 0, "pipe");

	rec = fork();
	REQUIRE(rec >= 0, "fork");
	if (rec == 0) {
		snd_pcm_t *cap;
		struct h_params cp = p;

		alarm(20);
		close(ready[0]);
		free(pat);
		if (h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) < 0 ||
		    h_setup(cap, &cp) < 0 || snd_pcm_start(cap) < 0)
			_exit(2);
		/* Tell the player we are recording. */
		if (write(ready[1], "r", 1) != 1)
			_exit(3);
		if (h_capture(cap, &cp, shared, cap_frames) < 0)
			_exit(4);
		snd_pcm_close(cap);
		_exit(0);
	}
	ply = fork();
	REQUIRE(ply >= 0, "fork");
	if (ply == 0) {
		snd_pcm_t *play;
		struct h_params pp = p;
		char c;
		int err;

		alarm(20);
		close(ready[1]);
		if (read(ready[0], &c, 1) != 1)
			_exit(5);
		h_sleep_ms(50);
		if (h_open_end(&play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) < 0 ||
		    h_setup(play, &pp) < 0)
			_exit(6);
		err = h_play(play, &pp, pat, pat_frames, true);
		free(pat);
		if (err < 0)
			_exit(7);
		snd_pcm_close(play);
		_exit(0);
	}
	close(ready[0]);
	close(ready[1]);
	REQUIRE(waitpid(rec, &status, 0) == rec, "waitpid recorder");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "recorder failed (status 0x%x)",
	      status);
	REQUIRE(waitpid(ply, &status, 0) == ply, "waitpid player");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "player failed (status 0x%x)",
	      status);
	CHECK(h_check_sps(shared, cap_frames, pat, pat_frames, p.format, p.channels, &lead, why,
			  sizeof(why)), "two processes: %s", why);
	munmap(shared, cap_frames * fb);
	free(pat);
}

/* ---- isolation ------------------------------------------------------------- */

static void test_isolation(void)
{
	char other[40];
	struct job jobs[5];
	unsigned int n = 0;

	/* Subdevices 1 and 2 of our card, subdevice 1 of another card key. */
	snprintf(other, sizeof(other), "%sx", h_card);
	memset(jobs, 0, sizeof(jobs));
	for (unsigned int k = 0; k < 3; k++, n++) {
		struct job *j = &jobs[n];
		const char *card = k == 2 ? other : h_card;
		unsigned int sub = k == 1 ? 2 : 1;

		/* The same format everywhere, so leaked data would pass for ours. */
		h_params_init(&j->pp, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
		h_params_init(&j->cp, SND_PCM_FORMAT_S16_LE, 48000, 2, 200);
		snprintf(j->label, sizeof(j->label), "card %s sub %u dev0 -> dev1", card, sub);
		if (job_open(j, card, sub, 0) == 0)
			job_pattern(j, 4000, 500 + k);
	}
	/* The reverse cables of subdevices 1 and 2 must hear nothing at all. */
	for (unsigned int sub = 1; sub <= 2; sub++, n++) {
		struct job *j = &jobs[n];
		int err;

		h_params_init(&j->cp, SND_PCM_FORMAT_S16_LE, 48000, 2, 200);
		snprintf(j->label, sizeof(j->label), "card %s sub %u dev0 capture (listener)",
			 h_card, sub);
		err = h_open_end(&j->cap, h_card, sub, 0, SND_PCM_STREAM_CAPTURE,
				 SND_PCM_NONBLOCK);
		if (err == 0)
			err = h_setup(j->cap, &j->cp);
		if (err < 0) {
			j->err = err;
			j->err_where = "open listener";
		}
		j->listen_frames = 48000 / 4;
		job_alloc_capture(j, 0.5);
	}
	run_jobs(jobs, n, 5.0);
	for (unsigned int i = 0; i < n; i++) {
		job_verify(&jobs[i]);
		job_free(&jobs[i]);
	}
}

static void test_high_subdevices(void)
{
	static const unsigned int subs[] = { 1023, 4095 };
	struct job jobs[4];

	memset(jobs, 0, sizeof(jobs));
	for (unsigned int k = 0; k < 4; k++) {
		struct job *j = &jobs[k];

		h_params_init(&j->pp, SND_PCM_FORMAT_S16_LE, 44100, 2, 100);
		h_params_init(&j->cp, SND_PCM_FORMAT_S16_LE, 44100, 2, 200);
		snprintf(j->label, sizeof(j->label), "sub %u dev%u -> dev%u", subs[k / 2], k % 2,
			 (k % 2) ^ 1);
		if (job_open(j, h_card, subs[k / 2], k % 2) == 0)
			job_pattern(j, 3000, 900 + k);
	}
	run_jobs(jobs, 4, 5.0);
	for (unsigned int k = 0; k < 4; k++) {
		job_verify(&jobs[k]);
		job_free(&jobs[k]);
	}
}

/*
 * A capture alone on a cable hears silence, even when an earlier playback
 * played there: what was played before the capture started is never heard.
 */
static void test_stale(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play, *cap;
	struct h_params p;
	size_t frames = 24000, pat_frames = 4000, s;
	uint8_t *pat, *buf;
	int err;

	h_params_init(&p, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	pat = malloc(pat_frames * 4);
	buf = malloc(frames * 4);
	h_pattern(pat, p.format, 2, pat_frames, 3);
	REQUIRE(h_open_end(&play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) == 0, "open");
	REQUIRE(h_setup(play, &p) == 0, "setup play");
	err = h_play(play, &p, pat, pat_frames, true);
	CHECK(err == 0, "play with nobody listening: %s", snd_strerror(err));
	snd_pcm_close(play);
	h_sleep_ms(100);
	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open cap");
	REQUIRE(h_setup(cap, &p) == 0, "setup cap");
	/*
	 * An overrun (a loaded machine) stops h_capture part-way: capture the
	 * whole again rather than judge a buffer it did not fill.
	 */
	for (int tries = 0; ; tries++) {
		memset(buf, 0, frames * 4);
		err = h_capture(cap, &p, buf, frames);
		if (err != -EPIPE || tries == 2)
			break;
		h_note("capture overran (the machine stalled): again");
		snd_pcm_prepare(cap);
	}
	CHECK(err == 0, "capture: %s", snd_strerror(err));
	s = err == 0 ? h_first_sound(buf, p.format, 2, frames) : frames;
	CHECK(s == frames, "capture alone after a closed playback heard sound at frame %zu: "
	      "stale data replayed", s);
	snd_pcm_close(cap);
	free(pat);
	free(buf);
}

/* ---- parameter lock --------------------------------------------------------- */

/* hw_params_any, then which of these does the end still offer? */
static void check_offers(snd_pcm_t *pcm, const char *who, snd_pcm_format_t fmt,
			 unsigned int rate, unsigned int ch)
{
	static const snd_pcm_format_t try_fmt[] = {
		SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_U8,
		SND_PCM_FORMAT_FLOAT_LE,
	};
	static const unsigned int try_rate[] = { 8000, 44100, 48000, 96000 };
	static const unsigned int try_ch[] = { 1, 2, 6 };
	snd_pcm_hw_params_t *hw;

	snd_pcm_hw_params_alloca(&hw);
	if (snd_pcm_hw_params_any(pcm, hw) < 0) {
		h_fail(__FILE__, __LINE__, "%s: hw_params_any failed", who);
		return;
	}
	for (size_t i = 0; i < sizeof(try_fmt) / sizeof(try_fmt[0]); i++) {
		int r = snd_pcm_hw_params_test_format(pcm, hw, try_fmt[i]);

		CHECK((r == 0) == (try_fmt[i] == fmt), "%s: test_format(%s) = %d", who,
		      snd_pcm_format_name(try_fmt[i]), r);
	}
	for (size_t i = 0; i < sizeof(try_rate) / sizeof(try_rate[0]); i++) {
		int r = snd_pcm_hw_params_test_rate(pcm, hw, try_rate[i], 0);

		CHECK((r == 0) == (try_rate[i] == rate), "%s: test_rate(%u) = %d", who,
		      try_rate[i], r);
	}
	for (size_t i = 0; i < sizeof(try_ch) / sizeof(try_ch[0]); i++) {
		int r = snd_pcm_hw_params_test_channels(pcm, hw, try_ch[i]);

		CHECK((r == 0) == (try_ch[i] == ch), "%s: test_channels(%u) = %d", who,
		      try_ch[i], r);
	}
}

static void test_lock_after_playback(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play, *cap;
	snd_pcm_hw_params_t *hw;
	struct h_params p, q;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	REQUIRE(h_open_end(&play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) == 0, "open play");
	h_params_init(&p, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	REQUIRE(h_setup(play, &p) == 0, "setup play S16_LE/48000/2");
	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open cap");
	check_offers(cap, "capture opened after the lock", SND_PCM_FORMAT_S16_LE, 48000, 2);

	/* Other values cannot even be chosen. */
	REQUIRE(snd_pcm_hw_params_any(cap, hw) >= 0, "any");
	err = snd_pcm_hw_params_set_format(cap, hw, SND_PCM_FORMAT_S32_LE);
	CHECK(err == -EINVAL, "set_format(S32_LE) on locked capture = %d, want -EINVAL", err);
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 44100, 2, 100);
	err = h_setup(cap, &q);
	CHECK(err == -EINVAL, "capture setup 44100 on a 48000 lock = %d, want -EINVAL", err);
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 48000, 1, 100);
	err = h_setup(cap, &q);
	CHECK(err == -EINVAL, "capture setup 1 ch on a 2 ch lock = %d, want -EINVAL", err);
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	err = h_setup(cap, &q);
	CHECK(err == 0, "capture setup with the locked values = %d", err);
	snd_pcm_close(cap);

	/* The lock holds while one end is still attached... */
	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "reopen cap");
	check_offers(cap, "capture reopened while the playback is attached",
		     SND_PCM_FORMAT_S16_LE, 48000, 2);
	snd_pcm_close(cap);
	snd_pcm_close(play);

	/* ...and is gone once both closed. */
	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open cap 2");
	h_params_init(&q, SND_PCM_FORMAT_FLOAT_LE, 44100, 6, 100);
	err = h_setup(cap, &q);
	CHECK(err == 0, "after both closed, capture FLOAT_LE/44100/6 = %d", err);
	REQUIRE(h_open_end(&play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) == 0, "open play 2");
	check_offers(play, "playback after the capture relocked", SND_PCM_FORMAT_FLOAT_LE, 44100,
		     6);
	snd_pcm_close(play);
	snd_pcm_close(cap);
}

static void test_lock_capture_opened_before(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play, *cap;
	struct h_params p, q;
	int err;

	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open cap");
	REQUIRE(h_open_end(&play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) == 0, "open play");
	h_params_init(&p, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	REQUIRE(h_setup(play, &p) == 0, "setup play");
	h_errors_clear();
	h_params_init(&q, SND_PCM_FORMAT_S32_LE, 48000, 2, 100);
	err = h_setup(cap, &q);
	CHECK(err == -EINVAL, "capture opened before the lock, configured S32_LE after: %d, "
	      "want -EINVAL", err);
	CHECK(strstr(h_errors(), "locked") != NULL, "no SNDERR about the lock: '%s'",
	      h_errors());
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 96000, 2, 100);
	err = h_setup(cap, &q);
	CHECK(err == -EINVAL, "capture configured 96000 on a 48000 lock: %d", err);
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	err = h_setup(cap, &q);
	CHECK(err == 0, "capture with the locked values: %d", err);
	snd_pcm_close(play);
	snd_pcm_close(cap);
}

static void test_lock_config_keys(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play, *cap, *cap2;
	struct h_params q;
	int err;

	/* The playback's keys fix what it offers from the start. */
	err = h_openf(&play, SND_PCM_STREAM_PLAYBACK, 0,
		      "type loopback card \"%s\" subdevice %u device 0 format \"S32_LE\" "
		      "rate 44100 channels 1", h_card, sub);
	REQUIRE(err == 0, "open play with format/rate/channels keys: %d", err);
	check_offers(play, "playback with keys", SND_PCM_FORMAT_S32_LE, 44100, 1);
	h_params_init(&q, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	err = h_setup(play, &q);
	CHECK(err == -EINVAL, "playback with keys configured S16_LE/48000/2: %d", err);
	h_params_init(&q, SND_PCM_FORMAT_S32_LE, 44100, 1, 100);
	CHECK(h_setup(play, &q) == 0, "playback with keys, its own values");
	REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open cap");
	check_offers(cap, "capture of a key-fixed cable", SND_PCM_FORMAT_S32_LE, 44100, 1);
	snd_pcm_close(cap);

	/* A capture whose keys contradict the lock cannot open. */
	h_errors_clear();
	err = h_openf(&cap2, SND_PCM_STREAM_CAPTURE, 0,
		      "type loopback card \"%s\" subdevice %u device 1 format \"S16_LE\"",
		      h_card, sub);
	CHECK(err < 0, "capture with format key S16_LE on an S32_LE lock opened (%d)", err);
	if (err == 0)
		snd_pcm_close(cap2);
	snd_pcm_close(play);

	/* Keys on the capture: its values, even alone on the cable. */
	err = h_openf(&cap, SND_PCM_STREAM_CAPTURE, 0,
		      "type loopback card \"%s\" subdevice %u device 1 format \"U8\" "
		      "rate 8000 channels 2", h_card, sub);
	REQUIRE(err == 0, "open cap with keys: %d", err);
	check_offers(cap, "capture with keys", SND_PCM_FORMAT_U8, 8000, 2);
	snd_pcm_close(cap);
}

/* plug over the capture end converts the locked S16_LE into S32_LE. */
static void test_lock_plug_converts(void)
{
	unsigned int sub = h_subdev();
	struct job j;
	size_t samples;
	int err;

	memset(&j, 0, sizeof(j));
	snprintf(j.label, sizeof(j.label), "raw S16_LE playback -> plug S32_LE capture");
	REQUIRE(h_open_end(&j.play, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK,
			   SND_PCM_NONBLOCK) == 0, "open play");
	h_params_init(&j.pp, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	REQUIRE(h_setup(j.play, &j.pp) == 0, "setup play");
	err = h_openf(&j.cap, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK,
		      "type plug slave.pcm { type loopback card \"%s\" subdevice %u device 1 }",
		      h_card, sub);
	REQUIRE(err == 0, "open plug capture: %s", snd_strerror(err));
	h_params_init(&j.cp, SND_PCM_FORMAT_S32_LE, 48000, 2, 200);
	err = h_setup(j.cap, &j.cp);
	REQUIRE(err == 0, "plug capture S32_LE on an S16_LE lock: %s", snd_strerror(err));
	j.pat_frames = 4000;
	j.pat = malloc(j.pat_frames * 4);
	h_pattern(j.pat, SND_PCM_FORMAT_S16_LE, 2, j.pat_frames, 31);
	/* Linear S16 -> S32 widening: the sample in the top 16 bits. */
	samples = j.pat_frames * 2;
	j.expect = malloc(samples * 4);
	for (size_t i = 0; i < samples; i++) {
		int16_t s;
		int32_t w;

		memcpy(&s, j.pat + 2 * i, 2);
		w = (int32_t)((uint32_t)(uint16_t)s << 16);
		memcpy(j.expect + 4 * i, &w, 4);
	}
	job_alloc_capture(&j, 1.5);
	run_jobs(&j, 1, 5.0);
	job_verify(&j);
	job_free(&j);
}

/* ---- busy ------------------------------------------------------------------ */

static void test_busy(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *second, *other_play, *other_cap;
	struct job j;
	int err;

	memset(&j, 0, sizeof(j));
	h_params_init(&j.pp, SND_PCM_FORMAT_S16_LE, 48000, 2, 100);
	h_params_init(&j.cp, SND_PCM_FORMAT_S16_LE, 48000, 2, 200);
	snprintf(j.label, sizeof(j.label), "stream after failed second opens");
	REQUIRE(job_open(&j, h_card, sub, 0) == 0, "open: %s", snd_strerror(j.err));

	h_errors_clear();
	err = h_open_end(&second, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0);
	CHECK(err == -EBUSY, "second open of dev0 playback = %d, want -EBUSY", err);
	if (err == 0)
		snd_pcm_close(second);
	CHECK(strstr(h_errors(), "busy") != NULL, "no 'busy' SNDERR: '%s'", h_errors());
	err = h_open_end(&second, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	CHECK(err == -EBUSY, "second open of dev1 capture = %d, want -EBUSY", err);
	if (err == 0)
		snd_pcm_close(second);

	/* The other cable's ends are free. */
	err = h_open_end(&other_play, h_card, sub, 1, SND_PCM_STREAM_PLAYBACK, 0);
	CHECK(err == 0, "dev1 playback (other cable) = %d", err);
	err = h_open_end(&other_cap, h_card, sub, 0, SND_PCM_STREAM_CAPTURE, 0);
	CHECK(err == 0, "dev0 capture (other cable) = %d", err);

	/* The first stream still works, bit-exact. */
	job_pattern(&j, 4000, 61);
	run_jobs(&j, 1, 5.0);
	job_verify(&j);
	job_free(&j);
	if (other_play)
		snd_pcm_close(other_play);
	if (other_cap)
		snd_pcm_close(other_cap);

	/* Closed: the end can be opened again. */
	err = h_open_end(&second, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0);
	CHECK(err == 0, "dev0 playback after the first closed = %d", err);
	if (err == 0)
		snd_pcm_close(second);
}

/* ---- bad configuration ------------------------------------------------------- */

static void test_bad_config(void)
{
	static const struct {
		const char *body;	/* %s: card, %u: subdevice */
		const char *key;	/* the SNDERR must name it */
	} cases[] = {
		{ "type loopback card \"%s\" subdevice %u device 0 foo 1", "foo" },
		{ "type loopback card \"%s\" subdevice -1 device 0", "subdevice" },
		{ "type loopback card \"%s\" subdevice 4096 device 0", "subdevice" },
		{ "type loopback card \"%s\" subdevice \"abc\" device 0", "subdevice" },
		{ "type loopback card \"%s\" subdevice %u device 2", "device" },
		{ "type loopback card \"%s\" subdevice %u device -1", "device" },
		{ "type loopback card \"a b\" subdevice %u device 0", "card" },
		{ "type loopback card \"\" subdevice %u device 0", "card" },
		{ "type loopback card \"a/b\" subdevice %u device 0", "card" },
		{ "type loopback card \"abcdefghijklmnopqrstuvwxyz0123456\" subdevice %u device 0",
		  "card" },
		{ "type loopback card \"%s\" subdevice %u device 0 format \"NOPE\"", "format" },
		{ "type loopback card \"%s\" subdevice %u device 0 format \"IEC958_SUBFRAME_LE\"",
		  "format" },
		{ "type loopback card \"%s\" subdevice %u device 0 rate 7999", "rate" },
		{ "type loopback card \"%s\" subdevice %u device 0 rate 768001", "rate" },
		{ "type loopback card \"%s\" subdevice %u device 0 channels 0", "channels" },
		{ "type loopback card \"%s\" subdevice %u device 0 channels 33", "channels" },
		{ "type loopback card \"%s\" subdevice %u device 0 perm 0444", "perm" },
		{ "type loopback card \"%s\" subdevice %u device 0 perm 0200", "perm" },
		{ "type loopback card \"%s\" subdevice %u device 0 perm 01777", "perm" },
		{ "type loopback card \"%s\" subdevice %u device 0 dir \"relative\"", "dir" },
		{ "type loopback card \"%s\" subdevice %u device 0 group \"no-such-group-zz\"",
		  "group" },
	};
	unsigned int sub = h_subdev();
	char body[512];
	snd_pcm_t *pcm;
	int err;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *b = cases[i].body;
		bool has_card = strstr(b, "\"%s\"") != NULL;
		bool has_sub = strstr(b, "%u") != NULL;

		if (has_card && has_sub)
			snprintf(body, sizeof(body), b, h_card, sub);
		else if (has_card)
			snprintf(body, sizeof(body), b, h_card);
		else if (has_sub)
			snprintf(body, sizeof(body), b, sub);
		else
			snprintf(body, sizeof(body), "%s", b);
		for (int st = 0; st < 2; st++) {
			h_errors_clear();
			err = h_openf(&pcm, st ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
				      0, "%s", body);
			CHECK(err < 0, "'%s' (%s) opened", body, st ? "capture" : "playback");
			if (err == 0) {
				snd_pcm_close(pcm);
				continue;
			}
			CHECK(strstr(h_errors(), cases[i].key) != NULL,
			      "'%s': error does not name '%s': '%s'", body, cases[i].key,
			      h_errors());
		}
	}
	/* Controls: the valid spellings next to them open. */
	snprintf(body, sizeof(body), "type loopback card \"%s\" subdevice %u device 1 "
		 "perm 0660 rate \"48000\" channels 32 format \"S18_3BE\"", h_card, sub);
	err = h_openf(&pcm, SND_PCM_STREAM_PLAYBACK, 0, "%s", body);
	CHECK(err == 0, "valid '%s' failed: %s", body, snd_strerror(err));
	if (err == 0)
		snd_pcm_close(pcm);
	err = h_openf(&pcm, SND_PCM_STREAM_PLAYBACK, 0, "type loopback card 7 subdevice 4095 "
		      "device 1");
	CHECK(err == 0, "numeric card 7 failed: %s", snd_strerror(err));
	if (err == 0)
		snd_pcm_close(pcm);
	{
		char path[256];

		h_seg_path(path, sizeof(path), "7", 4095);
		unlink(path);
	}
}

/* ---- corrupt segments --------------------------------------------------------- */

static bool read_file(const char *path, uint8_t **buf, size_t *len, mode_t *mode)
{
	struct stat st;
	int fd = open(path, O_RDONLY);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0) {
		close(fd);
		return false;
	}
	*len = (size_t)st.st_size;
	*mode = st.st_mode;
	*buf = malloc(*len + 1);
	if (pread(fd, *buf, *len, 0) != (ssize_t)*len) {
		close(fd);
		free(*buf);
		return false;
	}
	close(fd);
	return true;
}

static bool write_file(const char *path, const uint8_t *buf, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	bool ok;

	if (fd < 0)
		return false;
	ok = write(fd, buf, len) == (ssize_t)len;
	close(fd);
	return ok;
}

static void test_corrupt_segment(void)
{
	unsigned int sub = h_subdev();
	char path[256];
	uint8_t *good, *bad, *after;
	size_t good_len, after_len;
	mode_t mode, after_mode;
	snd_pcm_t *pcm;
	int err;

	/* A genuine segment to start from. */
	h_seg_path(path, sizeof(path), h_card, sub);
	REQUIRE(h_open_end(&pcm, h_card, sub, 0, SND_PCM_STREAM_PLAYBACK, 0) == 0, "open");
	/* Read while open: the last one out removes an idle segment. */
	REQUIRE(read_file(path, &good, &good_len, &mode), "read %s", path);
	snd_pcm_close(pcm);
	CHECK(access(path, F_OK) < 0, "an idle segment outlived its last opener");
	REQUIRE(good_len == SHM_SEGMENT_BYTES, "segment is %zu bytes, want %u", good_len,
		SHM_SEGMENT_BYTES);
	bad = malloc(good_len + 8192);

	for (int c = 0; c < 5; c++) {
		const char *what;
		size_t len = good_len;

		memcpy(bad, good, good_len);
		switch (c) {
		case 0:
			what = "truncated to 4096 bytes";
			len = 4096;
			break;
		case 1:
			what = "8192 bytes too long";
			memset(bad + good_len, 0x5a, 8192);
			len = good_len + 8192;
			break;
		case 2:
			what = "wrong magic";
			bad[0] ^= 0xff;
			break;
		case 3:
			what = "wrong version";
			bad[offsetof(struct shm_header, version)] += 7;
			break;
		default:
			what = "wrong ring room field";
			bad[offsetof(struct shm_header, slot_ring_max)] ^= 0x10;
			break;
		}
		REQUIRE(write_file(path, bad, len), "write %s", path);
		for (int st = 0; st < 2; st++) {
			h_errors_clear();
			err = h_open_end(&pcm, h_card, sub, st,
					 st ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK, 0);
			CHECK(err == -EPROTO, "segment %s: open = %d (%s), want -EPROTO", what, err,
			      snd_strerror(err));
			if (err == 0)
				snd_pcm_close(pcm);
			CHECK(strstr(h_errors(), path) != NULL, "segment %s: error lacks path: '%s'",
			      what, h_errors());
		}
		REQUIRE(read_file(path, &after, &after_len, &after_mode), "reread");
		CHECK(after_len == len && !memcmp(after, bad, len) && after_mode == mode,
		      "segment %s was modified by the failed open", what);
		free(after);
	}
	unlink(path);
	free(bad);
	free(good);
}

int main(int argc, char **argv)
{
	(void)argc;
	h_init(argv[0]);
	h_run("matrix: every format x access, both cables, 1/2/7/32 ch, 8k..768k",
	      test_matrix, 120);
	h_run("both cables of one subdevice at once", test_both_cables_at_once, 20);
	h_run("1 s stream through 100 ms buffers", test_long_stream, 20);
	h_run("two processes", test_two_processes, 30);
	h_run("isolation: subdevices 1, 2 and another card key", test_isolation, 20);
	h_run("stale: a capture alone after a closed playback hears silence", test_stale, 20);
	h_run("subdevices 1023 and 4095", test_high_subdevices, 20);
	h_run("lock: fixed by the first hw_params", test_lock_after_playback, 20);
	h_run("lock: capture opened before the lock", test_lock_capture_opened_before, 20);
	h_run("lock: format/rate/channels keys", test_lock_config_keys, 20);
	h_run("lock: plug converts S16_LE -> S32_LE", test_lock_plug_converts, 20);
	h_run("busy: second open of an end", test_busy, 20);
	h_run("bad configuration", test_bad_config, 30);
	h_run("corrupt segment", test_corrupt_segment, 20);
	return h_finish();
}
