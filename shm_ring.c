// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_ring.c - the ring's claim/publish protocol, which lets a reader
 * tell an intact copy from a torn one (the copies are inline in shm_ring.h).
 */
#include "shm_ring.h"

#include <stdatomic.h>

void shm_ring_claim(const struct shm_ring *r, uint64_t claim_end)
{
	atomic_store_explicit(&r->slot->write_claim, claim_end, memory_order_relaxed);
	/* Order the claim before the ring stores that follow it. */
	atomic_thread_fence(memory_order_seq_cst);
}

void shm_ring_publish(const struct shm_ring *r, uint64_t write_end)
{
	/* Release: a reader that sees write_end sees the frames below it. */
	atomic_store_explicit(&r->slot->write_end, write_end, memory_order_release);
}

uint64_t shm_ring_written(const struct shm_ring *r)
{
	return atomic_load_explicit(&r->slot->write_end, memory_order_acquire);
}

uint64_t shm_ring_intact_from(const struct shm_ring *r, uint32_t frame_bytes)
{
	uint64_t claim, ring_frames = shm_ring_frames(r, frame_bytes);

	/* Order our ring loads before the claim load. */
	atomic_thread_fence(memory_order_acquire);
	claim = atomic_load_explicit(&r->slot->write_claim, memory_order_relaxed);
	return claim > ring_frames ? claim - ring_frames : 0;
}
