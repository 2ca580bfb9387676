// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-mix.c - loop_mix.[ch], the sum a capture hears from the playbacks
 * of a shared end, against a reference written here: its own byte order,
 * masks and limits, sums in int64; nothing of loop_mix.c is reused.
 *
 * What the mix must do, as checked here:
 * - Integer formats: the exact sum of the writers' samples, saturated once
 *   at the format's limits [-2^(bits-1), 2^(bits-1) - 1], unsigned ones
 *   around their midpoint 2^(bits-1); the same bytes in any writer order.
 *   Padding bits of an input (S24_LE's top byte, S20_3's top nibble) are
 *   ignored; an output is sign-extended through its container (signed) or
 *   zero-padded (unsigned).
 * - Float formats are not clipped (a float capture may exceed 1.0, as the
 *   writers' own streams may): the sum in double, rounded once to the
 *   format.  Past the format's range it is +-inf; denormals are kept, not
 *   flushed; inf + -inf, and a sum with a NaN, is a NaN (any payload).
 *   Zeros compare by value (a sum of -0.0s may read +0.0).  The random
 *   inputs lie on a grid (k * 2^s) where the double sum is exact, so the
 *   reference is an int64 sum of the k, and the order cannot matter.
 * - A writer whose first frames were overwritten before the capture copied
 *   them adds nothing there (pcm_loop.c's mix_chunk adds it at an offset).
 * - mu-law and A-law are not here: a shared playback refuses them
 *   (pcm_loop.c: loop_constrain, loop_hw_params), so they are never summed.
 *
 * Covered: every other format the plugin offers (pcm_loop.c's
 * loop_formats), 1, 2, 3 and 16 writers, odd frame and channel counts,
 * extremes, hand-written byte vectors (so that a misreading shared by the
 * reference and the mix is caught too), and no write past the n samples.
 */
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loop_mix.h"
#include "check.h"

#define WRITERS_MAX	16
#define SAMPLES_MAX	(1021 * 8)

/* As pcm_loop.c's loop_hw_params describes each format (bits: ALSA's width). */
struct fmt {
	const char *name;
	struct mix_format f;
	int scale_lo, scale_mid, scale_hi;	/* float grids: the exponents s */
	unsigned int kbits;			/* float grids: |k| <= 2^kbits */
};

#define INT(n, by, bi, s, be) { n, { .bytes = by, .bits = bi, .is_signed = s, .big_endian = be }, \
				0, 0, 0, 0 }
#define FLT(n, be) { n, { .bytes = 4, .bits = 32, .is_signed = true, .big_endian = be, \
			  .is_float = true }, -149, -24, 103, 24 }
#define DBL(n, be) { n, { .bytes = 8, .bits = 64, .is_signed = true, .big_endian = be, \
			  .is_float = true }, -1074, -48, 971, 48 }

static const struct fmt fmts[] = {
	INT("S8", 1, 8, true, false),		INT("U8", 1, 8, false, false),
	INT("S16_LE", 2, 16, true, false),	INT("S16_BE", 2, 16, true, true),
	INT("U16_LE", 2, 16, false, false),	INT("U16_BE", 2, 16, false, true),
	INT("S24_LE", 4, 24, true, false),	INT("S24_BE", 4, 24, true, true),
	INT("U24_LE", 4, 24, false, false),	INT("U24_BE", 4, 24, false, true),
	INT("S32_LE", 4, 32, true, false),	INT("S32_BE", 4, 32, true, true),
	INT("U32_LE", 4, 32, false, false),	INT("U32_BE", 4, 32, false, true),
	FLT("FLOAT_LE", false),			FLT("FLOAT_BE", true),
	DBL("FLOAT64_LE", false),		DBL("FLOAT64_BE", true),
	INT("S24_3LE", 3, 24, true, false),	INT("S24_3BE", 3, 24, true, true),
	INT("U24_3LE", 3, 24, false, false),	INT("U24_3BE", 3, 24, false, true),
	INT("S20_3LE", 3, 20, true, false),	INT("S20_3BE", 3, 20, true, true),
	INT("S18_3LE", 3, 18, true, false),	INT("S18_3BE", 3, 18, true, true),
};
#define NFMTS (sizeof(fmts) / sizeof(fmts[0]))

static const struct fmt *fmt_named(const char *name)
{
	for (size_t i = 0; i < NFMTS; i++)
		if (!strcmp(fmts[i].name, name))
			return &fmts[i];
	abort();
}

static uint64_t rng = UINT64_C(0x9e3779b97f4a7c15);

static uint64_t rnd(void)	/* xorshift64* */
{
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

/* Container bytes of word w: most significant first (BE) or last (LE). */
static void put(uint8_t *p, unsigned int bytes, bool be, uint64_t w)
{
	if (be) {
		for (unsigned int i = bytes; i-- > 0; w >>= 8)
			p[i] = (uint8_t)w;
	} else {
		for (unsigned int i = 0; i < bytes; i++, w >>= 8)
			p[i] = (uint8_t)w;
	}
}

static uint64_t get(const uint8_t *p, unsigned int bytes, bool be)
{
	uint64_t w = 0;

	for (unsigned int i = 0; i < bytes; i++)
		w = w << 8 | p[be ? i : bytes - 1 - i];
	return w;
}

static int64_t int_max(const struct mix_format *f)
{
	return ((int64_t)1 << (f->bits - 1)) - 1;
}

/*
 * Integer sample v as stored: two's complement or offset by the midpoint
 * in the low bits; the padding above them is `pad` (input: garbage), or
 * for an output the sign (signed) or zero (unsigned).
 */
static void put_int(uint8_t *p, const struct mix_format *f, int64_t v, bool output, uint64_t pad)
{
	uint64_t low = (UINT64_C(1) << f->bits) - 1;
	uint64_t w = f->is_signed ? (uint64_t)v : (uint64_t)(v + int_max(f) + 1);

	if (!output)
		w = (w & low) | (pad & ~low);
	else if (!f->is_signed)
		w &= low;
	put(p, f->bytes, f->big_endian, w);
}

static void put_real(uint8_t *p, const struct mix_format *f, double d)
{
	if (f->bytes == 8) {
		uint64_t w;

		memcpy(&w, &d, 8);
		put(p, 8, f->big_endian, w);
	} else {
		float x = (float)d;
		uint32_t w;

		memcpy(&w, &x, 4);
		put(p, 4, f->big_endian, w);
	}
}

static double get_real(const uint8_t *p, const struct mix_format *f)
{
	uint64_t w = get(p, f->bytes, f->big_endian);

	if (f->bytes == 8) {
		double d;

		memcpy(&d, &w, 8);
		return d;
	}
	uint32_t w32 = (uint32_t)w;
	float x;

	memcpy(&x, &w32, 4);
	return x;
}

/* 2^s, exactly (no libm). */
static double pow2(int s)
{
	double d = 1.0;

	for (; s > 0; s--)
		d *= 2;
	for (; s < 0; s++)
		d /= 2;
	return d;
}

static bool same_real(double want, double got)
{
	return (isnan(want) && isnan(got)) || want == got;
}

/* The inputs of one case: sample k of writer i is val[i][k] (float: times 2^s). */
struct mix_case {
	const struct fmt *fmt;
	unsigned int writers, frames, channels;
	unsigned int lost[WRITERS_MAX];	/* frames the writer adds nothing to */
	int s;				/* float grid exponent */
	int64_t val[WRITERS_MAX][SAMPLES_MAX];
	bool negz[WRITERS_MAX][SAMPLES_MAX];	/* float: a -0.0 (val 0) */
	uint8_t in[WRITERS_MAX][SAMPLES_MAX * 8];
};

enum mode { RANDOM, SAME, CANCEL, LATE, NMODES };
static const char *const mode_names[] = { "random", "same", "cancel", "late" };

/* A value for one sample: the extremes often, else anything in range. */
static int64_t pick(const struct fmt *fm)
{
	int64_t hi = fm->f.is_float ? (int64_t)1 << fm->kbits : int_max(&fm->f);
	int64_t lo = fm->f.is_float ? -hi : -hi - 1;

	switch (rnd() % 8) {
	case 0: return lo;
	case 1: return hi;
	case 2: return 0;
	case 3: return -1;
	case 4: return 1;
	case 5:
		if (hi > 256)	/* near zero, where 8-bit samples have no room */
			return (int64_t)(rnd() % 513) - 256;
		/* fall through */
	default: return lo + (int64_t)(rnd() % (uint64_t)(hi - lo + 1));
	}
}

static void gen(struct mix_case *c, enum mode mode)
{
	const struct fmt *fm = c->fmt;
	size_t n = (size_t)c->frames * c->channels;
	double scale = pow2(c->s);

	for (unsigned int i = 0; i < c->writers; i++) {
		c->lost[i] = mode == LATE ? (unsigned int)(rnd() % (c->frames + 1)) : 0;
		for (size_t k = 0; k < n; k++) {
			int64_t v = pick(fm);

			if (mode == SAME && i > 0)
				v = c->val[0][k];
			else if (mode == CANCEL && i % 2)	/* -lo is out of range: hi */
				v = !fm->f.is_float && c->val[i - 1][k] == -int_max(&fm->f) - 1 ?
				    int_max(&fm->f) : -c->val[i - 1][k];
			c->val[i][k] = v;
			c->negz[i][k] = fm->f.is_float && v == 0 && rnd() % 2;
			if (fm->f.is_float)
				put_real(c->in[i] + k * fm->f.bytes, &fm->f,
					 c->negz[i][k] ? -0.0 : (double)v * scale);
			else
				put_int(c->in[i] + k * fm->f.bytes, &fm->f, v, false, rnd());
		}
	}
}

/* Run loop_mix over the writers in the order given; check its bounds. */
static bool run_mix(const struct mix_case *c, const unsigned int *order, uint8_t *out,
		    const char *what)
{
	static union mix_acc acc[SAMPLES_MAX + 4];
	const struct mix_format *f = &c->fmt->f;
	size_t n = (size_t)c->frames * c->channels, guard = 16;
	bool ok = true;

	for (size_t k = n; k < n + 4; k++)
		acc[k].i = INT64_C(0x5a5a5a5a5a5a5a5a);
	memset(out + n * f->bytes, 0xa5, guard);
	mix_clear(acc, n, f);
	for (unsigned int j = 0; j < c->writers; j++) {
		unsigned int i = order[j];
		size_t skip = (size_t)c->lost[i] * c->channels;

		mix_add(acc + skip, c->in[i] + skip * f->bytes, n - skip, f);
	}
	mix_store(out, acc, n, f);
	for (size_t k = n; k < n + 4; k++)
		ok &= acc[k].i == INT64_C(0x5a5a5a5a5a5a5a5a);
	for (size_t b = 0; b < guard; b++)
		ok &= out[n * f->bytes + b] == 0xa5;
	CHECK(ok, "%s: loop_mix wrote past %zu samples", what, n);
	return ok;
}

/* The reference: int64 sums, saturated (integers) or scaled and rounded (floats). */
static void reference(const struct mix_case *c, uint8_t *want, double *want_real)
{
	const struct mix_format *f = &c->fmt->f;
	size_t n = (size_t)c->frames * c->channels;
	double scale = pow2(c->s);

	for (size_t k = 0; k < n; k++) {
		int64_t sum = 0;

		for (unsigned int i = 0; i < c->writers; i++)
			if (k >= (size_t)c->lost[i] * c->channels)
				sum += c->val[i][k];
		if (f->is_float) {
			double d = (double)sum * scale;	/* exact: a power of 2 */

			want_real[k] = f->bytes == 4 ? (double)(float)d : d;
			put_real(want + k * f->bytes, f, want_real[k]);
		} else {
			int64_t hi = int_max(f), lo = -hi - 1;

			put_int(want + k * f->bytes, f, sum > hi ? hi : sum < lo ? lo : sum, true, 0);
		}
	}
}

static void check_case(struct mix_case *c, enum mode mode)
{
	static uint8_t want[SAMPLES_MAX * 8 + 16], got[SAMPLES_MAX * 8 + 16];
	static uint8_t again[SAMPLES_MAX * 8 + 16];
	static double want_real[SAMPLES_MAX];
	const struct mix_format *f = &c->fmt->f;
	size_t n = (size_t)c->frames * c->channels, bad = n;
	unsigned int order[WRITERS_MAX], reverse[WRITERS_MAX];
	char what[128];

	snprintf(what, sizeof(what), "%s, %u writer(s), %u frames x %u channels, %s, grid 2^%d",
		 c->fmt->name, c->writers, c->frames, c->channels, mode_names[mode],
		 f->is_float ? c->s : 0);
	gen(c, mode);
	reference(c, want, want_real);
	for (unsigned int i = 0; i < c->writers; i++) {
		order[i] = i;
		reverse[i] = c->writers - 1 - i;
	}
	if (!run_mix(c, order, got, what))
		return;
	for (size_t k = 0; k < n && bad == n; k++) {
		if (f->is_float ? !same_real(want_real[k], get_real(got + k * f->bytes, f)) :
		    memcmp(want + k * f->bytes, got + k * f->bytes, f->bytes))
			bad = k;
	}
	if (bad < n) {
		char hw[32] = "", hg[32] = "";

		for (unsigned int b = 0; b < f->bytes; b++) {
			snprintf(hw + 2 * b, 3, "%02x", want[bad * f->bytes + b]);
			snprintf(hg + 2 * b, 3, "%02x", got[bad * f->bytes + b]);
		}
		CHECK(false, "%s: sample %zu (frame %zu) is %s, want %s", what, bad,
		      bad / c->channels, hg, hw);
		return;
	}
	check_pass();
	/* Integer sums, and float sums on an exact grid, ignore the order. */
	if (!run_mix(c, reverse, again, what))
		return;
	CHECK(!memcmp(got, again, n * f->bytes), "%s: reversed writers differ", what);
}

static void test_formats(void)
{
	static const unsigned int writers[] = { 1, 2, 3, 16 };
	static const unsigned int shapes[][2] = {	/* frames, channels */
		{ 1, 1 }, { 1, 2 }, { 7, 3 }, { 255, 2 }, { 333, 5 }, { 1021, 8 },
	};
	static struct mix_case c;

	for (size_t fi = 0; fi < NFMTS; fi++) {
		const struct fmt *fm = &fmts[fi];
		int grids[] = { fm->scale_mid, fm->scale_lo, fm->scale_hi };
		unsigned int ngrids = fm->f.is_float ? 3 : 1;

		for (size_t wi = 0; wi < sizeof(writers) / sizeof(writers[0]); wi++) {
			for (size_t si = 0; si < sizeof(shapes) / sizeof(shapes[0]); si++) {
				for (unsigned int g = 0; g < ngrids; g++) {
					for (int mode = 0; mode < NMODES; mode++) {
						c.fmt = fm;
						c.writers = writers[wi];
						c.frames = shapes[si][0];
						c.channels = shapes[si][1];
						c.s = grids[g];
						check_case(&c, (enum mode)mode);
					}
				}
			}
		}
	}
}

/* Bytes written out by hand: what ALSA's layouts mean, independent of put(). */
static void test_vectors(void)
{
	static const struct {
		const char *fmt;
		unsigned int n;
		uint8_t in[3][8], out[8];
		const char *what;
	} v[] = {
		{ "S8", 2, { { 0x7f }, { 0x7f } }, { 0x7f }, "saturates high" },
		{ "S8", 2, { { 0x80 }, { 0xff } }, { 0x80 }, "saturates low" },
		{ "U8", 2, { { 0x80 }, { 0x80 } }, { 0x80 }, "midpoint is silence" },
		{ "U8", 2, { { 0xc0 }, { 0xc0 } }, { 0xff }, "unsigned saturates high" },
		{ "U8", 3, { { 0x00 }, { 0x7f }, { 0x80 } }, { 0x00 }, "unsigned saturates low" },
		{ "S16_LE", 2, { { 0x34, 0x12 }, { 0x01, 0x00 } }, { 0x35, 0x12 }, "LE sum" },
		{ "S16_BE", 2, { { 0x12, 0x34 }, { 0x00, 0x01 } }, { 0x12, 0x35 }, "BE sum" },
		{ "S16_BE", 2, { { 0x12, 0xff }, { 0x00, 0x01 } }, { 0x13, 0x00 }, "BE carry" },
		{ "S16_BE", 2, { { 0x7f, 0xff }, { 0x00, 0x01 } }, { 0x7f, 0xff }, "BE saturates" },
		{ "S16_LE", 2, { { 0x00, 0x80 }, { 0xff, 0xff } }, { 0x00, 0x80 }, "LE min - 1" },
		{ "U16_BE", 2, { { 0x80, 0x00 }, { 0x00, 0x01 } }, { 0x00, 0x01 }, "U16 BE" },
		{ "U16_LE", 2, { { 0xff, 0xff }, { 0xff, 0xff } }, { 0xff, 0xff }, "U16 max" },
		{ "S24_LE", 2, { { 0xff, 0xff, 0x7f, 0x00 }, { 0x01, 0x00, 0x00, 0xee } },
		  { 0xff, 0xff, 0x7f, 0x00 }, "S24 saturates; input padding ignored" },
		{ "S24_LE", 2, { { 0x00, 0x00, 0x80, 0x00 }, { 0x00, 0x00, 0x00, 0x11 } },
		  { 0x00, 0x00, 0x80, 0xff }, "S24 out sign-extended" },
		{ "S24_BE", 2, { { 0x00, 0x80, 0x00, 0x00 }, { 0x22, 0x00, 0x00, 0x02 } },
		  { 0xff, 0x80, 0x00, 0x02 }, "S24_BE: padding first" },
		{ "U24_LE", 2, { { 0x00, 0x00, 0x80, 0xff }, { 0x01, 0x00, 0x80, 0x00 } },
		  { 0x01, 0x00, 0x80, 0x00 }, "U24 zero-padded" },
		{ "U24_BE", 2, { { 0x00, 0x80, 0x00, 0x00 }, { 0x00, 0x80, 0x00, 0x01 } },
		  { 0x00, 0x80, 0x00, 0x01 }, "U24_BE" },
		{ "S32_BE", 2, { { 0x7f, 0xff, 0xff, 0xff }, { 0x7f, 0xff, 0xff, 0xff } },
		  { 0x7f, 0xff, 0xff, 0xff }, "S32 saturates high" },
		{ "S32_LE", 2, { { 0x00, 0x00, 0x00, 0x80 }, { 0x00, 0x00, 0x00, 0x80 } },
		  { 0x00, 0x00, 0x00, 0x80 }, "S32 saturates low" },
		{ "U32_LE", 2, { { 0xff, 0xff, 0xff, 0xff }, { 0xff, 0xff, 0xff, 0xff } },
		  { 0xff, 0xff, 0xff, 0xff }, "U32 saturates high" },
		{ "U32_BE", 2, { { 0x80, 0x00, 0x00, 0x00 }, { 0x00, 0x00, 0x00, 0x00 } },
		  { 0x00, 0x00, 0x00, 0x00 }, "U32 midpoint + min" },
		{ "S24_3LE", 2, { { 0x56, 0x34, 0x12 }, { 0x01, 0x00, 0x00 } },
		  { 0x57, 0x34, 0x12 }, "S24_3LE" },
		{ "S24_3BE", 2, { { 0x12, 0x34, 0x56 }, { 0x00, 0x00, 0x01 } },
		  { 0x12, 0x34, 0x57 }, "S24_3BE" },
		{ "S24_3BE", 2, { { 0x80, 0x00, 0x00 }, { 0xff, 0xff, 0xff } },
		  { 0x80, 0x00, 0x00 }, "S24_3BE saturates low" },
		{ "U24_3LE", 2, { { 0xff, 0xff, 0xff }, { 0x01, 0x00, 0x80 } },
		  { 0xff, 0xff, 0xff }, "U24_3LE saturates high" },
		{ "U24_3BE", 2, { { 0x80, 0x00, 0x00 }, { 0x7f, 0xff, 0xfe } },
		  { 0x7f, 0xff, 0xfe }, "U24_3BE" },
		{ "S20_3LE", 2, { { 0xff, 0xff, 0x07 }, { 0x01, 0x00, 0x00 } },
		  { 0xff, 0xff, 0x07 }, "S20 saturates at 2^19 - 1" },
		{ "S20_3LE", 2, { { 0x00, 0x00, 0x08 }, { 0xff, 0xff, 0xff } },
		  { 0x00, 0x00, 0xf8 }, "S20 min, sign-extended" },
		{ "S20_3BE", 2, { { 0xa0, 0x00, 0x01 }, { 0x00, 0x00, 0x01 } },
		  { 0x00, 0x00, 0x02 }, "S20_3BE: top nibble ignored" },
		{ "S18_3BE", 2, { { 0x01, 0xff, 0xff }, { 0x00, 0x00, 0x01 } },
		  { 0x01, 0xff, 0xff }, "S18 saturates at 2^17 - 1" },
		{ "S18_3LE", 2, { { 0x00, 0x00, 0x02 }, { 0x00, 0x00, 0x00 } },
		  { 0x00, 0x00, 0xfe }, "S18 min, sign-extended" },
		{ "FLOAT_BE", 2, { { 0x3f, 0x80, 0, 0 }, { 0x3f, 0x80, 0, 0 } },
		  { 0x40, 0x00, 0, 0 }, "1.0 + 1.0: 2.0, not clipped" },
		{ "FLOAT_LE", 2, { { 0, 0, 0x80, 0x3f }, { 0, 0, 0xc0, 0xbf } },
		  { 0, 0, 0x00, 0xbf }, "1.0 - 1.5 = -0.5" },
		{ "FLOAT64_BE", 2, { { 0x3f, 0xf0 }, { 0x3f, 0xe0 } }, { 0x3f, 0xf8 }, "1 + 0.5" },
		{ "FLOAT64_LE", 2, { { 0, 0, 0, 0, 0, 0, 0xf0, 0x3f }, { 0, 0, 0, 0, 0, 0, 0xe0, 0xbf } },
		  { 0, 0, 0, 0, 0, 0, 0xe0, 0x3f }, "1 - 0.5" },
	};

	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		const struct mix_format *f = &fmt_named(v[i].fmt)->f;
		union mix_acc acc[1];
		uint8_t out[8];

		mix_clear(acc, 1, f);
		for (unsigned int j = 0; j < v[i].n; j++)
			mix_add(acc, v[i].in[j], 1, f);
		mix_store(out, acc, 1, f);
		CHECK(!memcmp(out, v[i].out, f->bytes), "%s: %s: %02x%02x%02x%02x...",
		      v[i].fmt, v[i].what, out[0], out[1], out[2], f->bytes > 3 ? out[3] : 0);
	}
}

/* Float values off any grid: the range's ends, infinities, NaN. */
static void test_float_specials(void)
{
	static const struct {
		unsigned int bytes, n;
		double in[3], out;
		const char *what;
	} v[] = {
		{ 4, 2, { FLT_TRUE_MIN, FLT_TRUE_MIN }, 2 * (double)FLT_TRUE_MIN, "denormals kept" },
		{ 4, 2, { FLT_MIN, -FLT_TRUE_MIN }, FLT_MIN - (double)FLT_TRUE_MIN,
		  "into the denormals" },
		{ 4, 2, { FLT_MAX, FLT_MAX }, INFINITY, "past FLT_MAX: inf" },
		{ 4, 2, { -FLT_MAX, -FLT_MAX }, -INFINITY, "past -FLT_MAX: -inf" },
		{ 4, 3, { FLT_MAX, FLT_MAX, -FLT_MAX }, FLT_MAX, "no overflow on the way" },
		{ 4, 2, { 1.0, 0x1p-24 }, 1.0, "one rounding, to even" },
		{ 4, 3, { 1.0, 0x1p-24, 0x1p-24 }, 1.0 + 0x1p-23, "rounded once, not per add" },
		{ 4, 3, { 1.0, 1.0, 1.0 }, 3.0, "not clipped" },
		{ 4, 2, { -0.0, -0.0 }, 0.0, "zero" },
		{ 4, 2, { INFINITY, -1.0 }, INFINITY, "inf stays" },
		{ 4, 2, { -INFINITY, 1e30 }, -INFINITY, "-inf stays" },
		{ 4, 2, { INFINITY, -INFINITY }, NAN, "inf - inf" },
		{ 4, 2, { NAN, 0.0 }, NAN, "NaN stays" },
		{ 4, 3, { 1.0, NAN, INFINITY }, NAN, "NaN wins over inf" },
		{ 8, 2, { DBL_TRUE_MIN, DBL_TRUE_MIN }, 2 * DBL_TRUE_MIN, "denormals kept" },
		{ 8, 2, { DBL_MAX, DBL_MAX }, INFINITY, "past DBL_MAX: inf" },
		{ 8, 2, { -DBL_MAX, -DBL_MAX }, -INFINITY, "past -DBL_MAX: -inf" },
		{ 8, 2, { 1.0, 0x1p-53 }, 1.0, "round to even" },
		{ 8, 3, { 1.0, 1.0, 1.0 }, 3.0, "not clipped" },
		{ 8, 2, { INFINITY, -INFINITY }, NAN, "inf - inf" },
		{ 8, 2, { NAN, 1.0 }, NAN, "NaN stays" },
	};
	static const char *const names[] = { "FLOAT_LE", "FLOAT_BE", "FLOAT64_LE", "FLOAT64_BE" };

	for (size_t fi = 0; fi < 4; fi++) {
		const struct mix_format *f = &fmt_named(names[fi])->f;

		for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
			union mix_acc acc[1];
			uint8_t in[8], out[8];
			double got;

			if (v[i].bytes != f->bytes)
				continue;
			mix_clear(acc, 1, f);
			for (unsigned int j = 0; j < v[i].n; j++) {
				put_real(in, f, v[i].in[j]);
				mix_add(acc, in, 1, f);
			}
			mix_store(out, acc, 1, f);
			got = get_real(out, f);
			CHECK(same_real(v[i].out, got), "%s: %s: %a, want %a", names[fi],
			      v[i].what, got, v[i].out);
		}
	}
}

int main(void)
{
	test_vectors();
	test_float_specials();
	test_formats();
	return check_finish();
}
