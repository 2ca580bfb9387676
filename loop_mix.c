// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * loop_mix.c - decode, sum, saturate (see loop_mix.h).
 */
#include "loop_mix.h"

#include <string.h>

static uint64_t load_word(const uint8_t *p, const struct mix_format *f)
{
	uint64_t w = 0;

	for (unsigned int b = 0; b < f->bytes; b++)
		w |= (uint64_t)p[f->big_endian ? f->bytes - 1 - b : b] << (8 * b);
	return w;
}

static void store_word(uint8_t *p, uint64_t w, const struct mix_format *f)
{
	for (unsigned int b = 0; b < f->bytes; b++)
		p[f->big_endian ? f->bytes - 1 - b : b] = (uint8_t)(w >> (8 * b));
}

void mix_clear(union mix_acc *acc, size_t n, const struct mix_format *f)
{
	for (size_t k = 0; k < n; k++) {
		if (f->is_float)
			acc[k].d = 0.0;
		else
			acc[k].i = 0;
	}
}

void mix_add(union mix_acc *acc, const uint8_t *src, size_t n, const struct mix_format *f)
{
	unsigned int bits = f->is_float ? 32 : f->bits;
	uint64_t mask = (UINT64_C(1) << bits) - 1;
	uint64_t sign = UINT64_C(1) << (bits - 1);

	for (size_t k = 0; k < n; k++, src += f->bytes) {
		uint64_t w = load_word(src, f);

		if (f->is_float) {
			if (f->bytes == 8) {
				double d;

				memcpy(&d, &w, sizeof(d));
				acc[k].d += d;
			} else {
				uint32_t w32 = (uint32_t)w;
				float v;

				memcpy(&v, &w32, sizeof(v));
				acc[k].d += v;
			}
			continue;
		}
		w &= mask;
		/* Two's complement from the significant bits; unsigned around the midpoint. */
		acc[k].i += f->is_signed ? (int64_t)((w ^ sign) - sign) : (int64_t)w - (int64_t)sign;
	}
}

void mix_store(uint8_t *dst, const union mix_acc *acc, size_t n, const struct mix_format *f)
{
	/* Integer formats have 8..32 significant bits: no shift overflows. */
	unsigned int bits = f->is_float ? 32 : f->bits;
	int64_t max = (int64_t)((UINT64_C(1) << (bits - 1)) - 1), min = -max - 1;
	uint64_t mask = (UINT64_C(1) << bits) - 1;

	for (size_t k = 0; k < n; k++, dst += f->bytes) {
		if (f->is_float) {
			uint64_t w;

			if (f->bytes == 8) {
				memcpy(&w, &acc[k].d, sizeof(w));
			} else {
				float v = (float)acc[k].d;
				uint32_t w32;

				memcpy(&w32, &v, sizeof(w32));
				w = w32;
			}
			store_word(dst, w, f);
			continue;
		}
		int64_t v = acc[k].i < min ? min : acc[k].i > max ? max : acc[k].i;
		uint64_t w;

		if (f->is_signed)	/* sign-extended into the container */
			w = (uint64_t)v;
		else
			w = ((uint64_t)(v - min)) & mask;
		store_word(dst, w, f);
	}
}
