/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * harness.h - shared helpers of the C PCM tests.
 *
 * The tests drive both ends of the loopback through alsa-lib exactly as an
 * application does: a configuration built in memory (pcm_type.loopback
 * pointing at the built plugin, plus an inline pcm definition) opened with
 * snd_pcm_open_lconf().  Every test program uses a random private card key,
 * so programs and concurrent runs never share a cable.
 *
 * Samples are handled as interleaved application buffers whatever the
 * access of the PCM; the transfer helpers convert for non-interleaved and
 * mmap access.  Patterns never contain the format's silence, so a capture
 * can be split into "silence, pattern, silence" and compared bit by bit.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <alsa/asoundlib.h>

#include "check.h"

/* ---- test bookkeeping ------------------------------------------------------ */

extern char h_card[32];		/* this program's private card key */
extern const char *h_test;	/* name of the running test */
extern int h_test_failed;	/* checks failed in the running test */

/* Seed the card key, install the error capture and the watchdog handler. */
void h_init(const char *prog);
/* Run one test under an alarm() watchdog of timeout_s; prints PASS/FAIL/SKIP. */
void h_run(const char *name, void (*fn)(void), unsigned int timeout_s);
/*
 * The running test could not be judged (the machine, not the code, is why:
 * say so in the reason); it is a SKIP unless it also failed a check.
 */
void h_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/*
 * Remove this program's segments, free the global config; exit code: 1 if
 * a test failed, else 77 (automake's SKIP) if one was skipped, else 0.
 */
int h_finish(void);
/* A subdevice no other test of this program has used yet. */
unsigned int h_subdev(void);

void h_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* CHECK and REQUIRE (check.h) count against the running test case. */
#define h_fail check_fail

/* ---- alsa-lib error capture ------------------------------------------------ */

/* Everything SNDERR printed since the last h_errors_clear(). */
const char *h_errors(void);
void h_errors_clear(void);

/* ---- opening ---------------------------------------------------------------- */

/*
 * Open pcm "x" defined as: pcm.x { <body> } (printf-style body), with
 * pcm_type.loopback loading the built plugin.  Returns 0 or alsa's error.
 */
int h_openf(snd_pcm_t **pcm, snd_pcm_stream_t stream, int mode, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* A raw end: type loopback card <card> subdevice <sub> device <dev>. */
int h_open_end(snd_pcm_t **pcm, const char *card, unsigned int sub, unsigned int dev,
	       snd_pcm_stream_t stream, int mode);
/* The user's private segment directory, as the plugin makes it (shm_file.h). */
const char *h_shm_dir(void);
/* Path of a segment in that directory. */
void h_seg_path(char *buf, size_t len, const char *card, unsigned int sub);

/* ---- parameters ------------------------------------------------------------- */

struct h_params {
	snd_pcm_access_t access;
	snd_pcm_format_t format;
	unsigned int rate;
	unsigned int channels;
	snd_pcm_uframes_t buffer;	/* wanted (near), then actual */
	snd_pcm_uframes_t period;	/* wanted (near), then actual */
	snd_pcm_uframes_t start_threshold;	/* 0: alsa-lib's default */
	snd_pcm_uframes_t avail_min;		/* 0: alsa-lib's default */
};

/* Fill p with interleaved RW, buffer about buffer_ms, 4 periods. */
void h_params_init(struct h_params *p, snd_pcm_format_t format, unsigned int rate,
		   unsigned int channels, unsigned int buffer_ms);
/* hw_params + sw_params; exact format/rate/channels/access or an error. */
int h_setup(snd_pcm_t *pcm, struct h_params *p);

/* ---- samples ---------------------------------------------------------------- */

size_t h_frame_bytes(snd_pcm_format_t format, unsigned int channels);
/* A deterministic pattern in which no sample equals the format's silence. */
void h_pattern(void *buf, snd_pcm_format_t format, unsigned int channels, size_t frames,
	       uint32_t seed);
void h_silence(void *buf, snd_pcm_format_t format, unsigned int channels, size_t frames);
/* Index of the first frame that is not entirely the format's silence. */
size_t h_first_sound(const void *buf, snd_pcm_format_t format, unsigned int channels,
		     size_t frames);
/* Index of the first frame that differs between a and b, or frames. */
size_t h_first_diff(const void *a, const void *b, size_t frame_bytes, size_t frames);
/*
 * Is cap (cap_frames) exactly: >= 1 silent frame, the pattern, >= 1 silent
 * frame?  On failure writes the reason into why and returns false.
 */
bool h_check_sps(const void *cap, size_t cap_frames, const void *pat, size_t pat_frames,
		 snd_pcm_format_t format, unsigned int channels, size_t *lead,
		 char *why, size_t why_len);

/* ---- transfers -------------------------------------------------------------- */

/*
 * One non-blocking-ish transfer of up to frames frames from/to an
 * interleaved buffer in the access of p: returns frames moved (> 0), or a
 * negative error (-EAGAIN when nothing could be moved).  mmap playback is
 * started when start_threshold is reached, mmap capture on first use, as
 * snd_pcm_mmap_writei/readi would.
 */
snd_pcm_sframes_t h_write(snd_pcm_t *pcm, const struct h_params *p, const void *buf,
			  snd_pcm_uframes_t frames);
snd_pcm_sframes_t h_read(snd_pcm_t *pcm, const struct h_params *p, void *buf,
			 snd_pcm_uframes_t frames);
/*
 * Wait with poll() on the PCM's descriptors until revents says ready or
 * error; returns the revents (0 on timeout), or a negative error.
 */
int h_wait(snd_pcm_t *pcm, int timeout_ms);
/* Play all frames (poll between transfers); then drain if drain is set. */
int h_play(snd_pcm_t *pcm, const struct h_params *p, const void *buf, size_t frames,
	   bool drain);
/* Capture frames frames (starting the stream if needed). */
int h_capture(snd_pcm_t *pcm, const struct h_params *p, void *buf, size_t frames);

/* ---- time ------------------------------------------------------------------- */

double h_now(void);		/* CLOCK_MONOTONIC seconds */
void h_sleep_ms(unsigned int ms);

#endif /* TESTS_HARNESS_H */
