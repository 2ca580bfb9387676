// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * memcycle.c - every open/stream/pause/drain/close path of the plugin,
 * in a loop, for valgrind's memcheck (tests/rel-valgrind.sh).
 *
 * Both ends of one cable live in this process (non-blocking, so neither
 * waits for the other).  Each cycle also walks the error paths that free
 * things: a second open of a busy end (-EBUSY) and a hw_params that
 * conflicts with the cable's lock (-EINVAL).  The config is built in
 * memory so no global config cache is left for the leak checker.
 *
 *   memcycle CYCLES      exit 0 when every cycle heard its pattern
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#include "../conf.h"

#define RATE	48000u
#define CH	2u
#define CHUNK	480u	/* 10 ms */

static int fail(const char *what, int err)
{
	fprintf(stderr, "memcycle: %s: %s\n", what, snd_strerror(err));
	return 1;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000 };

	nanosleep(&ts, NULL);
}

static int set_params(snd_pcm_t *pcm, unsigned int rate)
{
	return snd_pcm_set_params(pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
				  CH, rate, 0, 200000);
}

/* Stream ~0.3 s through the cable; returns the capture's non-silent frames. */
static long stream(snd_pcm_t *play, snd_pcm_t *cap, unsigned int cycle)
{
	int16_t out[CHUNK * CH], in[CHUNK * CH];
	unsigned int sent = 0;
	long heard = 0;
	bool paused = false;
	int err;

	if ((err = snd_pcm_start(cap)) < 0)
		return fail("capture start", err), -1;
	for (int iter = 0; iter < 3000 && (sent < RATE * 3 / 10 || heard == 0); iter++) {
		snd_pcm_sframes_t r;

		for (unsigned int i = 0; i < CHUNK * CH; i++)
			out[i] = (int16_t)(0x4000 + cycle + i);
		r = snd_pcm_writei(play, out, CHUNK);
		if (r == -EPIPE)
			r = snd_pcm_prepare(play);
		else if (r > 0)
			sent += (unsigned int)r;
		if (r < 0 && r != -EAGAIN)
			return fail("write", (int)r), -1;
		r = snd_pcm_readi(cap, in, CHUNK);
		if (r == -EPIPE) {
			if ((err = snd_pcm_prepare(cap)) < 0 || (err = snd_pcm_start(cap)) < 0)
				return fail("capture recover", err), -1;
		} else if (r > 0) {
			for (long i = 0; i < r; i++)
				heard += in[i * CH] != 0;
		} else if (r != -EAGAIN) {
			return fail("read", (int)r), -1;
		}
		if (!paused && snd_pcm_state(play) == SND_PCM_STATE_RUNNING &&
		    snd_pcm_state(cap) == SND_PCM_STATE_RUNNING) {
			paused = true;
			/* Pause and resume both ends mid-stream. */
			if ((err = snd_pcm_pause(play, 1)) < 0 || (err = snd_pcm_pause(cap, 1)) < 0)
				return fail("pause", err), -1;
			sleep_ms(20);
			if ((err = snd_pcm_pause(play, 0)) < 0 || (err = snd_pcm_pause(cap, 0)) < 0)
				return fail("resume", err), -1;
		}
		sleep_ms(5);
	}
	return heard;
}

int main(int argc, char **argv)
{
	unsigned int cycles = argc > 1 ? (unsigned int)atoi(argv[1]) : 3;
	snd_config_t *conf;
	int err, rc = 0;

	err = t_conf_load(&conf, "pcm.p { type loopback card \"vg%d\" subdevice 5 device 0 }\n"
			  "pcm.c { type loopback card \"vg%d\" subdevice 5 device 1 }\n",
			  (int)getpid(), (int)getpid());
	if (err < 0)
		return fail("config load", err);

	for (unsigned int cycle = 0; cycle < cycles && !rc; cycle++) {
		snd_pcm_t *play = NULL, *cap = NULL, *busy = NULL;
		long heard;

		if ((err = snd_pcm_open_lconf(&play, "p", SND_PCM_STREAM_PLAYBACK,
					      SND_PCM_NONBLOCK, conf)) < 0 ||
		    (err = snd_pcm_open_lconf(&cap, "c", SND_PCM_STREAM_CAPTURE,
					      SND_PCM_NONBLOCK, conf)) < 0) {
			rc = fail("open", err);
			goto close;
		}
		/* Error path: the playback end is taken. */
		err = snd_pcm_open_lconf(&busy, "p", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK,
					 conf);
		if (err != -EBUSY) {
			rc = fail("second open of a busy end should be EBUSY", err);
			if (err == 0)
				snd_pcm_close(busy);
			goto close;
		}
		if ((err = set_params(play, RATE)) < 0) {
			rc = fail("playback hw_params", err);
			goto close;
		}
		/* Error path: the capture may not relock the cable to 44100. */
		if (set_params(cap, 44100) == 0) {
			rc = fail("capture hw_params at another rate should fail", -EINVAL);
			goto close;
		}
		if ((err = set_params(cap, RATE)) < 0) {
			rc = fail("capture hw_params", err);
			goto close;
		}
		heard = stream(play, cap, cycle);
		if (heard <= 0) {
			fprintf(stderr, "memcycle: cycle %u heard nothing\n", cycle);
			rc = 1;
			goto close;
		}
		/* Drain the playback in blocking mode; capture drain returns at once. */
		snd_pcm_nonblock(play, 0);
		if ((err = snd_pcm_drain(play)) < 0 || (err = snd_pcm_drain(cap)) < 0) {
			rc = fail("drain", err);
			goto close;
		}
		printf("cycle %u: heard %ld frames\n", cycle, heard);
close:
		if (cap)
			snd_pcm_close(cap);
		if (play)
			snd_pcm_close(play);
	}
	snd_config_delete(conf);
	snd_config_update_free_global();
	{
		char path[128];

		/* A crash would leave the segment behind: tidy up our own. */
		snprintf(path, sizeof(path), "/dev/shm/alsa-loopback-%u/alsa-loopback-vg%d.5",
			 (unsigned int)geteuid(), (int)getpid());
		unlink(path);
	}
	return rc;
}
