/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_mix.h - summing the playbacks of a shared end, as dmix does, right.
 *
 * A capture of a cable whose playback end is shared reads every playback's
 * ring and sums the frames heard at the same tick.  Samples are decoded to
 * a wide accumulator (int64 for integer formats, double for float), summed
 * exactly, then stored once with saturation at the format's limits: the
 * result of N writers does not depend on their order.  Unsigned formats
 * mix around their midpoint.  One writer alone is never decoded: the
 * capture copies its bytes (bit-exact).  No ALSA here: the plugin
 * describes the format with struct mix_format.
 */
#ifndef LOOP_MIX_H
#define LOOP_MIX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A linear PCM sample layout. */
struct mix_format {
	unsigned int bytes;	/* physical: 1, 2, 3, 4 or 8 */
	unsigned int bits;	/* significant, in the low bits: 8..32 (64 for FLOAT64) */
	bool is_signed, big_endian, is_float;
};

union mix_acc {
	int64_t i;
	double d;
};

/* Start a sum of n samples at zero. */
void mix_clear(union mix_acc *acc, size_t n, const struct mix_format *f);
/* acc[k] += sample k of src, for n samples. */
void mix_add(union mix_acc *acc, const uint8_t *src, size_t n, const struct mix_format *f);
/* Store the n sums into dst, saturated (integers) or as they are (float). */
void mix_store(uint8_t *dst, const union mix_acc *acc, size_t n, const struct mix_format *f);

#endif /* LOOP_MIX_H */
