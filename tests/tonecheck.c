// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tonecheck - tone checks of raw audio for the client tests (no python).
 * Audio is S16_LE interleaved; every channel is checked and channel 0
 * reported.
 *
 *   tonecheck analyze FILE RATE CHANNELS [FREQ SECS]
 *	Find the tone in FILE: its onset and length (where |sample| exceeds
 *	a tenth of the peak), its frequency (rising zero crossings over that
 *	span), its dropouts (runs of >= 1 ms below that level inside it)
 *	and its clicks (discontinuities: see count_clicks).  Prints one line
 *	"onset_s=... length_s=... freq_hz=... peak=... gaps=... gap_ms=...
 *	clicks=...".  With FREQ and SECS: exit 1 unless the
 *	frequency is within 1 % of FREQ and the length within 10 % (and
 *	20 ms) of SECS.
 *
 *   tonecheck probe PLAYDEV CAPDEV FREQ SECS TOTAL OUT
 *	In one process, at 48000 Hz stereo S16_LE: record CAPDEV for TOTAL
 *	seconds (written to OUT), and play into PLAYDEV 0.3 s of silence,
 *	SECS of FREQ Hz starting at its peak, then silence.  Both streams
 *	are started by hand, so the capture frame that should hear the
 *	tone's first frame is known: prints the analysis and
 *	"latency_ms=..." (onset in the capture minus onset in the playback,
 *	CLOCK_MONOTONIC).  Exit 1 if no tone arrived or, with the analyze
 *	criteria, the tone is wrong.
 *
 * Exit 2 on usage, I/O or ALSA errors.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <alsa/asoundlib.h>

struct tone {
	long onset, end;	/* frames; end exclusive; onset < 0: no tone */
	double freq, peak;
	int gaps;
	long gap_frames;
	int clicks;
};

/*
 * Clicks: a sine of amplitude A and frequency f at rate R has a second
 * difference s[n+1] - 2 s[n] + s[n-1] of at most 4 A sin^2(pi f / R); a
 * discontinuity (a lost, repeated or shifted block) makes one of about the
 * size of the jump.  Count the places, at least 1 ms apart, where any
 * channel exceeds 4 times that bound plus 3 % of the peak (rounding,
 * a resampler's ripple), 5 ms away from the tone's ends (its start and stop
 * are steps by design).  A dropout inside the tone counts here too.
 */
static void count_clicks(const int16_t *s, int ch, unsigned rate, struct tone *t, int peak)
{
	long margin = rate / 200, last = -(long)rate;
	double sn = sin(M_PI * t->freq / rate);
	double lim = 4.0 * 4.0 * peak * sn * sn + 0.03 * peak;

	t->clicks = 0;
	if (t->freq <= 0)
		return;
	for (long i = t->onset + margin; i < t->end - margin; i++)
		for (int c = 0; c < ch; c++) {
			long d = (long)s[(i + 1) * ch + c] - 2L * s[i * ch + c] + s[(i - 1) * ch + c];
			if (labs(d) > lim) {
				if (i - last >= (long)rate / 1000)
					t->clicks++;
				last = i;
				break;
			}
		}
}

static void analyze(const int16_t *s, long frames, int ch, unsigned rate, struct tone *t)
{
	int peak = 0;
	long i;

	memset(t, 0, sizeof(*t));
	t->onset = -1;
	for (i = 0; i < frames * ch; i++) {
		int v = abs(s[i]);
		if (v > peak)
			peak = v;
	}
	t->peak = peak / 32768.0;
	if (peak < 328)	/* below 1 % of full scale: silence */
		return;
	int thr = peak / 10;
	for (i = 0; i < frames && t->onset < 0; i++)
		for (int c = 0; c < ch; c++)
			if (abs(s[i * ch + c]) > thr)
				t->onset = i;
	for (i = frames - 1; i >= t->onset; i--) {
		int loud = 0;
		for (int c = 0; c < ch; c++)
			loud |= abs(s[i * ch + c]) > thr;
		if (loud)
			break;
	}
	t->end = i + 1;
	/* Rising crossings of channel 0, with hysteresis of the threshold. */
	long first = -1, last = -1, n = 0;
	int below = 1;
	long quiet = 0;
	long min_gap = rate / 1000;
	for (i = t->onset; i < t->end; i++) {
		int v = s[i * ch];
		if (v < -thr) {
			below = 1;
		} else if (v > thr && below) {
			below = 0;
			if (first < 0)
				first = i;
			last = i;
			n++;
		}
		int loud = 0;
		for (int c = 0; c < ch; c++)
			loud |= abs(s[i * ch + c]) > thr;
		if (!loud) {
			quiet++;
		} else {
			if (quiet >= min_gap) {
				t->gaps++;
				t->gap_frames += quiet;
			}
			quiet = 0;
		}
	}
	if (n > 1 && last > first)
		t->freq = (double)(n - 1) * rate / (double)(last - first);
	count_clicks(s, ch, rate, t, peak);
}

static void print_tone(const struct tone *t, unsigned rate)
{
	if (t->onset < 0) {
		printf("onset_s=none peak=%.4f\n", t->peak);
		return;
	}
	printf("onset_s=%.4f length_s=%.4f freq_hz=%.2f peak=%.3f gaps=%d gap_ms=%.1f clicks=%d\n",
	       (double)t->onset / rate, (double)(t->end - t->onset) / rate, t->freq, t->peak,
	       t->gaps, t->gap_frames * 1000.0 / rate, t->clicks);
}

static int judge(const struct tone *t, unsigned rate, double freq, double secs)
{
	if (t->onset < 0) {
		fprintf(stderr, "tonecheck: no tone (silence)\n");
		return 1;
	}
	double len = (double)(t->end - t->onset) / rate;
	double tol = secs * 0.1 > 0.02 ? secs * 0.1 : 0.02;
	if (fabs(t->freq - freq) > freq * 0.01) {
		fprintf(stderr, "tonecheck: frequency %.2f Hz, want %.2f Hz\n", t->freq, freq);
		return 1;
	}
	if (fabs(len - secs) > tol) {
		fprintf(stderr, "tonecheck: tone lasts %.4f s, want %.4f s\n", len, secs);
		return 1;
	}
	return 0;
}

static int read_all(const char *path, int16_t **out, long *frames, int ch)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20, len = 0, got;
	char *buf = malloc(cap);

	if (!f || !buf) {
		fprintf(stderr, "tonecheck: %s: %s\n", path, strerror(errno));
		if (f)
			fclose(f);
		free(buf);
		return -1;
	}
	while ((got = fread(buf + len, 1, cap - len, f)) > 0) {
		len += got;
		if (len == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb) {
				fclose(f);
				free(buf);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	fclose(f);
	*out = (int16_t *)buf;
	*frames = (long)(len / (2 * (size_t)ch));
	return 0;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

#define RATE 48000
#define CH 2
#define LEAD_FRAMES (RATE * 3 / 10)

static snd_pcm_t *open_pcm(const char *dev, snd_pcm_stream_t dir)
{
	snd_pcm_t *p;
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = 480, buffer = 4800, boundary;
	int err;

	err = snd_pcm_open(&p, dev, dir, SND_PCM_NONBLOCK);
	if (err < 0) {
		fprintf(stderr, "tonecheck: cannot open %s: %s\n", dev, snd_strerror(err));
		return NULL;
	}
	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_sw_params_alloca(&sw);
	if ((err = snd_pcm_hw_params_any(p, hw)) < 0 ||
	    (err = snd_pcm_hw_params_set_access(p, hw, SND_PCM_ACCESS_RW_INTERLEAVED)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(p, hw, SND_PCM_FORMAT_S16_LE)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(p, hw, CH)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(p, hw, RATE, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size_near(p, hw, &period, NULL)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_near(p, hw, &buffer)) < 0 ||
	    (err = snd_pcm_hw_params(p, hw)) < 0) {
		fprintf(stderr, "tonecheck: %s: S16_LE %d Hz %d ch: %s\n", dev, RATE, CH,
			snd_strerror(err));
		snd_pcm_close(p);
		return NULL;
	}
	/* Started by hand: never by a threshold. */
	snd_pcm_sw_params_current(p, sw);
	snd_pcm_sw_params_get_boundary(sw, &boundary);
	snd_pcm_sw_params_set_start_threshold(p, sw, boundary);
	snd_pcm_sw_params(p, sw);
	return p;
}

static int probe(const char *playdev, const char *capdev, double freq, double secs,
		 double total, const char *out)
{
	long tone_frames = (long)(secs * RATE);
	long play_frames = LEAD_FRAMES + tone_frames + RATE / 5;
	long cap_frames = (long)(total * RATE);
	int16_t *play = calloc((size_t)play_frames * CH, 2);
	int16_t *cap = calloc((size_t)cap_frames * CH, 2);
	long played = 0, got = 0, i;
	int xruns = 0;
	snd_pcm_t *pc, *pp;
	double t_cap, t_play, t0;

	if (!play || !cap)
		return 2;
	for (i = 0; i < tone_frames; i++) {
		int16_t v = (int16_t)lrint(16384.0 * cos(2 * M_PI * freq * i / RATE));
		for (int c = 0; c < CH; c++)
			play[(LEAD_FRAMES + i) * CH + c] = v;
	}
	pc = open_pcm(capdev, SND_PCM_STREAM_CAPTURE);
	if (!pc)
		return 2;
	pp = open_pcm(playdev, SND_PCM_STREAM_PLAYBACK);
	if (!pp)
		return 2;
	/* Prefill the playback's buffer with the lead-in silence. */
	snd_pcm_sframes_t n = snd_pcm_writei(pp, play, 4800);
	if (n < 0) {
		fprintf(stderr, "tonecheck: prefill %s: %s\n", playdev, snd_strerror((int)n));
		return 2;
	}
	played = n;
	t0 = now_s();
	snd_pcm_start(pc);
	t_cap = (t0 + now_s()) / 2;
	t0 = now_s();
	snd_pcm_start(pp);
	t_play = (t0 + now_s()) / 2;
	while (got < cap_frames) {
		if (now_s() - t_cap > total + 5) {
			fprintf(stderr, "tonecheck: capture stalled at frame %ld\n", got);
			return 2;
		}
		if (played < play_frames) {
			n = snd_pcm_writei(pp, play + played * CH, (snd_pcm_uframes_t)(play_frames - played));
			if (n > 0) {
				played += n;
			} else if (n == -EPIPE || n == -ESTRPIPE) {
				xruns++;
				snd_pcm_prepare(pp);
				snd_pcm_start(pp);
			} else if (n != -EAGAIN) {
				fprintf(stderr, "tonecheck: write %s: %s\n", playdev, snd_strerror((int)n));
				return 2;
			}
		}
		n = snd_pcm_readi(pc, cap + got * CH, (snd_pcm_uframes_t)(cap_frames - got));
		if (n > 0) {
			got += n;
		} else if (n == -EPIPE || n == -ESTRPIPE) {
			xruns++;
			snd_pcm_prepare(pc);
			snd_pcm_start(pc);
		} else if (n != -EAGAIN) {
			fprintf(stderr, "tonecheck: read %s: %s\n", capdev, snd_strerror((int)n));
			return 2;
		}
		snd_pcm_wait(pc, 5);
	}
	snd_pcm_close(pp);
	snd_pcm_close(pc);

	FILE *f = fopen(out, "wb");
	if (!f || fwrite(cap, 2 * CH, (size_t)cap_frames, f) != (size_t)cap_frames || fclose(f)) {
		fprintf(stderr, "tonecheck: cannot write %s\n", out);
		return 2;
	}
	struct tone t;
	analyze(cap, cap_frames, CH, RATE, &t);
	free(cap);
	free(play);
	print_tone(&t, RATE);
	if (xruns)
		printf("xruns=%d\n", xruns);
	if (t.onset < 0) {
		fprintf(stderr, "tonecheck: no tone arrived on %s\n", capdev);
		return 1;
	}
	double lat = (t_cap + (double)t.onset / RATE) - (t_play + (double)LEAD_FRAMES / RATE);
	printf("latency_ms=%.2f\n", lat * 1000);
	return judge(&t, RATE, freq, secs);
}

int main(int argc, char **argv)
{
	if (argc >= 5 && !strcmp(argv[1], "analyze")) {
		unsigned rate = (unsigned)atoi(argv[3]);
		int ch = atoi(argv[4]);
		int16_t *s;
		long frames;
		struct tone t;

		if (!rate || ch < 1 || ch > 32)
			return 2;
		if (read_all(argv[2], &s, &frames, ch) < 0)
			return 2;
		analyze(s, frames, ch, rate, &t);
		free(s);
		print_tone(&t, rate);
		if (argc >= 7)
			return judge(&t, rate, atof(argv[5]), atof(argv[6]));
		return t.onset < 0;
	}
	if (argc == 8 && !strcmp(argv[1], "probe"))
		return probe(argv[2], argv[3], atof(argv[4]), atof(argv[5]), atof(argv[6]), argv[7]);
	fprintf(stderr, "usage: tonecheck analyze FILE RATE CHANNELS [FREQ SECS]\n"
			"       tonecheck probe PLAYDEV CAPDEV FREQ SECS TOTAL OUT\n");
	return 2;
}
