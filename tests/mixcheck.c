// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * mixcheck - constant-signal files and run-length dumps for the shared-end
 * tests (tests/shared-*.sh); no python in CI.
 *
 *   mixcheck gen FILE FORMAT CHANNELS FRAMES VALUE...
 *	Write FRAMES frames whose channel c holds VALUE[c] (one value per
 *	channel): integers as stored for the integer formats (U8: 0..255, 128
 *	is silence), decimals for FLOAT_LE.
 *   mixcheck rle FILE FORMAT CHANNELS
 *	Print FILE as runs of equal frames, one line per run:
 *	"START COUNT V0 V1 ..." (START and COUNT in frames, values as gen
 *	takes them; floats with %.9g, exact for the binary fractions the
 *	tests use).  A trailing partial frame is an error.
 *
 * Formats: S8 U8 S16_LE S32_LE FLOAT_LE.  Exit 0, or 2 on usage or I/O errors.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CH_MAX 32

enum kind { K_S8, K_U8, K_S16, K_S32, K_FLOAT };

static int parse_format(const char *s, enum kind *k, unsigned int *bytes)
{
	static const struct {
		const char *name;
		enum kind k;
		unsigned int bytes;
	} fmts[] = {
		{ "S8", K_S8, 1 }, { "U8", K_U8, 1 }, { "S16_LE", K_S16, 2 },
		{ "S32_LE", K_S32, 4 }, { "FLOAT_LE", K_FLOAT, 4 },
	};

	for (size_t i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++) {
		if (!strcmp(s, fmts[i].name)) {
			*k = fmts[i].k;
			*bytes = fmts[i].bytes;
			return 0;
		}
	}
	fprintf(stderr, "mixcheck: unsupported format %s\n", s);
	return -1;
}

static int parse_channels(const char *s, unsigned int *ch)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (*end || v < 1 || v > CH_MAX) {
		fprintf(stderr, "mixcheck: bad channel count %s\n", s);
		return -1;
	}
	*ch = (unsigned int)v;
	return 0;
}

static int encode(const char *s, enum kind k, uint8_t *out)
{
	char *end;

	errno = 0;
	if (k == K_FLOAT) {
		float f = strtof(s, &end);

		if (*end || errno)
			goto bad;
		memcpy(out, &f, 4);	/* little-endian hosts only, as the tests */
		return 0;
	}
	long long v = strtoll(s, &end, 0);

	if (*end || errno)
		goto bad;
	switch (k) {
	case K_S8:
		if (v < -128 || v > 127)
			goto bad;
		out[0] = (uint8_t)(int8_t)v;
		break;
	case K_U8:
		if (v < 0 || v > 255)
			goto bad;
		out[0] = (uint8_t)v;
		break;
	case K_S16:
		if (v < INT16_MIN || v > INT16_MAX)
			goto bad;
		out[0] = (uint8_t)(v & 0xff);
		out[1] = (uint8_t)((v >> 8) & 0xff);
		break;
	case K_S32:
		if (v < INT32_MIN || v > INT32_MAX)
			goto bad;
		for (int b = 0; b < 4; b++)
			out[b] = (uint8_t)(((uint64_t)v >> (8 * b)) & 0xff);
		break;
	case K_FLOAT:
		break;
	}
	return 0;
bad:
	fprintf(stderr, "mixcheck: bad value %s for this format\n", s);
	return -1;
}

static void print_sample(const uint8_t *p, enum kind k)
{
	switch (k) {
	case K_S8:
		printf(" %d", (int)(int8_t)p[0]);
		break;
	case K_U8:
		printf(" %u", (unsigned int)p[0]);
		break;
	case K_S16:
		printf(" %d", (int)(int16_t)(uint16_t)(p[0] | p[1] << 8));
		break;
	case K_S32: {
		uint32_t w = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
			     (uint32_t)p[3] << 24;

		printf(" %ld", (long)(int32_t)w);
		break;
	}
	case K_FLOAT: {
		float f;

		memcpy(&f, p, 4);
		printf(" %.9g", (double)f);
		break;
	}
	}
}

static int gen(int argc, char **argv)
{
	enum kind k;
	unsigned int bytes, ch;
	uint8_t frame[CH_MAX * 4];
	char *end;
	long long frames;
	FILE *f;

	if (parse_format(argv[3], &k, &bytes) < 0 || parse_channels(argv[4], &ch) < 0)
		return 2;
	frames = strtoll(argv[5], &end, 10);
	if (*end || frames < 0) {
		fprintf(stderr, "mixcheck: bad frame count %s\n", argv[5]);
		return 2;
	}
	if ((unsigned int)(argc - 6) != ch) {
		fprintf(stderr, "mixcheck gen: %u values needed, %d given\n", ch, argc - 6);
		return 2;
	}
	for (unsigned int c = 0; c < ch; c++)
		if (encode(argv[6 + c], k, frame + c * bytes) < 0)
			return 2;
	f = fopen(argv[2], "wb");
	if (!f) {
		fprintf(stderr, "mixcheck: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	for (long long i = 0; i < frames; i++)
		fwrite(frame, bytes, ch, f);
	if (fclose(f)) {
		fprintf(stderr, "mixcheck: %s: write failed\n", argv[2]);
		return 2;
	}
	return 0;
}

static int rle(char **argv)
{
	enum kind k;
	unsigned int bytes, ch;
	uint8_t cur[CH_MAX * 4], prev[CH_MAX * 4];
	long long start = 0, n = 0;
	size_t fb, got;
	FILE *f;

	if (parse_format(argv[3], &k, &bytes) < 0 || parse_channels(argv[4], &ch) < 0)
		return 2;
	fb = (size_t)bytes * ch;
	f = fopen(argv[2], "rb");
	if (!f) {
		fprintf(stderr, "mixcheck: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	while ((got = fread(cur, 1, fb, f)) == fb) {
		if (n && memcmp(cur, prev, fb)) {
			printf("%lld %lld", start, n - start);
			for (unsigned int c = 0; c < ch; c++)
				print_sample(prev + c * bytes, k);
			printf("\n");
			start = n;
		}
		memcpy(prev, cur, fb);
		n++;
	}
	fclose(f);
	if (got) {
		fprintf(stderr, "mixcheck: %s: %zu bytes of a partial frame at the end\n",
			argv[2], got);
		return 2;
	}
	if (n) {
		printf("%lld %lld", start, n - start);
		for (unsigned int c = 0; c < ch; c++)
			print_sample(prev + c * bytes, k);
		printf("\n");
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc >= 7 && !strcmp(argv[1], "gen"))
		return gen(argc, argv);
	if (argc == 5 && !strcmp(argv[1], "rle"))
		return rle(argv);
	fprintf(stderr, "usage: mixcheck gen FILE FORMAT CHANNELS FRAMES VALUE...\n"
			"       mixcheck rle FILE FORMAT CHANNELS\n");
	return 2;
}
