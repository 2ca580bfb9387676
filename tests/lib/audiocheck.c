// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * audiocheck - the one audio check tool of the shell tests and the bench
 * (no python in CI).  Each subcommand is one check; the file reading and
 * the sample decoding/encoding below are shared by all of them.
 *
 * Bit-exact comparison:
 *   audiocheck compare PLAYED CAPTURED FRAME_BYTES SILENCE_HEX
 *	The capture must be: at least one frame of silence, then exactly the
 *	played bytes, then at least one frame of silence.  The capture starts
 *	on a frame boundary, so the silence pattern (one sample's bytes, e.g.
 *	"80" for U8 or "0000" for S16) is matched modulo its length.
 *	Exit 0 on a match, 1 on a mismatch (with offsets on stderr).
 *   audiocheck silent FILE SILENCE_HEX
 *	FILE is not empty and holds only the silence pattern.
 *   audiocheck silence FORMAT
 *	Print one sample of FORMAT's silence as alsa-lib fills it, in hex.
 *   audiocheck frame-bytes FORMAT CHANNELS
 *	Print the bytes of one frame.
 *
 * Constant signals, for the shared-end (mixing) tests:
 *   audiocheck gen FILE FORMAT CHANNELS FRAMES VALUE...
 *	Write FRAMES frames whose channel c holds VALUE[c] (one value per
 *	channel): integers as stored for the integer formats (U8: 0..255, 128
 *	is silence), decimals for FLOAT_LE.
 *   audiocheck runs FILE FORMAT CHANNELS
 *	Print FILE as runs of equal frames, one line per run:
 *	"START COUNT V0 V1 ..." (START and COUNT in frames, values as gen
 *	takes them; floats with %.9g, exact for the binary fractions the
 *	tests use).  A trailing partial frame is an error.
 *	Formats: S8 U8 S16_LE S32_LE FLOAT_LE.
 *
 * Tones (S16_LE interleaved; every channel checked, channel 0 reported):
 *   audiocheck tone FILE RATE CHANNELS [FREQ SECS]
 *	Find the tone in FILE: its onset and length (where |sample| exceeds
 *	a tenth of the peak), its frequency (rising zero crossings over that
 *	span, the dropouts left out: a dropout does not change the frequency
 *	of the sound around it), its dropouts (runs of >= 1 ms below that
 *	level inside it) and its clicks (discontinuities: see count_clicks).
 *	Prints one line "onset_s=... length_s=... freq_hz=... peak=...
 *	gaps=... gap_ms=... clicks=..." and, when there are dropouts or
 *	clicks, a second one "damage=N at_s=T,T,...": N places where the
 *	tone is damaged (a dropout and the clicks at its edges are one) and
 *	where the first 32 are, seconds from the file's start.  With FREQ and SECS: exit 1 unless
 *	the frequency is within 1 % of FREQ and the length less its dropouts
 *	within 10 % (and 20 ms) of SECS.  Without: exit 1 if there is no
 *	tone.  Dropouts and clicks are the caller's to judge.
 *   audiocheck tone-probe PLAYDEV CAPDEV FREQ SECS TOTAL OUT
 *	The one subcommand that is an ALSA client.  In one process, at
 *	48000 Hz stereo S16_LE: record CAPDEV for TOTAL seconds (written to
 *	OUT), and play into PLAYDEV 0.3 s of silence, SECS of FREQ Hz
 *	starting at its peak, then silence.  Both streams are started by
 *	hand, so the capture frame that should hear the tone's first frame is
 *	known: prints the analysis, "latency_ms=..." (onset in the capture
 *	minus onset in the playback, CLOCK_MONOTONIC) and "capture_start=T"
 *	(when the capture's frame 0 was, CLOCK_MONOTONIC seconds).  Exit 1 if no tone
 *	arrived or, with the tone criteria, the tone is wrong.
 *
 * Alignment, for recordings that start and end anywhere (the bench's runs
 * against other sound servers):
 *   audiocheck find-offset PLAYED CAPTURED [FRAME_BYTES]
 *	Both files are raw S16_LE frames of FRAME_BYTES bytes (default 4).
 *	A window of 32 frames taken at the first non-silent frame of the
 *	capture (then further in, if that one is not found) is looked up in
 *	the played file, bit for bit, and failing that within 4 LSB per
 *	sample (a server that converts to float and back).  That aligns the
 *	two; then every played frame is compared with the captured frame
 *	where it should be.  One line on stdout:
 *	  found=1 played=N captured=M offset=D head_lost=H tail_lost=T
 *	  differ=X silenced=S max_diff=Y extra=E exact=1
 *	offset: capture frame index of played frame 0 (negative when the
 *	head was lost); head_lost/tail_lost: played frames before the capture
 *	began or after it ended; differ: frames present but not bit-identical,
 *	silenced how many of those were recorded as silence (dropped, the
 *	timing kept), max_diff the largest sample difference among the others;
 *	extra: non-silent captured frames outside the played stream.
 *	exact=1 iff all of those are 0.  Exit 0 when the stream was found
 *	(exact or not), 1 when it was not.
 *
 * Every subcommand exits 2 on usage, I/O or ALSA errors.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <alsa/asoundlib.h>

#define PAT_MAX 64
#define CH_MAX 32

/* ---- shared: files, formats, samples ---- */

struct buf {
	uint8_t *data;
	size_t len;
};

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16;
	uint8_t *tmp;

	b->data = NULL;
	b->len = 0;
	if (!f) {
		fprintf(stderr, "audiocheck: %s: %s\n", path, strerror(errno));
		return -1;
	}
	b->data = malloc(cap);
	while (b->data) {
		size_t n = fread(b->data + b->len, 1, cap - b->len, f);

		b->len += n;
		if (b->len < cap)
			break;
		cap *= 2;
		tmp = realloc(b->data, cap);
		if (!tmp)
			free(b->data);
		b->data = tmp;
	}
	if (!b->data || ferror(f)) {
		fprintf(stderr, "audiocheck: %s: read failed\n", path);
		free(b->data);
		b->data = NULL;
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

/* The raw formats the checks decode and encode (little-endian). */
enum kind { K_S8, K_U8, K_S16, K_S32, K_FLOAT };

struct fmt {
	const char *name;
	enum kind k;
	unsigned int bytes;
};

static const struct fmt fmts[] = {
	{ "S8", K_S8, 1 }, { "U8", K_U8, 1 }, { "S16_LE", K_S16, 2 },
	{ "S32_LE", K_S32, 4 }, { "FLOAT_LE", K_FLOAT, 4 },
};

static const struct fmt *fmt_s16 = &fmts[2];

static const struct fmt *parse_format(const char *s)
{
	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
		if (!strcmp(s, fmts[i].name))
			return &fmts[i];
	fprintf(stderr, "audiocheck: unsupported format %s\n", s);
	return NULL;
}

static uint32_t le_word(const uint8_t *p, unsigned int bytes)
{
	uint32_t w = 0;

	for (unsigned int b = 0; b < bytes; b++)
		w |= (uint32_t)p[b] << (8 * b);
	return w;
}

/* One integer sample as stored (U8 stays 0..255); floats via decode_f. */
static int64_t decode_i(const struct fmt *f, const uint8_t *p)
{
	switch (f->k) {
	case K_S8:
		return (int8_t)p[0];
	case K_U8:
		return p[0];
	case K_S16:
		return (int16_t)(uint16_t)le_word(p, 2);
	case K_S32:
		return (int32_t)le_word(p, 4);
	case K_FLOAT:
		break;
	}
	return 0;
}

static double decode_f(const struct fmt *f, const uint8_t *p)
{
	if (f->k == K_FLOAT) {
		uint32_t w = le_word(p, 4);
		float v;

		memcpy(&v, &w, 4);
		return v;
	}
	return (double)decode_i(f, p);
}

/* VALUE (as gen takes it) into one stored sample of f. */
static int encode(const struct fmt *f, const char *s, uint8_t *out)
{
	static const long long lo[] = { [K_S8] = -128, [K_U8] = 0, [K_S16] = INT16_MIN,
					[K_S32] = INT32_MIN };
	static const long long hi[] = { [K_S8] = 127, [K_U8] = 255, [K_S16] = INT16_MAX,
					[K_S32] = INT32_MAX };
	uint64_t w;
	char *end;

	errno = 0;
	if (f->k == K_FLOAT) {
		float v = strtof(s, &end);
		uint32_t u;

		if (*end || errno)
			goto bad;
		memcpy(&u, &v, 4);
		w = u;
	} else {
		long long v = strtoll(s, &end, 0);

		if (*end || errno || v < lo[f->k] || v > hi[f->k])
			goto bad;
		w = (uint64_t)v;
	}
	for (unsigned int b = 0; b < f->bytes; b++)
		out[b] = (uint8_t)((w >> (8 * b)) & 0xff);
	return 0;
bad:
	fprintf(stderr, "audiocheck: bad value %s for %s\n", s, f->name);
	return -1;
}

static int parse_channels(const char *s, unsigned int *ch)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > CH_MAX) {
		fprintf(stderr, "audiocheck: bad channel count %s\n", s);
		return -1;
	}
	*ch = (unsigned int)v;
	return 0;
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || !*s || *end || !v)
		return false;
	*out = v;
	return true;
}

static int parse_hex(const char *s, uint8_t *pat, size_t *len)
{
	size_t n = strlen(s);

	if (!n || n % 2 || n / 2 > PAT_MAX)
		return -1;
	for (size_t i = 0; i < n / 2; i++) {
		unsigned int v;

		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		pat[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

/* An alsa-lib format name whose samples are whole bytes. */
static int alsa_format(const char *name, snd_pcm_format_t *fmt)
{
	*fmt = snd_pcm_format_value(name);
	if (*fmt == SND_PCM_FORMAT_UNKNOWN || snd_pcm_format_physical_width(*fmt) <= 0 ||
	    snd_pcm_format_physical_width(*fmt) % 8) {
		fprintf(stderr, "audiocheck: unknown or non-byte format '%s'\n", name);
		return -1;
	}
	return 0;
}

/* ---- compare, silent, silence, frame-bytes ---- */

/* Byte i of a capture (which starts on a frame boundary) is silence. */
static bool silent_byte(const struct buf *b, size_t i, const uint8_t *pat, size_t plen)
{
	return b->data[i] == pat[i % plen];
}

/* The first byte in [from, to) that is not silence, or to. */
static size_t first_sound(const struct buf *b, size_t from, size_t to, const uint8_t *pat,
			  size_t plen)
{
	for (size_t i = from; i < to; i++)
		if (!silent_byte(b, i, pat, plen))
			return i;
	return to;
}

static void dump_frame(const char *what, const uint8_t *p, size_t frame_bytes)
{
	fprintf(stderr, "  %s:", what);
	for (size_t i = 0; i < frame_bytes && i < 16; i++)
		fprintf(stderr, " %02x", p[i]);
	fprintf(stderr, "%s\n", frame_bytes > 16 ? " ..." : "");
}

static int compare(const char *played_path, const char *cap_path, size_t fb, const uint8_t *pat,
		   size_t plen)
{
	struct buf play = { 0 }, cap = { 0 };
	size_t pfirst, cfirst, off, bad = 0, first_bad = 0, gap = 0, tail;
	int ret = 1;

	if (fb % plen) {
		fprintf(stderr, "audiocheck: frame bytes %zu not a multiple of the pattern (%zu)\n",
			fb, plen);
		return 2;
	}
	if (read_file(played_path, &play) < 0 || read_file(cap_path, &cap) < 0) {
		ret = 2;
		goto out;
	}
	if (!play.len || play.len % fb || cap.len % fb) {
		fprintf(stderr, "audiocheck: sizes %zu (played) / %zu (captured) are not whole "
			"non-empty frames of %zu bytes\n", play.len, cap.len, fb);
		ret = play.len % fb || !play.len ? 2 : 1;
		goto out;
	}
	/*
	 * Align on the first frame that differs from silence: the played
	 * file may itself begin with silent samples.
	 */
	pfirst = first_sound(&play, 0, play.len, pat, plen) / fb * fb;
	if (pfirst == play.len) {
		fprintf(stderr, "audiocheck: %s is all silence: nothing to align on\n",
			played_path);
		ret = 2;
		goto out;
	}
	cfirst = first_sound(&cap, 0, cap.len, pat, plen) / fb * fb;
	if (cfirst == cap.len) {
		fprintf(stderr, "audiocheck: FAIL: the capture (%zu frames) is all silence: the "
			"played data never arrived\n", cap.len / fb);
		goto out;
	}
	if (cfirst < pfirst) {
		fprintf(stderr, "audiocheck: FAIL: sound at capture frame %zu but the played "
			"data's first sound is at frame %zu: the capture started too late or "
			"holds other data\n", cfirst / fb, pfirst / fb);
		goto out;
	}
	off = cfirst - pfirst;
	if (off == 0) {
		fprintf(stderr, "audiocheck: FAIL: no silence before the played data (the "
			"capture may have missed its beginning)\n");
		goto out;
	}
	if (cap.len < off + play.len) {
		fprintf(stderr, "audiocheck: FAIL: the capture ends at frame %zu, the played "
			"data would end at frame %zu (aligned at capture frame %zu)\n",
			cap.len / fb, (off + play.len) / fb, off / fb);
		goto out;
	}
	for (size_t f = 0; f < play.len; f += fb) {
		if (memcmp(play.data + f, cap.data + off + f, fb)) {
			if (!bad++)
				first_bad = f;
			if (first_sound(&cap, off + f, off + f + fb, pat, plen) == off + f + fb)
				gap++;
		}
	}
	if (bad) {
		fprintf(stderr, "audiocheck: FAIL: %zu of %zu frames differ (%zu of them "
			"silence: dropouts); first at played frame %zu = byte %zu, captured "
			"byte %zu (data aligned at capture frame %zu)\n", bad, play.len / fb, gap,
			first_bad / fb, first_bad, off + first_bad, off / fb);
		dump_frame("played  ", play.data + first_bad, fb);
		dump_frame("captured", cap.data + off + first_bad, fb);
		goto out;
	}
	tail = off + play.len;
	if (tail == cap.len) {
		fprintf(stderr, "audiocheck: FAIL: no silence after the played data (the capture "
			"may have missed its end)\n");
		goto out;
	}
	if (first_sound(&cap, tail, cap.len, pat, plen) != cap.len) {
		size_t at = first_sound(&cap, tail, cap.len, pat, plen);

		fprintf(stderr, "audiocheck: FAIL: sound after the played data at captured byte "
			"%zu (frame %zu; data ended at frame %zu)\n", at, at / fb, tail / fb);
		dump_frame("captured", cap.data + at / fb * fb, fb);
		goto out;
	}
	printf("audiocheck: OK: %zu frames bit-exact after %zu frames of silence, then %zu "
	       "frames of silence\n", play.len / fb, off / fb, (cap.len - tail) / fb);
	ret = 0;
out:
	free(play.data);
	free(cap.data);
	return ret;
}

static int all_silent(const char *path, const uint8_t *pat, size_t plen)
{
	struct buf b;
	size_t at, n = 0;

	if (read_file(path, &b) < 0)
		return 2;
	if (!b.len) {
		fprintf(stderr, "audiocheck: %s is empty\n", path);
		free(b.data);
		return 1;
	}
	at = first_sound(&b, 0, b.len, pat, plen);
	for (size_t i = at; i < b.len; i++)
		n += !silent_byte(&b, i, pat, plen);
	free(b.data);
	if (at != b.len) {
		fprintf(stderr, "audiocheck: %s: %zu of %zu bytes are not silence, first at "
			"byte %zu\n", path, n, b.len, at);
		return 1;
	}
	printf("audiocheck: %s: %zu bytes of silence\n", path, b.len);
	return 0;
}

static int print_silence(const char *name)
{
	snd_pcm_format_t fmt;
	uint8_t sample[PAT_MAX];
	int bytes;

	if (alsa_format(name, &fmt) < 0)
		return 2;
	bytes = snd_pcm_format_physical_width(fmt) / 8;
	/* The very function snd_pcm_areas_silence() uses. */
	if (snd_pcm_format_set_silence(fmt, sample, 1) < 0) {
		fprintf(stderr, "audiocheck: no silence for %s\n", name);
		return 2;
	}
	for (int i = 0; i < bytes; i++)
		printf("%02x", sample[i]);
	printf("\n");
	return 0;
}

/* ---- gen, runs ---- */

static void print_frame(const struct fmt *f, const uint8_t *p, unsigned int ch)
{
	for (unsigned int c = 0; c < ch; c++, p += f->bytes) {
		if (f->k == K_FLOAT)
			printf(" %.9g", decode_f(f, p));
		else
			printf(" %lld", (long long)decode_i(f, p));
	}
	printf("\n");
}

static int gen(int argc, char **argv)
{
	const struct fmt *fm = parse_format(argv[3]);
	unsigned int ch;
	uint8_t frame[CH_MAX * 4];
	char *end;
	long long frames;
	FILE *f;

	if (!fm || parse_channels(argv[4], &ch) < 0)
		return 2;
	frames = strtoll(argv[5], &end, 10);
	if (!*argv[5] || *end || frames < 0) {
		fprintf(stderr, "audiocheck: bad frame count %s\n", argv[5]);
		return 2;
	}
	if ((unsigned int)(argc - 6) != ch) {
		fprintf(stderr, "audiocheck gen: %u values needed, %d given\n", ch, argc - 6);
		return 2;
	}
	for (unsigned int c = 0; c < ch; c++)
		if (encode(fm, argv[6 + c], frame + c * fm->bytes) < 0)
			return 2;
	f = fopen(argv[2], "wb");
	if (!f) {
		fprintf(stderr, "audiocheck: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	for (long long i = 0; i < frames; i++)
		fwrite(frame, fm->bytes, ch, f);
	if (fclose(f)) {
		fprintf(stderr, "audiocheck: %s: write failed\n", argv[2]);
		return 2;
	}
	return 0;
}

static int runs(char **argv)
{
	const struct fmt *fm = parse_format(argv[3]);
	unsigned int ch;
	size_t fb, start = 0, n;
	struct buf b;

	if (!fm || parse_channels(argv[4], &ch) < 0)
		return 2;
	if (read_file(argv[2], &b) < 0)
		return 2;
	fb = (size_t)fm->bytes * ch;
	if (b.len % fb) {
		fprintf(stderr, "audiocheck: %s: %zu bytes of a partial frame at the end\n",
			argv[2], b.len % fb);
		free(b.data);
		return 2;
	}
	n = b.len / fb;
	for (size_t i = 1; i <= n; i++) {
		if (i < n && !memcmp(b.data + i * fb, b.data + start * fb, fb))
			continue;
		printf("%zu %zu", start, i - start);
		print_frame(fm, b.data + start * fb, ch);
		start = i;
	}
	free(b.data);
	return 0;
}

/* ---- tone, tone-probe ---- */

#define SPOTS_MAX 1024	/* dropouts and clicks placed; more are counted only */
#define DAMAGE_SHOWN 32	/* places printed */

struct tone {
	long onset, end;	/* frames; end exclusive; onset < 0: no tone */
	double freq, peak;
	int gaps;
	long gap_frames;
	int clicks;
	long gap_at[SPOTS_MAX], gap_end[SPOTS_MAX];	/* the first dropouts */
	long click_at[SPOTS_MAX];			/* the first clicks */
	int damage;		/* dropouts, and clicks that are not a dropout's edge */
	long damage_at[DAMAGE_SHOWN];
};

/*
 * The places where the tone is damaged, each once: a dropout's edges are
 * clicks too (the sound stops and starts), the dropout is one event.
 */
static void damage_events(struct tone *t, unsigned int rate)
{
	long edge = rate / 200;	/* 5 ms */
	int ng = t->gaps < SPOTS_MAX ? t->gaps : SPOTS_MAX;
	int nc = t->clicks < SPOTS_MAX ? t->clicks : SPOTS_MAX;
	int g = 0, c = 0;

	t->damage = 0;
	while (g < ng || c < nc) {
		long at;

		if (c < nc && g < ng && t->click_at[c] >= t->gap_at[g] - edge &&
		    t->click_at[c] <= t->gap_end[g] + edge) {
			c++;	/* an edge of dropout g */
			continue;
		}
		if (c >= nc || (g < ng && t->gap_at[g] < t->click_at[c]))
			at = t->gap_at[g++];
		else
			at = t->click_at[c++];
		if (t->damage < DAMAGE_SHOWN)
			t->damage_at[t->damage] = at;
		t->damage++;
	}
	/* Beyond the places kept: counted as they were, one each. */
	t->damage += t->gaps - ng + t->clicks - nc;
}

/*
 * Clicks: a sine of amplitude A and frequency f at rate R has a second
 * difference s[n+1] - 2 s[n] + s[n-1] of at most 4 A sin^2(pi f / R); a
 * discontinuity (a lost, repeated or shifted block) makes one of about the
 * size of the jump.  Count the places, at least 1 ms apart, where any
 * channel exceeds 4 times that bound plus 3 % of the peak (rounding,
 * a resampler's ripple), 5 ms away from the tone's ends (its start and stop
 * are steps by design).  A dropout inside the tone counts here too.
 */
static void count_clicks(const int16_t *s, int ch, unsigned int rate, struct tone *t, int peak)
{
	long margin = rate / 200, last = -(long)rate;
	double sn = sin(M_PI * t->freq / rate);
	double lim = 4.0 * 4.0 * peak * sn * sn + 0.03 * peak;

	t->clicks = 0;
	if (t->freq <= 0)
		return;
	for (long i = t->onset + margin; i < t->end - margin; i++)
		for (int c = 0; c < ch; c++) {
			long d = (long)s[(i + 1) * ch + c] - 2L * s[i * ch + c] +
				 s[(i - 1) * ch + c];

			if (labs(d) > lim) {
				if (i - last >= (long)rate / 1000) {
					if (t->clicks < SPOTS_MAX)
						t->click_at[t->clicks] = i;
					t->clicks++;
				}
				last = i;
				break;
			}
		}
}

static bool loud_frame(const int16_t *s, long i, int ch, int thr)
{
	for (int c = 0; c < ch; c++)
		if (abs(s[i * ch + c]) > thr)
			return true;
	return false;
}

static void analyze(const int16_t *s, long frames, int ch, unsigned int rate, struct tone *t)
{
	long i, first = -1, last = -1, n = 0, quiet = 0, min_gap = rate / 1000;
	long crossings = 0, span = 0;
	int peak = 0, thr, below = 1;

	memset(t, 0, sizeof(*t));
	t->onset = -1;
	for (i = 0; i < frames * ch; i++)
		if (abs(s[i]) > peak)
			peak = abs(s[i]);
	t->peak = peak / 32768.0;
	if (peak < 328)	/* below 1 % of full scale: silence */
		return;
	thr = peak / 10;
	for (i = 0; i < frames && t->onset < 0; i++)
		if (loud_frame(s, i, ch, thr))
			t->onset = i;
	for (i = frames - 1; i >= t->onset; i--)
		if (loud_frame(s, i, ch, thr))
			break;
	t->end = i + 1;
	/*
	 * Rising crossings of channel 0, with hysteresis of the threshold,
	 * counted between dropouts: the frequency is crossings per time of
	 * sound, summed over the stretches between them.
	 */
	for (i = t->onset; i < t->end; i++) {
		int v = s[i * ch];

		if (quiet >= min_gap && loud_frame(s, i, ch, thr)) {
			if (n > 1) {
				crossings += n - 1;
				span += last - first;
			}
			n = 0;
			first = -1;
		}
		if (v < -thr) {
			below = 1;
		} else if (v > thr && below) {
			below = 0;
			if (first < 0)
				first = i;
			last = i;
			n++;
		}
		if (!loud_frame(s, i, ch, thr)) {
			quiet++;
		} else {
			if (quiet >= min_gap) {
				if (t->gaps < SPOTS_MAX) {
					t->gap_at[t->gaps] = i - quiet;
					t->gap_end[t->gaps] = i;
				}
				t->gaps++;
				t->gap_frames += quiet;
			}
			quiet = 0;
		}
	}
	if (n > 1) {
		crossings += n - 1;
		span += last - first;
	}
	if (crossings && span)
		t->freq = (double)crossings * rate / (double)span;
	count_clicks(s, ch, rate, t, peak);
	damage_events(t, rate);
}

static void print_tone(const struct tone *t, unsigned int rate)
{
	if (t->onset < 0) {
		printf("onset_s=none peak=%.4f\n", t->peak);
		return;
	}
	printf("onset_s=%.4f length_s=%.4f freq_hz=%.2f peak=%.3f gaps=%d gap_ms=%.1f "
	       "clicks=%d\n", (double)t->onset / rate, (double)(t->end - t->onset) / rate,
	       t->freq, t->peak, t->gaps, t->gap_frames * 1000.0 / rate, t->clicks);
	if (!t->damage)
		return;
	printf("damage=%d at_s=", t->damage);
	for (int i = 0; i < t->damage && i < DAMAGE_SHOWN; i++)
		printf("%s%.4f", i ? "," : "", (double)t->damage_at[i] / rate);
	printf("\n");
}

static int judge(const struct tone *t, unsigned int rate, double freq, double secs)
{
	double len, tol;

	if (t->onset < 0) {
		fprintf(stderr, "audiocheck: no tone (silence)\n");
		return 1;
	}
	/* A dropout is judged as one (the caller's part), not as length. */
	len = (double)(t->end - t->onset - t->gap_frames) / rate;
	tol = secs * 0.1 > 0.02 ? secs * 0.1 : 0.02;
	if (fabs(t->freq - freq) > freq * 0.01) {
		fprintf(stderr, "audiocheck: frequency %.2f Hz, want %.2f Hz\n", t->freq, freq);
		return 1;
	}
	if (fabs(len - secs) > tol) {
		fprintf(stderr, "audiocheck: tone lasts %.4f s, want %.4f s\n", len, secs);
		return 1;
	}
	return 0;
}

/* FILE's whole S16_LE frames of ch channels, decoded. */
static int16_t *read_s16(const char *path, int ch, long *frames)
{
	struct buf b;
	int16_t *s;
	size_t n;

	if (read_file(path, &b) < 0)
		return NULL;
	n = b.len / (2 * (size_t)ch) * ch;
	s = malloc(n ? n * 2 : 1);
	if (s)
		for (size_t i = 0; i < n; i++)
			s[i] = (int16_t)decode_i(fmt_s16, b.data + 2 * i);
	free(b.data);
	*frames = (long)(n / ch);
	return s;
}

static int tone(int argc, char **argv)
{
	unsigned int rate = (unsigned int)atoi(argv[3]);
	int ch = atoi(argv[4]);
	int16_t *s;
	long frames;
	struct tone t;

	if (!rate || ch < 1 || ch > CH_MAX)
		return 2;
	s = read_s16(argv[2], ch, &frames);
	if (!s)
		return 2;
	analyze(s, frames, ch, rate, &t);
	free(s);
	print_tone(&t, rate);
	if (argc >= 7)
		return judge(&t, rate, atof(argv[5]), atof(argv[6]));
	return t.onset < 0;
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
		fprintf(stderr, "audiocheck: cannot open %s: %s\n", dev, snd_strerror(err));
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
		fprintf(stderr, "audiocheck: %s: S16_LE %d Hz %d ch: %s\n", dev, RATE, CH,
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

static int tone_probe(const char *playdev, const char *capdev, double freq, double secs,
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
	snd_pcm_sframes_t n;
	double t_cap, t_play, t0, lat;
	struct tone t;
	FILE *f;

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
	n = snd_pcm_writei(pp, play, 4800);
	if (n < 0) {
		fprintf(stderr, "audiocheck: prefill %s: %s\n", playdev, snd_strerror((int)n));
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
			fprintf(stderr, "audiocheck: capture stalled at frame %ld\n", got);
			return 2;
		}
		if (played < play_frames) {
			n = snd_pcm_writei(pp, play + played * CH,
					   (snd_pcm_uframes_t)(play_frames - played));
			if (n > 0) {
				played += n;
			} else if (n == -EPIPE || n == -ESTRPIPE) {
				xruns++;
				snd_pcm_prepare(pp);
				snd_pcm_start(pp);
			} else if (n != -EAGAIN) {
				fprintf(stderr, "audiocheck: write %s: %s\n", playdev,
					snd_strerror((int)n));
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
			fprintf(stderr, "audiocheck: read %s: %s\n", capdev, snd_strerror((int)n));
			return 2;
		}
		snd_pcm_wait(pc, 5);
	}
	snd_pcm_close(pp);
	snd_pcm_close(pc);

	f = fopen(out, "wb");
	if (!f || fwrite(cap, 2 * CH, (size_t)cap_frames, f) != (size_t)cap_frames || fclose(f)) {
		fprintf(stderr, "audiocheck: cannot write %s\n", out);
		return 2;
	}
	analyze(cap, cap_frames, CH, RATE, &t);
	free(cap);
	free(play);
	print_tone(&t, RATE);
	if (xruns)
		printf("xruns=%d\n", xruns);
	if (t.onset < 0) {
		fprintf(stderr, "audiocheck: no tone arrived on %s\n", capdev);
		return 1;
	}
	lat = (t_cap + (double)t.onset / RATE) - (t_play + (double)LEAD_FRAMES / RATE);
	printf("latency_ms=%.2f\n", lat * 1000);
	printf("capture_start=%.6f\n", t_cap);
	return judge(&t, RATE, freq, secs);
}

/* ---- find-offset ---- */

#define WINDOW 32

/* Largest |a - b| over one frame's S16 samples. */
static int frame_diff(const uint8_t *a, const uint8_t *b, size_t fb)
{
	int worst = 0;

	for (size_t i = 0; i + 1 < fb; i += 2) {
		int d = (int)llabs(decode_i(fmt_s16, a + i) - decode_i(fmt_s16, b + i));

		if (d > worst)
			worst = d;
	}
	return worst;
}

/* A frame of S16 zeros. */
static bool zero_frame(const uint8_t *p, size_t fb)
{
	for (size_t i = 0; i < fb; i++)
		if (p[i])
			return false;
	return true;
}

/* The first played index whose WINDOW frames match cap within tol, or -1. */
static long find(const struct buf *pl, size_t pn, const uint8_t *win, size_t wn, size_t fb,
		 int tol)
{
	for (size_t j = 0; j + wn <= pn; j++) {
		size_t k;

		for (k = 0; k < wn; k++)
			if (frame_diff(pl->data + (j + k) * fb, win + k * fb, fb) > tol)
				break;
		if (k == wn)
			return (long)j;
	}
	return -1;
}

static int find_offset(int argc, char **argv)
{
	struct buf pl, cp;
	size_t fb = 4, pn, cn, c0;
	long offset = 0, at = -1;
	unsigned long head = 0, tail = 0, differ = 0, silenced = 0, extra = 0;
	int max_diff = 0, ret = 2;

	if (argc == 5 && !parse_size(argv[4], &fb))
		fb = 0;
	if (!fb || fb % 2) {
		fprintf(stderr, "audiocheck: FRAME_BYTES must be even\n");
		return 2;
	}
	if (read_file(argv[2], &pl) < 0)
		return 2;
	if (read_file(argv[3], &cp) < 0)
		goto out;
	pn = pl.len / fb;
	cn = cp.len / fb;
	for (c0 = 0; c0 < cn && zero_frame(cp.data + c0 * fb, fb); c0++)
		;
	/* Try the first non-silent frame, then further in: a fade-in or a
	 * glitch at the start must not hide the stream. */
	for (size_t tries = 0, ci = c0; at < 0 && tries < 8 && ci + WINDOW <= cn;
	     tries++, ci += 4096) {
		for (int tol = 0; at < 0 && tol <= 4; tol += 4)
			at = find(&pl, pn, cp.data + ci * fb, WINDOW, fb, tol);
		if (at >= 0)
			offset = (long)ci - at;
	}
	if (at < 0) {
		printf("found=0 played=%zu captured=%zu exact=0\n", pn, cn);
		ret = 1;
		goto out;
	}
	for (size_t j = 0; j < pn; j++) {
		long c = (long)j + offset;
		int d;

		if (c < 0) {
			head++;
			continue;
		}
		if ((size_t)c >= cn) {
			tail++;
			continue;
		}
		d = frame_diff(pl.data + j * fb, cp.data + (size_t)c * fb, fb);
		if (d) {
			differ++;
			if (zero_frame(cp.data + (size_t)c * fb, fb))
				silenced++;
			else if (d > max_diff)
				max_diff = d;
		}
	}
	for (size_t c = 0; c < cn; c++) {
		long j = (long)c - offset;

		if ((j < 0 || (size_t)j >= pn) && !zero_frame(cp.data + c * fb, fb))
			extra++;
	}
	printf("found=1 played=%zu captured=%zu offset=%ld head_lost=%lu tail_lost=%lu "
	       "differ=%lu silenced=%lu max_diff=%d extra=%lu exact=%d\n", pn, cn, offset, head,
	       tail, differ, silenced, max_diff, extra, !head && !tail && !differ && !extra);
	ret = 0;
out:
	free(pl.data);
	free(cp.data);
	return ret;
}

/* ---- main ---- */

static int usage(void)
{
	fprintf(stderr,
		"usage: audiocheck compare PLAYED CAPTURED FRAME_BYTES SILENCE_HEX\n"
		"       audiocheck silent FILE SILENCE_HEX\n"
		"       audiocheck silence FORMAT\n"
		"       audiocheck frame-bytes FORMAT CHANNELS\n"
		"       audiocheck gen FILE FORMAT CHANNELS FRAMES VALUE...\n"
		"       audiocheck runs FILE FORMAT CHANNELS\n"
		"       audiocheck tone FILE RATE CHANNELS [FREQ SECS]\n"
		"       audiocheck tone-probe PLAYDEV CAPDEV FREQ SECS TOTAL OUT\n"
		"       audiocheck find-offset PLAYED CAPTURED [FRAME_BYTES]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	uint8_t pat[PAT_MAX];
	size_t plen, fb;

	if (!strcmp(cmd, "compare")) {
		if (argc != 6 || !parse_size(argv[4], &fb) || parse_hex(argv[5], pat, &plen) < 0)
			return usage();
		return compare(argv[2], argv[3], fb, pat, plen);
	}
	if (!strcmp(cmd, "silent")) {
		if (argc != 4 || parse_hex(argv[3], pat, &plen) < 0)
			return usage();
		return all_silent(argv[2], pat, plen);
	}
	if (!strcmp(cmd, "silence") && argc == 3)
		return print_silence(argv[2]);
	if (!strcmp(cmd, "frame-bytes") && argc == 4) {
		snd_pcm_format_t fmt;
		size_t ch;

		if (alsa_format(argv[2], &fmt) < 0 || !parse_size(argv[3], &ch))
			return usage();
		printf("%zu\n", (size_t)snd_pcm_format_physical_width(fmt) / 8 * ch);
		return 0;
	}
	if (!strcmp(cmd, "gen") && argc >= 7)
		return gen(argc, argv);
	if (!strcmp(cmd, "runs") && argc == 5)
		return runs(argv);
	if (!strcmp(cmd, "tone") && (argc == 5 || argc == 7))
		return tone(argc, argv);
	if (!strcmp(cmd, "tone-probe") && argc == 8)
		return tone_probe(argv[2], argv[3], atof(argv[4]), atof(argv[5]), atof(argv[6]),
				  argv[7]);
	if (!strcmp(cmd, "find-offset") && (argc == 4 || argc == 5))
		return find_offset(argc, argv);
	return usage();
}
