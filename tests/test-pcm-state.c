// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-pcm-state.c - the ALSA state machine of both ends: real time,
 * xruns, pause, drop/drain, reset, avail/delay, non-blocking mode, poll
 * and a lossless playback's rewind.
 *
 * Timings are asserted with wide margins (the machine is shared and
 * noisy); every test runs under an alarm() watchdog, so a hang fails.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#define RATE 48000

/* A playback (dev0) and a capture (dev1) of one fresh cable, S16_LE/2. */
struct pair {
	snd_pcm_t *play, *cap;
	struct h_params pp, cp;
	unsigned int sub;
};

static int pair_open(struct pair *x, int play_mode, int cap_mode, unsigned int buf_ms)
{
	int err;

	memset(x, 0, sizeof(*x));
	x->sub = h_subdev();
	h_params_init(&x->pp, SND_PCM_FORMAT_S16_LE, RATE, 2, buf_ms);
	h_params_init(&x->cp, SND_PCM_FORMAT_S16_LE, RATE, 2, buf_ms);
	err = h_open_end(&x->cap, h_card, x->sub, 1, SND_PCM_STREAM_CAPTURE, cap_mode);
	if (err < 0)
		return err;
	err = h_open_end(&x->play, h_card, x->sub, 0, SND_PCM_STREAM_PLAYBACK, play_mode);
	return err;
}

static int pair_setup(struct pair *x)
{
	int err = h_setup(x->cap, &x->cp);

	return err < 0 ? err : h_setup(x->play, &x->pp);
}

static void pair_close(struct pair *x)
{
	if (x->play)
		snd_pcm_close(x->play);
	if (x->cap)
		snd_pcm_close(x->cap);
	x->play = x->cap = NULL;
}

/* Read everything the capture has now (blocking PCM: exactly avail). */
static snd_pcm_sframes_t read_avail(snd_pcm_t *cap, const struct h_params *p, uint8_t *buf,
				    size_t *got, size_t max)
{
	snd_pcm_sframes_t avail = snd_pcm_avail(cap);

	if (avail < 0)
		return avail;
	if ((size_t)avail > max - *got)
		avail = (snd_pcm_sframes_t)(max - *got);
	if (avail > 0) {
		int err = h_capture(cap, p, buf + *got * h_frame_bytes(p->format, p->channels),
				    (size_t)avail);
		if (err < 0)
			return err;
		*got += (size_t)avail;
	}
	return avail;
}

/* ---- real time ---------------------------------------------------------- */

static void test_playback_realtime(void)
{
	struct pair x;
	uint8_t *pat = malloc(RATE * 4);
	double t0, dt;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 100) == 0, "open");
	REQUIRE(h_setup(x.play, &x.pp) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, RATE, 9);
	t0 = h_now();
	err = h_play(x.play, &x.pp, pat, RATE, true);
	dt = h_now() - t0;
	CHECK(err == 0, "play 1 s + drain: %s", snd_strerror(err));
	CHECK(dt >= 0.7 && dt <= 2.0, "1 s of playback with no reader took %.3f s", dt);
	h_note("1 s playback, no reader: %.3f s", dt);
	pair_close(&x);
	free(pat);
}

static void test_capture_silence(void)
{
	static const snd_pcm_format_t fmts[] = {
		SND_PCM_FORMAT_U8, SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_MU_LAW,
		SND_PCM_FORMAT_A_LAW, SND_PCM_FORMAT_U24_3BE, SND_PCM_FORMAT_FLOAT64_BE,
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		const char *name = snd_pcm_format_name(fmts[i]);
		unsigned int sub = h_subdev();
		struct h_params p;
		size_t frames = 4000, fb, s;	/* 0.5 s at 8 kHz */
		uint64_t sil = snd_pcm_format_silence_64(fmts[i]);
		snd_pcm_t *cap;
		uint8_t *buf;
		double t0, dt;
		int err;

		h_params_init(&p, fmts[i], 8000, 2, 100);
		fb = h_frame_bytes(p.format, 2);
		buf = malloc(frames * fb);
		memset(buf, 0xa5, frames * fb);
		REQUIRE(h_open_end(&cap, h_card, sub, 1, SND_PCM_STREAM_CAPTURE, 0) == 0, "open");
		REQUIRE(h_setup(cap, &p) == 0, "setup %s", name);
		t0 = h_now();
		err = h_capture(cap, &p, buf, frames);
		dt = h_now() - t0;
		CHECK(err == 0, "%s capture: %s", name, snd_strerror(err));
		CHECK(dt >= 0.35 && dt <= 1.5, "%s: 0.5 s of capture with no writer took %.3f s",
		      name, dt);
		s = h_first_sound(buf, p.format, 2, frames);
		CHECK(s == frames, "%s: capture with no writer has non-silence at frame %zu", name,
		      s);
		/* The byte values alsa-lib defines as this format's silence. */
		CHECK(!memcmp(buf, &sil, fb < 8 ? fb : 8) || fmts[i] == SND_PCM_FORMAT_U24_3BE,
		      "%s: first bytes are not snd_pcm_format_silence_64()", name);
		if (fmts[i] == SND_PCM_FORMAT_U8)
			CHECK(buf[0] == 0x80 && buf[frames * fb - 1] == 0x80, "U8 silence is 0x%02x",
			      buf[0]);
		if (fmts[i] == SND_PCM_FORMAT_S16_LE)
			CHECK(buf[0] == 0 && buf[1] == 0, "S16 silence is not 0");
		if (fmts[i] == SND_PCM_FORMAT_U24_3BE)
			CHECK(buf[0] == 0x80 && buf[1] == 0 && buf[2] == 0, "U24_3BE silence is "
			      "%02x%02x%02x", buf[0], buf[1], buf[2]);
		snd_pcm_close(cap);
		free(buf);
	}
}

/* ---- a capture started in the middle --------------------------------------- */

static void test_capture_mid_stream(void)
{
	struct pair x;
	size_t pat_frames = RATE, cap_frames = RATE * 4 / 10, fb = 4;
	uint8_t *pat = malloc(pat_frames * fb), *buf = malloc(cap_frames * fb);
	long k = -1;
	size_t diff;
	pid_t pid;
	int status, err;

	REQUIRE(pair_open(&x, 0, 0, 100) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, pat_frames, 17);
	pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		/* The player: 1 s of pattern, blocking. */
		alarm(10);
		_exit(h_play(x.play, &x.pp, pat, pat_frames, true) == 0 ? 0 : 1);
	}
	h_sleep_ms(300);
	err = h_capture(x.cap, &x.cp, buf, cap_frames);
	CHECK(err == 0, "capture: %s", snd_strerror(err));
	REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid");
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "player failed");
	for (size_t i = 0; i < pat_frames; i++)
		if (!memcmp(buf, pat + i * fb, fb)) {
			k = (long)i;
			break;
		}
	REQUIRE(k > 0, "the capture's first frame is not a (later) pattern frame (k=%ld)", k);
	CHECK(k > RATE / 20 && k < RATE * 8 / 10, "capture started at pattern frame %ld, "
	      "expected about 0.3 s in", k);
	REQUIRE((size_t)k + cap_frames <= pat_frames, "pattern ended inside the capture");
	diff = h_first_diff(buf, pat + (size_t)k * fb, fb, cap_frames);
	CHECK(diff == cap_frames, "capture is not contiguous: frame %zu differs from pattern "
	      "frame %zu", diff, (size_t)k + diff);
	h_note("capture started %ld frames into the pattern", k);
	pair_close(&x);
	free(pat);
	free(buf);
}

/* ---- xruns ------------------------------------------------------------------ */

static void test_underrun(void)
{
	struct pair x;
	size_t max = RATE * 2, got = 0, mark, fb = 4;
	uint8_t *buf = malloc(max * fb), *p1, *p2;
	snd_pcm_sframes_t r;
	char why[512];
	int err;

	REQUIRE(pair_open(&x, 0, 0, 100) == 0, "open");
	/* The capture must hold everything until we read it after the xrun. */
	h_params_init(&x.cp, SND_PCM_FORMAT_S16_LE, RATE, 2, 500);
	REQUIRE(pair_setup(&x) == 0, "setup");
	p1 = malloc(x.pp.period * fb);
	p2 = malloc(4000 * fb);
	h_pattern(p1, x.pp.format, 2, x.pp.period, 41);
	h_pattern(p2, x.pp.format, 2, 4000, 42);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	r = snd_pcm_writei(x.play, p1, x.pp.period);
	REQUIRE(r == (snd_pcm_sframes_t)x.pp.period, "write one period: %ld", (long)r);
	/* Stop writing for longer than the buffer. */
	h_sleep_ms(250);
	r = snd_pcm_avail_update(x.play);
	CHECK(r == -EPIPE, "avail_update after the buffer ran dry = %ld, want -EPIPE", (long)r);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_XRUN, "state %s, want XRUN",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	r = snd_pcm_writei(x.play, p1, 16);
	CHECK(r == -EPIPE, "writei in XRUN = %ld, want -EPIPE", (long)r);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "capture read: %ld", (long)r);
	CHECK(h_check_sps(buf, got, p1, x.pp.period, x.cp.format, 2, NULL, why, sizeof(why)),
	      "capture around the underrun: %s", why);

	/* Recovery: prepare, and a new stream plays bit-exact. */
	mark = got;
	err = snd_pcm_prepare(x.play);
	CHECK(err == 0, "prepare after underrun: %s", snd_strerror(err));
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_PREPARED, "state after prepare: %s",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	h_sleep_ms(3);
	r = snd_pcm_writei(x.play, p2, 4000);
	CHECK(r == 4000, "write after recovery: %ld", (long)r);
	h_sleep_ms(200);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "capture read 2: %ld", (long)r);
	CHECK(h_check_sps(buf + mark * fb, got - mark, p2, 4000, x.cp.format, 2, NULL, why,
			  sizeof(why)), "stream after prepare: %s", why);
	pair_close(&x);
	free(buf);
	free(p1);
	free(p2);
}

static void test_overrun(void)
{
	struct pair x;
	uint8_t *buf = malloc(RATE * 4);
	snd_pcm_sframes_t r;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 100) == 0, "open");
	REQUIRE(h_setup(x.cap, &x.cp) == 0, "setup");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start");
	h_sleep_ms(250);
	r = snd_pcm_readi(x.cap, buf, 64);
	CHECK(r == -EPIPE, "read after > buffer time unread = %ld, want -EPIPE", (long)r);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_XRUN, "state %s, want XRUN",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	err = snd_pcm_prepare(x.cap);
	CHECK(err == 0, "prepare: %s", snd_strerror(err));
	err = snd_pcm_start(x.cap);
	CHECK(err == 0, "start: %s", snd_strerror(err));
	r = snd_pcm_readi(x.cap, buf, RATE / 10);
	CHECK(r == RATE / 10, "read after recovery = %ld", (long)r);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_RUNNING, "state after recovery %s",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	pair_close(&x);
	free(buf);
}

/* ---- pause ------------------------------------------------------------------ */

static void test_pause_playback(void)
{
	struct pair x;
	size_t pat_frames = RATE * 6 / 10, off = 0, max = RATE * 3, got = 0, fb = 4, n = 0;
	uint8_t *pat = malloc(pat_frames * fb), *buf = malloc(max * fb), *heard;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sframes_t r, a1, a2;
	double t0, t_pause = 0, t_end;
	bool paused = false, resumed = false;
	size_t first = max, last = 0, silent_in_between, diff;
	int err;

	REQUIRE(pair_open(&x, SND_PCM_NONBLOCK, SND_PCM_NONBLOCK, 100) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	snd_pcm_hw_params_alloca(&hw);
	REQUIRE(snd_pcm_hw_params_current(x.play, hw) == 0, "hw_params_current");
	REQUIRE(snd_pcm_hw_params_can_pause(hw), "playback cannot pause");
	h_pattern(pat, x.pp.format, 2, pat_frames, 55);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	t0 = h_now();
	t_end = t0 + 5.0;
	for (;;) {
		double now = h_now();

		if (!paused && !resumed && now - t0 > 0.2) {
			err = snd_pcm_pause(x.play, 1);
			CHECK(err == 0, "pause: %s", snd_strerror(err));
			CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_PAUSED, "state %s",
			      snd_pcm_state_name(snd_pcm_state(x.play)));
			paused = true;
			t_pause = now;
			a1 = snd_pcm_avail(x.play);
		}
		if (paused && now - t_pause > 0.25) {
			a2 = snd_pcm_avail(x.play);
			CHECK(a1 == a2, "playback avail moved while paused: %ld -> %ld", (long)a1,
			      (long)a2);
			err = snd_pcm_pause(x.play, 0);
			CHECK(err == 0, "resume: %s", snd_strerror(err));
			paused = false;
			resumed = true;
		}
		if (!paused && off < pat_frames) {
			r = snd_pcm_writei(x.play, pat + off * fb, pat_frames - off);
			if (r > 0)
				off += (size_t)r;
			else if (r != -EAGAIN)
				REQUIRE(0, "write: %s", snd_strerror((int)r));
		}
		r = snd_pcm_readi(x.cap, buf + got * fb, max - got);
		if (r > 0)
			got += (size_t)r;
		else if (r != -EAGAIN)
			REQUIRE(0, "read: %s", snd_strerror((int)r));
		if (off == pat_frames && resumed) {
			r = snd_pcm_avail_update(x.play);
			if (r == -EPIPE || r >= (snd_pcm_sframes_t)x.pp.buffer)
				break;
		}
		REQUIRE(now < t_end, "stream did not finish");
		h_sleep_ms(5);
	}
	h_sleep_ms(30);
	r = snd_pcm_readi(x.cap, buf + got * fb, max - got);
	if (r > 0)
		got += (size_t)r;
	/* The non-silent frames, concatenated, are the pattern exactly. */
	heard = malloc(got * fb);
	for (size_t i = 0; i < got; i++) {
		if (h_first_sound(buf + i * fb, x.cp.format, 2, 1) == 1)
			continue;	/* silence */
		if (first == max)
			first = i;
		last = i;
		memcpy(heard + n * fb, buf + i * fb, fb);
		n++;
	}
	/* Silent frames strictly between the first and last sound. */
	silent_in_between = last >= first ? last - first + 1 - n : 0;
	CHECK(n == pat_frames, "heard %zu non-silent frames, the pattern has %zu", n, pat_frames);
	diff = h_first_diff(heard, pat, fb, n < pat_frames ? n : pat_frames);
	CHECK(diff == (n < pat_frames ? n : pat_frames), "heard frame %zu differs from the "
	      "pattern: lost or repeated frames around the pause", diff);
	CHECK(silent_in_between >= RATE / 10, "only %zu silent frames inside the stream; the "
	      "pause of 0.25 s should give ~%u", silent_in_between, RATE / 4);
	h_note("pause gap: %zu frames of silence", silent_in_between);
	pair_close(&x);
	free(heard);
	free(pat);
	free(buf);
}

static void test_pause_capture(void)
{
	struct pair x;
	snd_pcm_sframes_t a1, a2, a3;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	REQUIRE(h_setup(x.cap, &x.cp) == 0, "setup");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start");
	h_sleep_ms(50);
	err = snd_pcm_pause(x.cap, 1);
	CHECK(err == 0, "pause capture: %s", snd_strerror(err));
	a1 = snd_pcm_avail(x.cap);
	h_sleep_ms(100);
	a2 = snd_pcm_avail(x.cap);
	CHECK(a1 >= 0 && a1 == a2, "capture avail moved while paused: %ld -> %ld", (long)a1,
	      (long)a2);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_PAUSED, "state %s",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	err = snd_pcm_pause(x.cap, 0);
	CHECK(err == 0, "resume capture: %s", snd_strerror(err));
	h_sleep_ms(50);
	a3 = snd_pcm_avail(x.cap);
	CHECK(a3 > a2 + RATE / 50, "capture avail after resume: %ld -> %ld", (long)a2, (long)a3);
	pair_close(&x);
}

/* ---- drop and drain ----------------------------------------------------------- */

static void test_drop(void)
{
	struct pair x;
	uint8_t *pat = malloc(RATE * 4);
	double t0, dt;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	REQUIRE(h_setup(x.play, &x.pp) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, RATE / 4, 3);
	REQUIRE(snd_pcm_writei(x.play, pat, RATE / 4) == RATE / 4, "write");
	t0 = h_now();
	err = snd_pcm_drop(x.play);
	dt = h_now() - t0;
	CHECK(err == 0, "drop: %s", snd_strerror(err));
	CHECK(dt < 0.1, "drop of 250 ms queued took %.3f s", dt);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_SETUP, "state after drop %s",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	pair_close(&x);
	free(pat);
}

/* Drain: returns after about the queued time; the capture heard it all. */
static void drain_case(bool started, const char *what)
{
	struct pair x;
	size_t frames = RATE * 3 / 10, max = RATE * 2, got = 0, fb = 4;
	uint8_t *pat = malloc(frames * fb), *buf = malloc(max * fb);
	snd_pcm_sframes_t r;
	double t0, dt;
	char why[512];
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	if (!started)
		x.pp.start_threshold = x.pp.buffer;	/* never starts by itself */
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, frames, 71);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	r = snd_pcm_writei(x.play, pat, frames);
	REQUIRE(r == (snd_pcm_sframes_t)frames, "write: %ld", (long)r);
	CHECK(snd_pcm_state(x.play) == (started ? SND_PCM_STATE_RUNNING :
					 SND_PCM_STATE_PREPARED), "%s: state before drain %s",
	      what, snd_pcm_state_name(snd_pcm_state(x.play)));
	t0 = h_now();
	err = snd_pcm_drain(x.play);
	dt = h_now() - t0;
	CHECK(err == 0, "%s: drain: %s", what, snd_strerror(err));
	CHECK(dt >= 0.2 && dt <= 1.5, "%s: drain of 0.3 s took %.3f s", what, dt);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_SETUP, "%s: state after drain %s", what,
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	h_sleep_ms(20);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "read: %ld", (long)r);
	CHECK(h_check_sps(buf, got, pat, frames, x.cp.format, 2, NULL, why, sizeof(why)),
	      "%s: capture: %s", what, why);
	h_note("%s: %.3f s", what, dt);
	pair_close(&x);
	free(pat);
	free(buf);
}

static void test_drain(void)
{
	drain_case(true, "blocking drain of a running playback");
}

static void test_drain_not_started(void)
{
	drain_case(false, "drain of a prepared, never started playback");
}

static void test_drain_nonblock(void)
{
	struct pair x;
	size_t frames = RATE / 5, max = RATE * 2, got = 0, fb = 4;
	uint8_t *pat = malloc(frames * fb), *buf = malloc(max * fb);
	snd_pcm_sframes_t r;
	unsigned int wakeups = 0;
	double t0, dt;
	char why[512];
	int err;

	REQUIRE(pair_open(&x, SND_PCM_NONBLOCK, 0, 500) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, frames, 72);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	r = snd_pcm_writei(x.play, pat, frames);
	REQUIRE(r == (snd_pcm_sframes_t)frames, "write: %ld", (long)r);
	t0 = h_now();
	err = snd_pcm_drain(x.play);
	CHECK(err == -EAGAIN, "non-blocking drain = %d, want -EAGAIN", err);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_DRAINING, "state %s, want DRAINING",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	while (snd_pcm_state(x.play) == SND_PCM_STATE_DRAINING && h_now() - t0 < 3.0) {
		int rev = h_wait(x.play, 1000);

		REQUIRE(rev >= 0, "poll: %s", snd_strerror(rev));
		wakeups++;
	}
	dt = h_now() - t0;
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_SETUP, "state after the drain %s",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	CHECK(dt >= 0.1 && dt <= 1.5, "non-blocking drain of 0.2 s completed after %.3f s", dt);
	CHECK(wakeups < 1000, "%u poll wake-ups for one drain: busy loop", wakeups);
	h_sleep_ms(20);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "read: %ld", (long)r);
	CHECK(h_check_sps(buf, got, pat, frames, x.cp.format, 2, NULL, why, sizeof(why)),
	      "capture: %s", why);
	h_note("non-blocking drain: %.3f s, %u wake-ups", dt, wakeups);
	pair_close(&x);
	free(pat);
	free(buf);
}

static void test_drain_capture(void)
{
	struct pair x;
	double t0, dt;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	REQUIRE(h_setup(x.cap, &x.cp) == 0, "setup");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start");
	h_sleep_ms(20);
	t0 = h_now();
	err = snd_pcm_drain(x.cap);
	dt = h_now() - t0;
	CHECK(err == 0, "capture drain: %s", snd_strerror(err));
	CHECK(dt < 0.1, "capture drain took %.3f s, want < 0.1", dt);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_SETUP, "state after capture drain %s",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	pair_close(&x);
}

/* ---- reset ---------------------------------------------------------------------- */

/*
 * snd_pcm_reset() of a running playback: as the kernel, it goes on
 * running with appl = hw (avail = buffer, delay 0), the queued frames
 * dropped.  It holds still until the next write (alsa-loopback(7)), so a
 * client that refills after the reset goes on without an xrun, and the
 * capture hears what played before the reset, silence, then all of the
 * new frames.
 */
static void test_reset_playback(void)
{
	struct pair x;
	size_t n = RATE / 20, max = RATE * 2, got = 0, fb = 4, lead_a, b_at = 0, diff;
	uint8_t *a = malloc(n * fb), *b = malloc(n * fb), *buf = malloc(max * fb);
	snd_pcm_sframes_t r, delay = -1;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 100) == 0, "open");
	/* The capture holds everything until it is read at the end. */
	h_params_init(&x.cp, SND_PCM_FORMAT_S16_LE, RATE, 2, 500);
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(a, x.pp.format, 2, n, 81);
	h_pattern(b, x.pp.format, 2, n, 82);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	REQUIRE(snd_pcm_writei(x.play, a, n) == (snd_pcm_sframes_t)n, "write A");
	h_sleep_ms(20);
	err = snd_pcm_reset(x.play);
	CHECK(err == 0, "reset: %s", snd_strerror(err));
	r = snd_pcm_avail_update(x.play);
	CHECK(r == (snd_pcm_sframes_t)x.pp.buffer, "avail after reset = %ld, want the buffer %lu",
	      (long)r, x.pp.buffer);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_RUNNING, "state after reset %s, want RUNNING",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	err = snd_pcm_delay(x.play, &delay);
	CHECK(err == 0 && delay == 0, "delay after reset = %ld (%d), want 0", (long)delay, err);
	h_sleep_ms(10);
	r = snd_pcm_avail_update(x.play);
	CHECK(r == (snd_pcm_sframes_t)x.pp.buffer, "10 ms after the reset, before a write: avail "
	      "%ld, want the buffer (held until the next write)", (long)r);
	r = snd_pcm_writei(x.play, b, n);
	CHECK(r == (snd_pcm_sframes_t)n, "write B after the reset: %ld (%s)", (long)r,
	      r < 0 ? snd_strerror((int)r) : "");
	err = snd_pcm_drain(x.play);
	CHECK(err == 0, "drain: %s", snd_strerror(err));
	h_sleep_ms(20);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "read: %ld", (long)r);
	/* A's first part, then silence, then all of B. */
	lead_a = h_first_sound(buf, x.cp.format, 2, got);
	REQUIRE(lead_a < got, "the capture heard nothing");
	diff = h_first_diff(buf + lead_a * fb, a, fb, got - lead_a < n ? got - lead_a : n);
	CHECK(diff > 0 && diff < n, "heard %zu frames of A before the reset, want a part of %zu",
	      diff, n);
	for (size_t i = lead_a + diff; i < got; i++)
		if (!memcmp(buf + i * fb, b, fb)) {
			b_at = i;
			break;
		}
	REQUIRE(b_at > 0, "B's first frame never heard");
	CHECK(h_first_sound(buf + (lead_a + diff) * fb, x.cp.format, 2, b_at - lead_a - diff) ==
	      b_at - lead_a - diff, "between A's part and B: not silence");
	REQUIRE(b_at + n <= got, "B heard only in part (%zu of %zu)", got - b_at, n);
	CHECK(h_first_diff(buf + b_at * fb, b, fb, n) == n, "B not heard bit-exact");
	h_note("reset: %zu frames of A heard, %zu silent, then B", diff, b_at - lead_a - diff);
	pair_close(&x);
	free(a);
	free(b);
	free(buf);
}

/* snd_pcm_reset() of a running capture: nothing left to read, and it runs on. */
static void test_reset_capture(void)
{
	struct pair x;
	uint8_t *buf = malloc(RATE * 4);
	snd_pcm_sframes_t before, after, r;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 200) == 0, "open");
	REQUIRE(h_setup(x.cap, &x.cp) == 0, "setup");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start");
	h_sleep_ms(60);
	before = snd_pcm_avail_update(x.cap);
	err = snd_pcm_reset(x.cap);
	CHECK(err == 0, "reset: %s", snd_strerror(err));
	after = snd_pcm_avail_update(x.cap);
	CHECK(before >= RATE / 50, "avail before the reset %ld: the capture did not run",
	      (long)before);
	CHECK(after >= 0 && after < before / 2, "avail after reset = %ld (before: %ld), want ~0",
	      (long)after, (long)before);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_RUNNING, "state after reset %s",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	r = snd_pcm_readi(x.cap, buf, x.cp.period);
	CHECK(r == (snd_pcm_sframes_t)x.cp.period, "read a period after the reset: %ld", (long)r);
	CHECK(snd_pcm_state(x.cap) == SND_PCM_STATE_RUNNING, "state after the read %s",
	      snd_pcm_state_name(snd_pcm_state(x.cap)));
	pair_close(&x);
	free(buf);
}

/*
 * snd_pcm_drain() of a PAUSED playback: the kernel resumes and drains;
 * alsa-lib's snd_pcm_ioplug_drain() drops a PAUSED stream without calling
 * any callback but stop, so it cannot be done (alsa-loopback(7)).  What we
 * do: drain returns 0 at once, the stream is SETUP, the capture heard what
 * played before the pause and nothing of the rest.
 */
static void test_drain_paused(void)
{
	struct pair x;
	size_t frames = RATE / 5, max = RATE * 2, got = 0, fb = 4, lead, heard;
	uint8_t *pat = malloc(frames * fb), *buf = malloc(max * fb);
	snd_pcm_sframes_t r;
	double t0, dt;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, frames, 91);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(3);
	REQUIRE(snd_pcm_writei(x.play, pat, frames) == (snd_pcm_sframes_t)frames, "write");
	h_sleep_ms(50);
	REQUIRE(snd_pcm_pause(x.play, 1) == 0, "pause");
	t0 = h_now();
	err = snd_pcm_drain(x.play);
	dt = h_now() - t0;
	CHECK(err == 0, "drain of a paused playback: %s", snd_strerror(err));
	CHECK(dt < 0.1, "drain of a paused playback took %.3f s: ioplug drops it", dt);
	CHECK(snd_pcm_state(x.play) == SND_PCM_STATE_SETUP, "state after the drain %s",
	      snd_pcm_state_name(snd_pcm_state(x.play)));
	h_sleep_ms(200);
	r = read_avail(x.cap, &x.cp, buf, &got, max);
	CHECK(r >= 0, "read: %ld", (long)r);
	lead = h_first_sound(buf, x.cp.format, 2, got);
	/* Compare no further than the pattern goes (ASan: memcmp reads it all). */
	heard = lead < got ? h_first_diff(buf + lead * fb, pat, fb,
					  got - lead < frames ? got - lead : frames) : 0;
	CHECK(heard > 0 && heard < frames, "the capture heard %zu of %zu frames: want what "
	      "played before the pause only", heard, frames);
	CHECK(h_first_sound(buf + (lead + heard) * fb, x.cp.format, 2, got - lead - heard) ==
	      got - lead - heard, "something after the pause point was heard");
	h_note("drain while paused: %.3f s, %zu of %zu frames heard", dt, heard, frames);
	pair_close(&x);
	free(pat);
	free(buf);
}

/*
 * A lossless playback may rewind what its capture has not taken
 * (snd_pcm_rewindable()), and the capture gets the rewritten frames.  A
 * rewind past that (alsa-lib does not clamp it on an ioplug) would lose
 * frames silently: the playback gets -EPIPE (XRUN) instead.
 */
static void test_lossless_rewind(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play = NULL, *cap = NULL;
	struct h_params pp, cp;
	size_t n = 4800, fb = 4, got = 0;
	uint8_t *a = malloc(n * fb), *c = malloc(n * fb), *buf = malloc(4 * n * fb);
	snd_pcm_sframes_t r, rw;

	REQUIRE(h_openf(&play, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK,
			"type loopback card \"%s\" subdevice %u device 0 clock lossless", h_card,
			sub) == 0, "open playback");
	if (h_openf(&cap, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK,
		    "type loopback card \"%s\" subdevice %u device 1 clock lossless", h_card,
		    sub) != 0) {
		CHECK(0, "open capture");
		goto out;
	}
	h_params_init(&pp, SND_PCM_FORMAT_S16_LE, RATE, 2, 200);
	cp = pp;
	if (h_setup(play, &pp) || h_setup(cap, &cp)) {
		CHECK(0, "setup");
		goto out;
	}
	h_pattern(a, pp.format, 2, n, 101);
	h_pattern(c, pp.format, 2, n, 102);
	r = snd_pcm_writei(play, a, n);
	CHECK(r == (snd_pcm_sframes_t)n, "write: %ld", (long)r);
	CHECK(snd_pcm_start(cap) == 0, "start capture");
	r = snd_pcm_readi(cap, buf, n / 2);
	CHECK(r == (snd_pcm_sframes_t)n / 2, "capture takes half: %ld", (long)r);
	got = r > 0 ? (size_t)r : 0;
	snd_pcm_avail_update(play);
	rw = snd_pcm_rewindable(play);
	CHECK(rw == (snd_pcm_sframes_t)(n / 2), "rewindable %ld, want %zu (not taken yet)",
	      (long)rw, n / 2);

	/* Within what is rewindable: rewrite the last quarter. */
	r = snd_pcm_rewind(play, n / 4);
	CHECK(r == (snd_pcm_sframes_t)n / 4, "rewind %zu: %ld", n / 4, (long)r);
	r = snd_pcm_writei(play, c, n / 4);
	CHECK(r == (snd_pcm_sframes_t)n / 4, "rewrite: %ld (%s)", (long)r,
	      r < 0 ? snd_strerror((int)r) : "");
	while ((r = snd_pcm_readi(cap, buf + got * fb, n)) > 0)
		got += (size_t)r;
	CHECK(got == n, "the capture got %zu frames, want %zu", got, n);
	CHECK(h_first_diff(buf, a, fb, n * 3 / 4) == n * 3 / 4 &&
	      h_first_diff(buf + n * 3 / 4 * fb, c, fb, n / 4) == n / 4,
	      "the capture did not get A's first 3/4, then the rewritten quarter");

	/* Past what is rewindable: refused. */
	r = snd_pcm_writei(play, a, n);
	CHECK(r == (snd_pcm_sframes_t)n, "write again: %ld", (long)r);
	r = snd_pcm_readi(cap, buf, n / 2);
	CHECK(r == (snd_pcm_sframes_t)n / 2, "capture takes half again: %ld", (long)r);
	h_errors_clear();
	r = snd_pcm_rewind(play, n);
	r = snd_pcm_avail_update(play);
	CHECK(r == -EPIPE, "avail_update after rewinding past the capture = %ld, want -EPIPE",
	      (long)r);
	CHECK(snd_pcm_state(play) == SND_PCM_STATE_XRUN, "state %s, want XRUN",
	      snd_pcm_state_name(snd_pcm_state(play)));
	CHECK(strstr(h_errors(), "cannot take frames back") != NULL, "no error message: '%s'",
	      h_errors());
	r = snd_pcm_writei(play, c, n / 4);
	CHECK(r == -EPIPE, "write after the refused rewind = %ld, want -EPIPE", (long)r);
	/* The rest of what was written still arrives: nothing lost. */
	got = 0;
	while ((r = snd_pcm_readi(cap, buf + got * fb, n)) > 0)
		got += (size_t)r;
	CHECK(got == n / 2 && h_first_diff(buf, a + n / 2 * fb, fb, n / 2) == n / 2,
	      "the capture got %zu frames of A's second half (want %zu, bit-exact)", got, n / 2);
	CHECK(snd_pcm_prepare(play) == 0, "prepare recovers");
out:
	free(a);
	free(c);
	free(buf);
	if (cap)
		snd_pcm_close(cap);
	snd_pcm_close(play);
}

/* ---- avail and delay -------------------------------------------------------- */

/* Is measured within 25 % (+ 5 ms of frames) of expected? */
static bool near_rate(double measured, double expected)
{
	double tol = expected * 0.25 + RATE * 0.005;

	return measured >= expected - tol && measured <= expected + tol;
}

static void test_avail_delay(void)
{
	struct pair x;
	size_t k = RATE / 3;
	uint8_t *pat = malloc(k * 4);
	snd_pcm_sframes_t avail, d0, d1, a0, a1;
	double t0, t1;
	int err;

	REQUIRE(pair_open(&x, 0, 0, 500) == 0, "open");
	x.pp.start_threshold = x.pp.buffer;
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, k, 5);
	REQUIRE(snd_pcm_writei(x.play, pat, k) == (snd_pcm_sframes_t)k, "write");
	err = snd_pcm_delay(x.play, &d0);
	CHECK(err == 0 && d0 == (snd_pcm_sframes_t)k, "delay after writing %zu to a prepared "
	      "playback = %ld (err %d)", k, (long)d0, err);
	avail = snd_pcm_avail(x.play);
	CHECK(avail == (snd_pcm_sframes_t)(x.pp.buffer - k), "avail = %ld, want %lu - %zu",
	      (long)avail, x.pp.buffer, k);

	REQUIRE(snd_pcm_start(x.play) == 0, "start");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	snd_pcm_delay(x.play, &d0);
	a0 = snd_pcm_avail(x.cap);
	t0 = h_now();
	h_sleep_ms(150);
	snd_pcm_delay(x.play, &d1);
	a1 = snd_pcm_avail(x.cap);
	t1 = h_now();
	CHECK(near_rate((double)(d0 - d1), (t1 - t0) * RATE), "playback delay fell by %ld in "
	      "%.3f s (nominal %.0f)", (long)(d0 - d1), t1 - t0, (t1 - t0) * RATE);
	CHECK(near_rate((double)(a1 - a0), (t1 - t0) * RATE), "capture avail grew by %ld in "
	      "%.3f s (nominal %.0f)", (long)(a1 - a0), t1 - t0, (t1 - t0) * RATE);
	avail = snd_pcm_avail(x.play);
	snd_pcm_delay(x.play, &d1);
	CHECK(avail + d1 == (snd_pcm_sframes_t)x.pp.buffer, "running: avail %ld + delay %ld != "
	      "buffer %lu", (long)avail, (long)d1, x.pp.buffer);
	pair_close(&x);
	free(pat);
}

/* ---- non-blocking mode ---------------------------------------------------------- */

static void test_nonblock(void)
{
	struct pair x;
	uint8_t *pat;
	snd_pcm_sframes_t r;
	double t0, dt;
	bool eagain = false;

	REQUIRE(pair_open(&x, SND_PCM_NONBLOCK, SND_PCM_NONBLOCK, 100) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	pat = malloc(x.pp.buffer * 2 * 4);
	h_pattern(pat, x.pp.format, 2, x.pp.buffer * 2, 8);
	r = snd_pcm_writei(x.play, pat, x.pp.buffer);
	CHECK(r == (snd_pcm_sframes_t)x.pp.buffer, "fill the buffer: %ld", (long)r);
	t0 = h_now();
	r = snd_pcm_writei(x.play, pat, x.pp.buffer);
	dt = h_now() - t0;
	CHECK(r == -EAGAIN, "writei on a full buffer = %ld, want -EAGAIN", (long)r);
	CHECK(dt < 0.05, "non-blocking writei took %.3f s", dt);

	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	/*
	 * "Nothing available" is a moment, not a state: a frame arrives every
	 * 21 us.  Empty the buffer, read again at once; a loaded machine may
	 * let a few frames in between, which readi then rightly returns, so
	 * retry, but such a read must stay within what real time produced.
	 */
	for (int i = 0; i < 50 && !eagain; i++) {
		double t_empty;

		while (snd_pcm_readi(x.cap, pat, x.pp.buffer) > 0)
			;
		t_empty = h_now();
		r = snd_pcm_readi(x.cap, pat, x.cp.period);
		dt = h_now() - t_empty;
		CHECK(dt < 0.05, "non-blocking readi took %.3f s", dt);
		if (r == -EAGAIN)
			eagain = true;
		else
			CHECK(r > 0 && r <= dt * RATE + 64, "readi right after emptying = %ld "
			      "(%.6f s later), want -EAGAIN or a few frames", (long)r, dt);
	}
	CHECK(eagain, "readi with nothing available never returned -EAGAIN");
	pair_close(&x);
	free(pat);
}

/* ---- poll ----------------------------------------------------------------------- */

static void test_poll_loop(void)
{
	struct pair x;
	struct pollfd pfd[8];
	int np, nc;
	size_t written = 0, read_frames = 0, fb = 4;
	uint8_t *pat, *buf;
	unsigned int wakeups = 0, xruns = 0;
	double t0, dt;

	REQUIRE(pair_open(&x, SND_PCM_NONBLOCK, SND_PCM_NONBLOCK, 100) == 0, "open");
	x.pp.period = x.cp.period = 64;
	x.pp.buffer = x.cp.buffer = 64 * 64;
	x.pp.avail_min = x.cp.avail_min = 64;
	REQUIRE(pair_setup(&x) == 0, "setup");
	REQUIRE(x.pp.period == 64 && x.cp.period == 64, "period %lu/%lu, want 64", x.pp.period,
		x.cp.period);
	pat = malloc(x.pp.buffer * fb);
	buf = malloc(x.cp.buffer * fb);
	h_pattern(pat, x.pp.format, 2, x.pp.buffer, 1);
	np = snd_pcm_poll_descriptors(x.play, pfd, 4);
	nc = snd_pcm_poll_descriptors(x.cap, pfd + np, 4);
	REQUIRE(np > 0 && nc > 0, "poll descriptors %d %d", np, nc);
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	t0 = h_now();
	while ((dt = h_now() - t0) < 2.0) {
		unsigned short rp = 0, rc = 0;
		snd_pcm_sframes_t r;
		int n = poll(pfd, (nfds_t)(np + nc), 1000);

		REQUIRE(n > 0, "poll timed out after 1 s with a running stream (n=%d)", n);
		wakeups++;
		snd_pcm_poll_descriptors_revents(x.play, pfd, (unsigned int)np, &rp);
		snd_pcm_poll_descriptors_revents(x.cap, pfd + np, (unsigned int)nc, &rc);
		if (rp & (POLLOUT | POLLERR)) {
			r = snd_pcm_writei(x.play, pat, x.pp.buffer);
			if (r > 0) {
				written += (size_t)r;
			} else if (r == -EPIPE) {
				xruns++;
				snd_pcm_prepare(x.play);
			}
		}
		if (rc & (POLLIN | POLLERR)) {
			r = snd_pcm_readi(x.cap, buf, x.cp.buffer);
			if (r > 0) {
				read_frames += (size_t)r;
			} else if (r == -EPIPE) {
				xruns++;
				snd_pcm_prepare(x.cap);
				snd_pcm_start(x.cap);
			}
		}
	}
	h_note("poll loop %.2f s: wrote %zu, read %zu, %u wake-ups, %u xruns", dt, written,
	       read_frames, wakeups, xruns);
	CHECK(written >= dt * RATE * 0.9 && written <= dt * RATE * 1.1 + x.pp.buffer,
	      "wrote %zu frames in %.2f s (nominal %.0f + buffer %lu)", written, dt, dt * RATE,
	      x.pp.buffer);
	CHECK(read_frames >= dt * RATE * 0.9 - x.cp.buffer && read_frames <= dt * RATE * 1.1,
	      "read %zu frames in %.2f s (nominal %.0f)", read_frames, dt, dt * RATE);
	/* 64-frame periods: ~1500 per stream per second would be expected. */
	CHECK(wakeups <= 2 * 2 * dt * RATE / 64 + 200, "%u wake-ups in %.2f s: busy loop",
	      wakeups, dt);
	pair_close(&x);
	free(pat);
	free(buf);
}

static void test_poll_prepared_capture(void)
{
	struct pair x;
	double t0, dt;
	int rev;

	REQUIRE(pair_open(&x, 0, SND_PCM_NONBLOCK, 100) == 0, "open");
	REQUIRE(h_setup(x.cap, &x.cp) == 0, "setup");
	t0 = h_now();
	rev = h_wait(x.cap, 200);
	dt = h_now() - t0;
	CHECK(rev >= 0 && !(rev & POLLIN), "poll on a PREPARED capture reported revents 0x%x",
	      rev);
	CHECK(dt >= 0.15, "poll on a PREPARED capture returned after %.3f s", dt);
	pair_close(&x);
}

static void test_poll_after_drop(void)
{
	struct pair x;
	uint8_t *pat = malloc(RATE * 4);
	double t0, dt;
	int rev;

	REQUIRE(pair_open(&x, SND_PCM_NONBLOCK, SND_PCM_NONBLOCK, 500) == 0, "open");
	REQUIRE(pair_setup(&x) == 0, "setup");
	h_pattern(pat, x.pp.format, 2, RATE / 4, 1);
	REQUIRE(snd_pcm_writei(x.play, pat, RATE / 4) == RATE / 4, "write");
	REQUIRE(snd_pcm_start(x.cap) == 0, "start capture");
	h_sleep_ms(20);
	REQUIRE(snd_pcm_drop(x.play) == 0, "drop play");
	REQUIRE(snd_pcm_drop(x.cap) == 0, "drop cap");
	t0 = h_now();
	rev = h_wait(x.play, 2000);
	dt = h_now() - t0;
	CHECK(dt < 0.5, "poll on a dropped playback blocked %.3f s (revents 0x%x)", dt, rev);
	t0 = h_now();
	rev = h_wait(x.cap, 2000);
	dt = h_now() - t0;
	CHECK(dt < 0.5, "poll on a dropped capture blocked %.3f s (revents 0x%x)", dt, rev);
	pair_close(&x);
	free(pat);
}

/*
 * A lossless capture whose client polls the descriptors itself and never
 * asks snd_pcm_poll_descriptors_revents(): while the playback keeps up,
 * a waiting end spins, so its fd may read as ready with nothing there;
 * once the playback stalls, the fd must stop being readable within the
 * spin time, or such a client would spin for as long as the stall lasts.
 */
static void test_lossless_poll_no_revents(void)
{
	unsigned int sub = h_subdev();
	snd_pcm_t *play = NULL, *cap = NULL;
	struct h_params pp, cp;
	struct pollfd pfd[4];
	struct rusage ru0, ru1;
	int16_t *buf = NULL;
	unsigned int polls = 0, nfds;
	double t0, cpu;

	REQUIRE(h_openf(&play, SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK,
			"type loopback card \"%s\" subdevice %u device 0 clock lossless", h_card,
			sub) == 0, "open playback");
	if (h_openf(&cap, SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK,
		    "type loopback card \"%s\" subdevice %u device 1 clock lossless", h_card,
		    sub) != 0) {
		CHECK(0, "open capture");
		goto out;
	}
	h_params_init(&pp, SND_PCM_FORMAT_S16_LE, RATE, 2, 100);
	cp = pp;
	if (h_setup(play, &pp) || h_setup(cap, &cp)) {
		CHECK(0, "setup");
		goto out;
	}
	buf = calloc(pp.period * 2, sizeof(*buf));
	nfds = (unsigned int)snd_pcm_poll_descriptors(cap, pfd, 4);
	/* Flat out for 200 periods: both ends hot. */
	for (int i = 0; i < 200; i++) {
		h_pattern(buf, pp.format, 2, pp.period, (uint32_t)i + 1);
		while (snd_pcm_writei(play, buf, pp.period) == -EAGAIN)
			while (snd_pcm_readi(cap, buf, pp.period) > 0)
				;
		while (snd_pcm_readi(cap, buf, pp.period) > 0)
			;
	}
	/* The playback stalls for 0.5 s: poll, read until -EAGAIN, poll. */
	getrusage(RUSAGE_SELF, &ru0);
	t0 = h_now();
	while (h_now() - t0 < 0.5) {
		if (poll(pfd, nfds, 50) > 0)
			polls++;
		CHECK(snd_pcm_readi(cap, buf, pp.period) == -EAGAIN, "stalled: nothing to read");
	}
	getrusage(RUSAGE_SELF, &ru1);
	cpu = (double)(ru1.ru_utime.tv_sec - ru0.ru_utime.tv_sec + ru1.ru_stime.tv_sec -
		       ru0.ru_stime.tv_sec) +
	      (double)(ru1.ru_utime.tv_usec - ru0.ru_utime.tv_usec + ru1.ru_stime.tv_usec -
		       ru0.ru_stime.tv_usec) / 1e6;
	h_note("0.5 s stalled: %u readable polls, %.3f s CPU", polls, cpu);
	/* 50 us of spinning first (LOOP_FLOW_SPIN_NS), then the watchdog's 10 Hz. */
	CHECK(polls < 2000, "the fd stayed readable with nothing to read: %u polls in 0.5 s",
	      polls);
	CHECK(cpu < 0.1, "the client spun: %.3f s of CPU in 0.5 s", cpu);
out:
	free(buf);
	if (cap)
		snd_pcm_close(cap);
	snd_pcm_close(play);
}

int main(int argc, char **argv)
{
	(void)argc;
	h_init(argv[0]);
	h_run("real time: 1 s playback with no reader", test_playback_realtime, 15);
	h_run("real time: capture with no writer is silence", test_capture_silence, 20);
	h_run("capture started mid-stream hears a contiguous part", test_capture_mid_stream, 15);
	h_run("underrun: -EPIPE, XRUN, silence, prepare recovers", test_underrun, 15);
	h_run("overrun: -EPIPE, XRUN, prepare + start recover", test_overrun, 15);
	h_run("pause/resume playback: no loss, no duplication", test_pause_playback, 15);
	h_run("pause/resume capture freezes avail", test_pause_capture, 15);
	h_run("drop", test_drop, 15);
	h_run("drain: blocking", test_drain, 15);
	h_run("drain: prepared, never started", test_drain_not_started, 15);
	h_run("drain: non-blocking, completes via poll", test_drain_nonblock, 15);
	h_run("drain: capture returns at once", test_drain_capture, 15);
	h_run("drain: paused playback is dropped (ioplug)", test_drain_paused, 15);
	h_run("reset: running playback goes on, avail = buffer", test_reset_playback, 15);
	h_run("reset: running capture goes on, avail zeroed", test_reset_capture, 15);
	h_run("avail and delay", test_avail_delay, 15);
	h_run("SND_PCM_NONBLOCK: -EAGAIN", test_nonblock, 15);
	h_run("poll loop: 64-frame periods for 2 s", test_poll_loop, 20);
	h_run("poll: PREPARED capture is not readable", test_poll_prepared_capture, 15);
	h_run("poll: does not block after drop", test_poll_after_drop, 15);
	h_run("lossless: a stalled writer makes a no-revents poll client sleep",
	      test_lossless_poll_no_revents, 15);
	h_run("lossless: rewind within rewindable; past it, -EPIPE", test_lossless_rewind, 15);
	return h_finish();
}
