// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * harness.c - shared helpers of the C PCM tests (see harness.h).
 */
#define _GNU_SOURCE
#include "harness.h"
#include "conf.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

char h_card[32];
const char *h_test = "(none)";
int h_test_failed;

static char plugin_path[PATH_MAX];
static unsigned int next_subdev = 10;	/* 1..9: literal subdevices of tests */
static unsigned int tests_passed, tests_failed, tests_skipped;
static bool test_skipped;
static unsigned int watchdog_s;
static char errbuf[16384];
static size_t errlen;

/* ---- bookkeeping ----------------------------------------------------------- */

static void cleanup_segments(void)
{
	char prefix[64];
	struct dirent *de;
	DIR *d;

	/* Also catches the extra card keys tests derive from ours (h_card + "x"). */
	snprintf(prefix, sizeof(prefix), "alsa-loopback-%s", h_card);
	d = opendir(h_shm_dir());
	if (!d)
		return;
	while ((de = readdir(d))) {
		char path[512];

		if (strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(path, sizeof(path), "%s/%s", h_shm_dir(), de->d_name);
		unlink(path);
	}
	closedir(d);
}

static void on_alarm(int sig)
{
	char msg[256];
	int n;

	(void)sig;
	/* A hang must fail the test, never block CI. */
	n = snprintf(msg, sizeof(msg), "FAIL %s: watchdog: no progress after %u s (hang)\n",
		     h_test, watchdog_s);
	if (write(STDOUT_FILENO, msg, (size_t)n) < 0)
		_exit(1);
	cleanup_segments();
	_exit(1);
}

static void err_handler(const char *file, int line, const char *function, int err,
			const char *fmt, ...)
{
	char line_buf[1024];
	va_list ap;
	int n;

	(void)file;
	(void)line;
	(void)function;
	va_start(ap, fmt);
	n = vsnprintf(line_buf, sizeof(line_buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if (err)
		snprintf(line_buf + strlen(line_buf), sizeof(line_buf) - strlen(line_buf),
			 ": %s", snd_strerror(err));
	fprintf(stderr, "  alsa: %s\n", line_buf);
	if (errlen + strlen(line_buf) + 2 < sizeof(errbuf)) {
		memcpy(errbuf + errlen, line_buf, strlen(line_buf));
		errlen += strlen(line_buf);
		errbuf[errlen++] = '\n';
		errbuf[errlen] = 0;
	}
}

const char *h_errors(void)
{
	return errbuf;
}

void h_errors_clear(void)
{
	errlen = 0;
	errbuf[0] = 0;
}

void h_init(const char *prog)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	srand((unsigned int)(ts.tv_nsec ^ getpid()));
	/* Random, so parallel runs (make -j, two engineers) never share cables. */
	snprintf(h_card, sizeof(h_card), "c%d-%04x", (int)getpid(), rand() & 0xffff);
	snprintf(plugin_path, sizeof(plugin_path), "%s", t_plugin("pcm"));
	if (access(plugin_path, R_OK)) {
		fprintf(stderr, "%s: plugin not found at %s (set top_builddir)\n", prog,
			plugin_path);
		exit(99);
	}
	snd_lib_error_set_handler(err_handler);
	signal(SIGALRM, on_alarm);
	signal(SIGPIPE, SIG_IGN);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("# %s: card key %s, plugin %s\n", prog, h_card, plugin_path);
}

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	printf("  FAIL %s (%s:%d): ", h_test, file, line);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	h_test_failed++;
}

void h_note(const char *fmt, ...)
{
	va_list ap;

	printf("  # ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void h_skip(const char *fmt, ...)
{
	va_list ap;

	printf("  # SKIP: ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	test_skipped = true;
}

void h_run(const char *name, void (*fn)(void), unsigned int timeout_s)
{
	const char *only = getenv("H_ONLY");
	double t0;

	if (only && *only && !strstr(name, only))
		return;
	h_test = name;
	h_test_failed = 0;
	test_skipped = false;
	h_errors_clear();
	watchdog_s = timeout_s;
	t0 = h_now();
	alarm(timeout_s);
	fn();
	alarm(0);
	if (h_test_failed) {
		tests_failed++;
		printf("FAIL %s (%.2f s)\n", name, h_now() - t0);
	} else if (test_skipped) {
		tests_skipped++;
		printf("SKIP %s (%.2f s)\n", name, h_now() - t0);
	} else {
		tests_passed++;
		printf("PASS %s (%.2f s)\n", name, h_now() - t0);
	}
	h_test = "(none)";
}

int h_finish(void)
{
	cleanup_segments();
	snd_config_update_free_global();
	if (tests_skipped)
		printf("%u passed, %u failed, %u skipped\n", tests_passed, tests_failed,
		       tests_skipped);
	else
		printf("%u passed, %u failed\n", tests_passed, tests_failed);
	return tests_failed ? 1 : tests_skipped ? 77 : 0;
}

unsigned int h_subdev(void)
{
	return next_subdev++;
}

/* ---- opening ---------------------------------------------------------------- */

int h_openf(snd_pcm_t **pcm, snd_pcm_stream_t stream, int mode, const char *fmt, ...)
{
	char body[2048];
	snd_config_t *conf;
	va_list ap;
	int err;

	*pcm = NULL;
	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	err = t_conf_load(&conf, "pcm.x { %s }\n", body);
	if (err < 0)
		return err;
	err = snd_pcm_open_lconf(pcm, "x", stream, mode, conf);
	/* The opened PCM keeps no reference to the configuration. */
	snd_config_delete(conf);
	return err;
}

int h_open_end(snd_pcm_t **pcm, const char *card, unsigned int sub, unsigned int dev,
	       snd_pcm_stream_t stream, int mode)
{
	return h_openf(pcm, stream, mode, "type loopback card \"%s\" subdevice %u device %u",
		       card, sub, dev);
}

const char *h_shm_dir(void)
{
	static char dir[64];

	if (!dir[0])
		snprintf(dir, sizeof(dir), "/dev/shm/alsa-loopback-%u", (unsigned int)geteuid());
	return dir;
}

void h_seg_path(char *buf, size_t len, const char *card, unsigned int sub)
{
	snprintf(buf, len, "%s/alsa-loopback-%s.%u", h_shm_dir(), card, sub);
}

/* ---- parameters ------------------------------------------------------------- */

size_t h_frame_bytes(snd_pcm_format_t format, unsigned int channels)
{
	return (size_t)snd_pcm_format_physical_width(format) / 8 * channels;
}

void h_params_init(struct h_params *p, snd_pcm_format_t format, unsigned int rate,
		   unsigned int channels, unsigned int buffer_ms)
{
	size_t fb = h_frame_bytes(format, channels);
	snd_pcm_uframes_t buf = (snd_pcm_uframes_t)rate * buffer_ms / 1000;

	memset(p, 0, sizeof(*p));
	p->access = SND_PCM_ACCESS_RW_INTERLEAVED;
	p->format = format;
	p->rate = rate;
	p->channels = channels;
	/* The plugin allows at most 512 KiB per end. */
	if (buf * fb > 512 * 1024)
		buf = 512 * 1024 / fb;
	p->buffer = buf;
	p->period = buf / 4;
}

int h_setup(snd_pcm_t *pcm, struct h_params *p)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	unsigned int rate = p->rate;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(pcm, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(pcm, hw, p->access)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, p->format)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, p->channels)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, rate, 0)) < 0)
		return err;
	if (p->buffer && (err = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &p->buffer)) < 0)
		return err;
	if (p->period && (err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &p->period,
									 NULL)) < 0)
		return err;
	err = snd_pcm_hw_params(pcm, hw);
	if (err < 0)
		return err;
	snd_pcm_hw_params_get_buffer_size(hw, &p->buffer);
	snd_pcm_hw_params_get_period_size(hw, &p->period, NULL);
	if ((err = snd_pcm_sw_params_current(pcm, sw)) < 0)
		return err;
	if (p->start_threshold &&
	    (err = snd_pcm_sw_params_set_start_threshold(pcm, sw, p->start_threshold)) < 0)
		return err;
	if (p->avail_min && (err = snd_pcm_sw_params_set_avail_min(pcm, sw, p->avail_min)) < 0)
		return err;
	return snd_pcm_sw_params(pcm, sw);
}

/* ---- samples ---------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	/* splitmix64 finaliser: every input bit reaches every output bit. */
	x ^= x >> 30;
	x *= UINT64_C(0xbf58476d1ce4e5b9);
	x ^= x >> 27;
	x *= UINT64_C(0x94d049bb133111eb);
	x ^= x >> 31;
	return x;
}

static void put_bytes(uint8_t *p, unsigned int bytes, bool little, uint64_t v)
{
	for (unsigned int i = 0; i < bytes; i++)
		p[little ? i : bytes - 1 - i] = (uint8_t)(v >> (8 * i));
}

/* One sample of the pattern, never the format's silence. */
static void put_sample(uint8_t *p, snd_pcm_format_t f, uint64_t h)
{
	unsigned int bytes = (unsigned int)snd_pcm_format_physical_width(f) / 8;
	bool little = snd_pcm_format_little_endian(f) == 1;
	int width = snd_pcm_format_width(f);
	uint64_t v;

	if (f == SND_PCM_FORMAT_FLOAT_LE || f == SND_PCM_FORMAT_FLOAT_BE ||
	    f == SND_PCM_FORMAT_FLOAT64_LE || f == SND_PCM_FORMAT_FLOAT64_BE) {
		/* Real audio values in (-1, 1), never 0.0 (the silence). */
		double d = ((double)(h % 1999999) - 999999.0) / 1000000.0;

		if (d == 0.0)
			d = 0.5;
		if (bytes == 4) {
			float fl = (float)d;
			uint32_t u;

			memcpy(&u, &fl, 4);
			v = u;
		} else {
			memcpy(&v, &d, 8);
		}
		put_bytes(p, bytes, little, v);
		return;
	}
	if (f == SND_PCM_FORMAT_MU_LAW || f == SND_PCM_FORMAT_A_LAW) {
		uint8_t b = (uint8_t)h, s = (uint8_t)snd_pcm_format_silence(f);

		*p = b == s ? b ^ 1 : b;
		return;
	}
	/* Linear: width significant bits, LSB-justified in the container. */
	v = h & ((width >= 64 ? 0 : UINT64_C(1) << width) - 1);
	if (snd_pcm_format_signed(f) == 1) {
		if (v == 0)
			v = 1;
		if (v & (UINT64_C(1) << (width - 1)))	/* sign-extend */
			v |= ~((UINT64_C(1) << width) - 1);
	} else if (v == UINT64_C(1) << (width - 1)) {
		v ^= 1;
	}
	put_bytes(p, bytes, little, v);
}

void h_pattern(void *buf, snd_pcm_format_t format, unsigned int channels, size_t frames,
	       uint32_t seed)
{
	unsigned int sb = (unsigned int)snd_pcm_format_physical_width(format) / 8;
	uint8_t *p = buf;

	for (size_t i = 0; i < frames; i++)
		for (unsigned int ch = 0; ch < channels; ch++, p += sb)
			put_sample(p, format, mix64(((uint64_t)seed << 40) ^
						    ((uint64_t)i << 6) ^ ch));
}

void h_silence(void *buf, snd_pcm_format_t format, unsigned int channels, size_t frames)
{
	snd_pcm_format_set_silence(format, buf, (unsigned int)(frames * channels));
}

size_t h_first_sound(const void *buf, snd_pcm_format_t format, unsigned int channels,
		     size_t frames)
{
	size_t fb = h_frame_bytes(format, channels);
	uint8_t sil[32 * 8];
	const uint8_t *p = buf;

	h_silence(sil, format, channels, 1);
	for (size_t i = 0; i < frames; i++)
		if (memcmp(p + i * fb, sil, fb))
			return i;
	return frames;
}

size_t h_first_diff(const void *a, const void *b, size_t frame_bytes, size_t frames)
{
	const uint8_t *pa = a, *pb = b;

	if (!memcmp(a, b, frame_bytes * frames))
		return frames;
	for (size_t i = 0; i < frames; i++)
		if (memcmp(pa + i * frame_bytes, pb + i * frame_bytes, frame_bytes))
			return i;
	return frames;
}

/* Where in pat does this frame occur?  For messages only. */
static long find_frame(const uint8_t *frame, const uint8_t *pat, size_t fb, size_t frames)
{
	for (size_t i = 0; i < frames; i++)
		if (!memcmp(frame, pat + i * fb, fb))
			return (long)i;
	return -1;
}

bool h_check_sps(const void *cap, size_t cap_frames, const void *pat, size_t pat_frames,
		 snd_pcm_format_t format, unsigned int channels, size_t *lead_out,
		 char *why, size_t why_len)
{
	size_t fb = h_frame_bytes(format, channels);
	const uint8_t *c = cap;
	size_t lead, diff, tail;

	lead = h_first_sound(cap, format, channels, cap_frames);
	if (lead_out)
		*lead_out = lead;
	if (lead == cap_frames) {
		snprintf(why, why_len, "all %zu captured frames are silence", cap_frames);
		return false;
	}
	if (lead == 0) {
		snprintf(why, why_len, "no leading silence: frame 0 is sound (pattern frame %ld)",
			 find_frame(c, pat, fb, pat_frames));
		return false;
	}
	if (cap_frames - lead < pat_frames) {
		snprintf(why, why_len, "only %zu frames after the leading silence of %zu, "
			 "pattern has %zu", cap_frames - lead, lead, pat_frames);
		return false;
	}
	diff = h_first_diff(c + lead * fb, pat, fb, pat_frames);
	if (diff < pat_frames) {
		snprintf(why, why_len, "after %zu silent frames, captured frame %zu differs from "
			 "pattern frame %zu (it equals pattern frame %ld; %zu-byte frames)",
			 lead, lead + diff, diff, find_frame(c + (lead + diff) * fb, pat, fb,
							      pat_frames), fb);
		return false;
	}
	tail = cap_frames - lead - pat_frames;
	if (tail == 0) {
		snprintf(why, why_len, "no trailing silence after the pattern");
		return false;
	}
	diff = h_first_sound(c + (lead + pat_frames) * fb, format, channels, tail);
	if (diff < tail) {
		snprintf(why, why_len, "trailing frame %zu after the pattern is not silence "
			 "(equals pattern frame %ld)", diff,
			 find_frame(c + (lead + pat_frames + diff) * fb, pat, fb, pat_frames));
		return false;
	}
	return true;
}

/* ---- transfers -------------------------------------------------------------- */

/* Channel areas describing an interleaved application buffer. */
static void interleaved_areas(snd_pcm_channel_area_t *areas, void *buf,
			      const struct h_params *p)
{
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(p->format);

	for (unsigned int ch = 0; ch < p->channels; ch++) {
		areas[ch].addr = buf;
		areas[ch].first = ch * width;
		areas[ch].step = width * p->channels;
	}
}

/* Separate per-channel buffers carved out of one allocation. */
static void planar_areas(snd_pcm_channel_area_t *areas, void **bufs, uint8_t *mem,
			 snd_pcm_uframes_t frames, const struct h_params *p)
{
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(p->format);

	for (unsigned int ch = 0; ch < p->channels; ch++) {
		bufs[ch] = mem + (size_t)ch * frames * width / 8;
		areas[ch].addr = bufs[ch];
		areas[ch].first = 0;
		areas[ch].step = width;
	}
}

static snd_pcm_sframes_t mmap_xfer(snd_pcm_t *pcm, const struct h_params *p, void *buf,
				   snd_pcm_uframes_t frames, bool play)
{
	snd_pcm_channel_area_t app[32];
	const snd_pcm_channel_area_t *areas;
	snd_pcm_uframes_t offset, n;
	snd_pcm_sframes_t avail, done;
	int err;

	if (!play && snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
		err = snd_pcm_start(pcm);
		if (err < 0)
			return err;
	}
	avail = snd_pcm_avail_update(pcm);
	if (avail < 0)
		return avail;
	if (avail == 0)
		return -EAGAIN;
	n = frames < (snd_pcm_uframes_t)avail ? frames : (snd_pcm_uframes_t)avail;
	err = snd_pcm_mmap_begin(pcm, &areas, &offset, &n);
	if (err < 0)
		return err;
	interleaved_areas(app, buf, p);
	if (play)
		snd_pcm_areas_copy(areas, offset, app, 0, p->channels, n, p->format);
	else
		snd_pcm_areas_copy(app, 0, areas, offset, p->channels, n, p->format);
	done = snd_pcm_mmap_commit(pcm, offset, n);
	if (done < 0)
		return done;
	if (play && snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED) {
		/* As snd_pcm_mmap_writei: start once start_threshold is queued. */
		snd_pcm_uframes_t thr = p->start_threshold ? p->start_threshold : 1;
		snd_pcm_sframes_t left = snd_pcm_avail_update(pcm);

		if (left >= 0 && p->buffer - (snd_pcm_uframes_t)left >= thr) {
			err = snd_pcm_start(pcm);
			if (err < 0)
				return err;
		}
	}
	return done;
}

/*
 * A non-interleaved transfer of the caller's interleaved buffer through a
 * planar copy: one static buffer, and at most what fits in it per call
 * (callers loop on short transfers).  A malloc per call made ASan builds
 * fault in fresh pages (its quarantine never reuses them) and starve the
 * real-time streams.
 */
static snd_pcm_sframes_t planar_xfer(snd_pcm_t *pcm, const struct h_params *p, void *buf,
				     snd_pcm_uframes_t frames, bool play)
{
	static uint8_t mem[1 << 20];
	size_t fit = sizeof(mem) / h_frame_bytes(p->format, p->channels);
	snd_pcm_channel_area_t inter[32], planar[32];
	snd_pcm_sframes_t r;
	void *bufs[32];

	if (frames > fit)
		frames = fit;
	interleaved_areas(inter, buf, p);
	planar_areas(planar, bufs, mem, frames, p);
	if (play) {
		snd_pcm_areas_copy(planar, 0, inter, 0, p->channels, frames, p->format);
		return snd_pcm_writen(pcm, bufs, frames);
	}
	r = snd_pcm_readn(pcm, bufs, frames);
	if (r > 0)
		snd_pcm_areas_copy(inter, 0, planar, 0, p->channels, (snd_pcm_uframes_t)r,
				   p->format);
	return r;
}

snd_pcm_sframes_t h_write(snd_pcm_t *pcm, const struct h_params *p, const void *buf,
			  snd_pcm_uframes_t frames)
{
	switch (p->access) {
	case SND_PCM_ACCESS_RW_INTERLEAVED:
		return snd_pcm_writei(pcm, buf, frames);
	case SND_PCM_ACCESS_RW_NONINTERLEAVED:
		return planar_xfer(pcm, p, (void *)buf, frames, true);
	default:
		return mmap_xfer(pcm, p, (void *)buf, frames, true);
	}
}

snd_pcm_sframes_t h_read(snd_pcm_t *pcm, const struct h_params *p, void *buf,
			 snd_pcm_uframes_t frames)
{
	switch (p->access) {
	case SND_PCM_ACCESS_RW_INTERLEAVED:
		return snd_pcm_readi(pcm, buf, frames);
	case SND_PCM_ACCESS_RW_NONINTERLEAVED:
		return planar_xfer(pcm, p, buf, frames, false);
	default:
		return mmap_xfer(pcm, p, buf, frames, false);
	}
}

int h_wait(snd_pcm_t *pcm, int timeout_ms)
{
	struct pollfd pfd[16];
	unsigned short revents = 0;
	int n, err;

	n = snd_pcm_poll_descriptors_count(pcm);
	if (n <= 0 || n > 16)
		return n < 0 ? n : -EINVAL;
	n = snd_pcm_poll_descriptors(pcm, pfd, (unsigned int)n);
	if (n < 0)
		return n;
	err = poll(pfd, (nfds_t)n, timeout_ms);
	if (err < 0)
		return -errno;
	if (err == 0)
		return 0;
	err = snd_pcm_poll_descriptors_revents(pcm, pfd, (unsigned int)n, &revents);
	if (err < 0)
		return err;
	return revents;
}

int h_play(snd_pcm_t *pcm, const struct h_params *p, const void *buf, size_t frames,
	   bool drain)
{
	size_t fb = h_frame_bytes(p->format, p->channels);
	const uint8_t *b = buf;
	size_t off = 0;
	int err;

	while (off < frames) {
		snd_pcm_sframes_t r = h_write(pcm, p, b + off * fb, frames - off);

		if (r > 0) {
			off += (size_t)r;
		} else if (r == -EAGAIN || r == 0) {
			if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED &&
			    (err = snd_pcm_start(pcm)) < 0)
				return err;	/* full but below start_threshold */
			err = h_wait(pcm, 1000);
			if (err < 0)
				return err;
		} else {
			return (int)r;
		}
	}
	if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED && !drain) {
		err = snd_pcm_start(pcm);
		if (err < 0)
			return err;
	}
	if (!drain)
		return 0;
	for (;;) {
		err = snd_pcm_drain(pcm);
		if (err != -EAGAIN)
			return err;
		/* Non-blocking PCM: poll until the drain completes. */
		while (snd_pcm_state(pcm) == SND_PCM_STATE_DRAINING) {
			err = h_wait(pcm, 1000);
			if (err < 0)
				return err;
		}
		if (snd_pcm_state(pcm) != SND_PCM_STATE_DRAINING)
			return 0;
	}
}

int h_capture(snd_pcm_t *pcm, const struct h_params *p, void *buf, size_t frames)
{
	size_t fb = h_frame_bytes(p->format, p->channels);
	uint8_t *b = buf;
	size_t off = 0;
	int err;

	if (snd_pcm_state(pcm) == SND_PCM_STATE_PREPARED && (err = snd_pcm_start(pcm)) < 0)
		return err;
	while (off < frames) {
		snd_pcm_sframes_t r = h_read(pcm, p, b + off * fb, frames - off);

		if (r > 0) {
			off += (size_t)r;
		} else if (r == -EAGAIN || r == 0) {
			err = h_wait(pcm, 1000);
			if (err < 0)
				return err;
		} else {
			return (int)r;
		}
	}
	return 0;
}

/* ---- time ------------------------------------------------------------------- */

double h_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void h_sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Passing checks are not counted: the harness counts test cases. */
void check_pass(void)
{
}

unsigned int check_failures(void)
{
	return (unsigned int)h_test_failed;
}

int check_finish(void)
{
	return h_finish();
}
