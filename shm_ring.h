/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_ring.h - one playback's byte ring in the shared segment.
 *
 * Positions are 64-bit frame counts that only grow; the ring holds whole
 * interleaved frames, at offset pos % ring_frames.  One writer (the slot's
 * playback), any number of readers, no lock: the writer claims what it is
 * about to overwrite, copies, then publishes; a reader copies below what
 * was published, then asks which part of its copy is known intact.
 *
 *	writer:	shm_ring_claim(r, end); shm_ring_write(...); shm_ring_publish(r, end);
 *	reader:	w = shm_ring_written(r); shm_ring_read(... below w ...);
 *		keep the frames at or above shm_ring_intact_from(r, frame_bytes).
 *
 * shm_seg_ring() (shm_seg.h) gives the ring of a segment's cable and slot.
 */
#ifndef SHM_RING_H
#define SHM_RING_H

#include <stdint.h>
#include <string.h>

#include "shm_layout.h"

/*
 * One playback's ring: its bytes and the slot that holds its positions.
 * bytes is at most SHM_SLOT_RING_MAX whatever the segment says
 * (shm_seg_ring() clamps it), so a scribbled size never reaches past the
 * slot's room in the mapping.
 */
struct shm_ring {
	uint8_t *data;
	uint32_t bytes;
	struct shm_slot *slot;
};

/* A contiguous piece of the ring. */
struct shm_span {
	uint8_t *ptr;
	uint32_t frames;
};

/*
 * The copies are inline: the plugin copies a period at a time, and a call
 * per copy halves the speed of a 64-frame copy (bench/ringcopy).
 */

/*
 * The size of a cable's rings, chosen by the end that takes the parameter
 * lock from its own buffer: twice that buffer (the playback's queue ahead
 * of the clock and a capture's backlog behind it, each at most half the
 * ring), and at least second_bytes (a second of audio at the locked
 * parameters), so an end that configures later still gets ALSA's usual
 * 500 ms whatever the first chose.  Whole pages, at most SHM_SLOT_RING_MAX
 * (then a buffer may be at most half of that).  What snd-aloop spends is
 * the two ends' buffers; a default aplay and arecord pair costs the same.
 */
static inline uint32_t shm_ring_size(uint32_t buffer_bytes, uint32_t second_bytes)
{
	uint64_t bytes = 2 * (uint64_t)buffer_bytes;

	if (bytes < second_bytes)
		bytes = second_bytes;
	bytes = (bytes + SHM_RING_ALIGN - 1) / SHM_RING_ALIGN * SHM_RING_ALIGN;
	return bytes > SHM_SLOT_RING_MAX ? SHM_SLOT_RING_MAX : (uint32_t)bytes;
}

/* Whole frames the ring holds; 0 if frame_bytes is 0. */
static inline uint32_t shm_ring_frames(const struct shm_ring *r, uint32_t frame_bytes)
{
	return frame_bytes ? r->bytes / frame_bytes : 0;
}

/*
 * Split frames at ring position pos into span[0] and, past the wrap,
 * span[1].  Returns how many spans it filled: 0 (no frames, or a ring of
 * no frames), 1 or 2.  frames is clamped to the ring's frames; the ring
 * holds whole frames only, so a frame never straddles the wrap.
 */
static inline unsigned int shm_ring_spans(const struct shm_ring *r, uint32_t frame_bytes,
					  uint64_t pos, uint32_t frames, struct shm_span span[2])
{
	uint32_t ring_frames = shm_ring_frames(r, frame_bytes);
	uint32_t off, first;

	if (!ring_frames || !frames)
		return 0;
	if (frames > ring_frames)
		frames = ring_frames;
	off = (uint32_t)(pos % ring_frames);
	first = ring_frames - off < frames ? ring_frames - off : frames;
	span[0].ptr = r->data + (size_t)off * frame_bytes;
	span[0].frames = first;
	if (first == frames)
		return 1;
	span[1].ptr = r->data;
	span[1].frames = frames - first;
	return 2;
}

/* Interleaved copies of frames at pos into and out of the ring: two memcpy at most. */
static inline void shm_ring_write(const struct shm_ring *r, uint32_t frame_bytes, uint64_t pos,
				  const void *src, uint32_t frames)
{
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(r, frame_bytes, pos, frames, span);
	const uint8_t *p = src;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(span[i].ptr, p, (size_t)span[i].frames * frame_bytes);
		p += (size_t)span[i].frames * frame_bytes;
	}
}

static inline void shm_ring_read(const struct shm_ring *r, uint32_t frame_bytes, uint64_t pos,
				 void *dst, uint32_t frames)
{
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(r, frame_bytes, pos, frames, span);
	uint8_t *p = dst;

	for (unsigned int i = 0; i < n; i++) {
		memcpy(p, span[i].ptr, (size_t)span[i].frames * frame_bytes);
		p += (size_t)span[i].frames * frame_bytes;
	}
}

/* Writer, before its ring stores: it is about to write up to claim_end (write_claim). */
void shm_ring_claim(const struct shm_ring *r, uint64_t claim_end);
/* Writer, after its ring stores: the frames below write_end are there (release). */
void shm_ring_publish(const struct shm_ring *r, uint64_t write_end);
/* Reader: returns the last published write_end (acquire); frames below it are there. */
uint64_t shm_ring_written(const struct shm_ring *r);
/*
 * Reader, after copying out: returns the lowest position whose copy is
 * known intact (write_claim - ring frames, or 0); frames copied below it
 * may have been overwritten as they were copied.
 */
uint64_t shm_ring_intact_from(const struct shm_ring *r, uint32_t frame_bytes);

#endif /* SHM_RING_H */
