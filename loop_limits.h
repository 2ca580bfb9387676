/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * loop_limits.h - every limit and default of alsa-loopback, in one place.
 *
 * Plain numbers, no ALSA: the shared-memory layer, both plugins, the tool
 * and the tests agree on them through this header.
 */
#ifndef LOOP_LIMITS_H
#define LOOP_LIMITS_H

#define LOOP_SUBDEVICE_MAX	4095u	/* subdevices 0..4095 per card key */
#define LOOP_CARD_MAX		32u	/* card key bytes, with the NUL */
#define LOOP_CARD_DEFAULT	"0"

/* Openers of one shared end (key 'shared'), per direction. */
#define LOOP_SHARED_MAX		16u

#define LOOP_CHANNELS_MAX	32u
#define LOOP_RATE_MIN		8000u
#define LOOP_RATE_MAX		768000u

/* snd-aloop's "PCM Rate Shift 100000" range; clamped, never refused. */
#define LOOP_SHIFT_MIN		80000u
#define LOOP_SHIFT_NOMINAL	100000u
#define LOOP_SHIFT_MAX		120000u

/* Mode of a new segment: private unless the 'perm' key says otherwise. */
#define LOOP_PERM_DEFAULT	0600u

/* What snd-aloop's Slave controls read before any playback ran. */
#define LOOP_SLAVE_RATE_DEFAULT		48000u
#define LOOP_SLAVE_CHANNELS_DEFAULT	2u
/* (the format, S16_LE, is ALSA's: the ctl plugin holds it) */

#endif /* LOOP_LIMITS_H */
