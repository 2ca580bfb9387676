// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pcmfind.c - where did the played stream land in the recording, and did
 * every bit survive?  For the side-by-side runs against other sound
 * servers, whose recordings start and end at different places.
 *
 *   pcmfind PLAYED CAPTURED [FRAME_BYTES]
 *
 * Both files are raw S16 frames of FRAME_BYTES bytes (default 4: stereo).
 * The capture is searched for the played stream: a window of 32 frames
 * taken at the first non-silent frame of the capture (then further in, if
 * that one is not found) is looked up in the played file, bit for bit, and
 * failing that within 4 LSB per sample (a server that converts to float
 * and back).  That aligns the two; then every played frame is compared
 * with the captured frame where it should be.
 *
 * One line on stdout:
 *
 *   found=1 played=N captured=M offset=D head_lost=H tail_lost=T
 *   differ=X silenced=S max_diff=Y extra=E exact=1
 *
 * offset: capture frame index of played frame 0 (negative when the head
 * was lost); head_lost/tail_lost: played frames before the capture began
 * or after it ended; differ: frames present but not bit-identical, silenced
 * how many of those were recorded as silence (dropped, the timing kept),
 * max_diff the largest sample difference among the others; extra: non-silent captured
 * frames outside the played stream.  exact=1 iff all of those are 0.
 * Exit 0 when the stream was found (exact or not), 1 when it was not, 2 on
 * usage or I/O errors.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WINDOW 32

struct buf {
	unsigned char *data;
	size_t len;
};

static int read_file(const char *path, struct buf *b)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 1 << 20;

	if (!f) {
		perror(path);
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
		b->data = realloc(b->data, cap);
	}
	if (!b->data || ferror(f)) {
		perror(path);
		fclose(f);
		return -1;
	}
	fclose(f);
	return 0;
}

static int16_t sample(const unsigned char *p)
{
	return (int16_t)(uint16_t)(p[0] | p[1] << 8);
}

/* Largest |a - b| over one frame's samples. */
static int frame_diff(const unsigned char *a, const unsigned char *b, size_t fb)
{
	int worst = 0;

	for (size_t i = 0; i + 1 < fb; i += 2) {
		int d = abs(sample(a + i) - sample(b + i));

		if (d > worst)
			worst = d;
	}
	return worst;
}

static int silent(const unsigned char *p, size_t fb)
{
	for (size_t i = 0; i < fb; i++)
		if (p[i])
			return 0;
	return 1;
}

/* The first played index whose WINDOW frames match cap within tol, or -1. */
static long find(const struct buf *pl, size_t pn, const unsigned char *win, size_t wn,
		 size_t fb, int tol)
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

int main(int argc, char **argv)
{
	struct buf pl, cp;
	size_t fb = 4, pn, cn, c0;
	long offset = 0, at = -1;
	unsigned long head = 0, tail = 0, differ = 0, silenced = 0, extra = 0;
	int max_diff = 0;

	if (argc < 3 || argc > 4) {
		fprintf(stderr, "usage: pcmfind PLAYED CAPTURED [FRAME_BYTES]\n");
		return 2;
	}
	if (argc == 4)
		fb = strtoul(argv[3], NULL, 0);
	if (!fb || fb % 2) {
		fprintf(stderr, "pcmfind: FRAME_BYTES must be even\n");
		return 2;
	}
	if (read_file(argv[1], &pl) || read_file(argv[2], &cp))
		return 2;
	pn = pl.len / fb;
	cn = cp.len / fb;
	for (c0 = 0; c0 < cn && silent(cp.data + c0 * fb, fb); c0++)
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
		return 1;
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
			if (silent(cp.data + (size_t)c * fb, fb))
				silenced++;
			else if (d > max_diff)
				max_diff = d;
		}
	}
	for (size_t c = 0; c < cn; c++) {
		long j = (long)c - offset;

		if ((j < 0 || (size_t)j >= pn) && !silent(cp.data + c * fb, fb))
			extra++;
	}
	printf("found=1 played=%zu captured=%zu offset=%ld head_lost=%lu tail_lost=%lu "
	       "differ=%lu silenced=%lu max_diff=%d extra=%lu exact=%d\n", pn, cn, offset, head,
	       tail, differ, silenced, max_diff, extra, !head && !tail && !differ && !extra);
	free(pl.data);
	free(cp.data);
	return 0;
}
