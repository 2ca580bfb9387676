// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pcmcmp - bit-exact checks of raw audio files for the shell tests.
 *
 *   pcmcmp PLAYED CAPTURED FRAME_BYTES SILENCE_HEX
 *	The capture must be: at least one frame of silence, then exactly the
 *	played bytes, then at least one frame of silence.  The capture starts
 *	on a frame boundary, so the silence pattern (one sample's bytes, e.g.
 *	"80" for U8 or "0000" for S16) is matched modulo its length.
 *   pcmcmp --silent FILE SILENCE_HEX
 *	FILE is not empty and holds only the silence pattern.
 *   pcmcmp --silence FORMAT
 *	Print one sample of FORMAT's silence as alsa-lib fills it, in hex.
 *   pcmcmp --frame-bytes FORMAT CHANNELS
 *	Print the bytes of one frame.
 *
 * Exit 0 on a match, 1 on a mismatch (with offsets on stderr), 2 on usage
 * or I/O errors.  The shell tests cannot rely on python, hence this tool.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <alsa/asoundlib.h>

#define PAT_MAX 64

struct buf {
	uint8_t *data;
	size_t len;
};

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 16;
	uint8_t *tmp;

	if (!f) {
		fprintf(stderr, "pcmcmp: %s: %s\n", path, strerror(errno));
		return -1;
	}
	b->len = 0;
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
		fprintf(stderr, "pcmcmp: %s: read failed\n", path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
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
		fprintf(stderr, "pcmcmp: frame bytes %zu not a multiple of the pattern (%zu)\n",
			fb, plen);
		return 2;
	}
	if (read_file(played_path, &play) < 0 || read_file(cap_path, &cap) < 0) {
		ret = 2;
		goto out;
	}
	if (!play.len || play.len % fb || cap.len % fb) {
		fprintf(stderr, "pcmcmp: sizes %zu (played) / %zu (captured) are not whole "
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
		fprintf(stderr, "pcmcmp: %s is all silence: nothing to align on\n", played_path);
		ret = 2;
		goto out;
	}
	cfirst = first_sound(&cap, 0, cap.len, pat, plen) / fb * fb;
	if (cfirst == cap.len) {
		fprintf(stderr, "pcmcmp: FAIL: the capture (%zu frames) is all silence: the "
			"played data never arrived\n", cap.len / fb);
		goto out;
	}
	if (cfirst < pfirst) {
		fprintf(stderr, "pcmcmp: FAIL: sound at capture frame %zu but the played data's "
			"first sound is at frame %zu: the capture started too late or holds "
			"other data\n", cfirst / fb, pfirst / fb);
		goto out;
	}
	off = cfirst - pfirst;
	if (off == 0) {
		fprintf(stderr, "pcmcmp: FAIL: no silence before the played data (the capture "
			"may have missed its beginning)\n");
		goto out;
	}
	if (cap.len < off + play.len) {
		fprintf(stderr, "pcmcmp: FAIL: the capture ends at frame %zu, the played data "
			"would end at frame %zu (aligned at capture frame %zu)\n", cap.len / fb,
			(off + play.len) / fb, off / fb);
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
		fprintf(stderr, "pcmcmp: FAIL: %zu of %zu frames differ (%zu of them silence: "
			"dropouts); first at played frame %zu = byte %zu, captured byte %zu "
			"(data aligned at capture frame %zu)\n", bad, play.len / fb, gap,
			first_bad / fb, first_bad, off + first_bad, off / fb);
		dump_frame("played  ", play.data + first_bad, fb);
		dump_frame("captured", cap.data + off + first_bad, fb);
		goto out;
	}
	tail = off + play.len;
	if (tail == cap.len) {
		fprintf(stderr, "pcmcmp: FAIL: no silence after the played data (the capture "
			"may have missed its end)\n");
		goto out;
	}
	if (first_sound(&cap, tail, cap.len, pat, plen) != cap.len) {
		size_t at = first_sound(&cap, tail, cap.len, pat, plen);

		fprintf(stderr, "pcmcmp: FAIL: sound after the played data at captured byte %zu "
			"(frame %zu; data ended at frame %zu)\n", at, at / fb, tail / fb);
		dump_frame("captured", cap.data + at / fb * fb, fb);
		goto out;
	}
	printf("pcmcmp: OK: %zu frames bit-exact after %zu frames of silence, then %zu "
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
		fprintf(stderr, "pcmcmp: %s is empty\n", path);
		free(b.data);
		return 1;
	}
	at = first_sound(&b, 0, b.len, pat, plen);
	for (size_t i = at; i < b.len; i++)
		n += !silent_byte(&b, i, pat, plen);
	free(b.data);
	if (at != b.len) {
		fprintf(stderr, "pcmcmp: %s: %zu of %zu bytes are not silence, first at byte %zu\n",
			path, n, b.len, at);
		return 1;
	}
	printf("pcmcmp: %s: %zu bytes of silence\n", path, b.len);
	return 0;
}

static int format_arg(const char *name, snd_pcm_format_t *fmt)
{
	*fmt = snd_pcm_format_value(name);
	if (*fmt == SND_PCM_FORMAT_UNKNOWN || snd_pcm_format_physical_width(*fmt) <= 0 ||
	    snd_pcm_format_physical_width(*fmt) % 8) {
		fprintf(stderr, "pcmcmp: unknown or non-byte format '%s'\n", name);
		return -1;
	}
	return 0;
}

static int print_silence(const char *name)
{
	snd_pcm_format_t fmt;
	uint8_t sample[PAT_MAX];
	int bytes;

	if (format_arg(name, &fmt) < 0)
		return 2;
	bytes = snd_pcm_format_physical_width(fmt) / 8;
	/* The very function snd_pcm_areas_silence() uses. */
	if (snd_pcm_format_set_silence(fmt, sample, 1) < 0) {
		fprintf(stderr, "pcmcmp: no silence for %s\n", name);
		return 2;
	}
	for (int i = 0; i < bytes; i++)
		printf("%02x", sample[i]);
	printf("\n");
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: pcmcmp PLAYED CAPTURED FRAME_BYTES SILENCE_HEX\n"
			"       pcmcmp --silent FILE SILENCE_HEX\n"
			"       pcmcmp --silence FORMAT\n"
			"       pcmcmp --frame-bytes FORMAT CHANNELS\n");
	return 2;
}

int main(int argc, char **argv)
{
	uint8_t pat[PAT_MAX];
	size_t plen, fb;

	if (argc == 3 && !strcmp(argv[1], "--silence"))
		return print_silence(argv[2]);
	if (argc == 4 && !strcmp(argv[1], "--frame-bytes")) {
		snd_pcm_format_t fmt;
		size_t ch;

		if (format_arg(argv[2], &fmt) < 0 || !parse_size(argv[3], &ch))
			return usage();
		printf("%zu\n", (size_t)snd_pcm_format_physical_width(fmt) / 8 * ch);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "--silent")) {
		if (parse_hex(argv[3], pat, &plen) < 0)
			return usage();
		return all_silent(argv[2], pat, plen);
	}
	if (argc != 5 || !parse_size(argv[3], &fb) || parse_hex(argv[4], pat, &plen) < 0)
		return usage();
	return compare(argv[1], argv[2], fb, pat, plen);
}
