/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * pcm_loop.h - what the PCM plugin's two clocks share (private to it).
 *
 * pcm_loop.c holds the open, the realtime clock's callbacks and what both
 * clocks do alike; pcm_flow.c the lossless clock's callbacks.  The open
 * picks one callback table per clock and direction, once: no callback asks
 * which clock it runs.
 */
#ifndef PCM_LOOP_H
#define PCM_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include "loop_clock.h"
#include "loop_conf.h"
#include "loop_flow.h"
#include "loop_mix.h"
#include "shm_cable.h"
#include "shm_hear.h"
#include "shm_place.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"

#define TIMER_OFF		LC_WAKE_NEVER	/* timer_set(): disarmed */
#define TIMER_NOW		LC_WAKE_NOW	/* timer_set(): fire at once */

struct loop {
	snd_pcm_ioplug_t io;		/* first: alsa-lib hands us &io */

	/* Configuration. */
	struct loop_seg_keys keys;	/* card, dir, perm, group */
	unsigned int device;		/* 0 or 1, as hw:Loopback,D */
	unsigned int cable;		/* which one-way cable we are an end of */
	unsigned int role;		/* SHM_ROLE_PLAY or SHM_ROLE_CAP */
	snd_pcm_format_t fix_format;	/* SND_PCM_FORMAT_UNKNOWN: free */
	unsigned int fix_rate, fix_channels;	/* 0: free */

	/* The cable. */
	struct shm_seg seg;
	struct shm_place place;		/* cable, role, our slot, shared or not */
	struct shm_cable *cab;		/* its grid */
	struct shm_ring ring;		/* playback: our ring and slot */
	int timer_fd;
	uint64_t armed_ns;		/* TIMER_OFF, TIMER_NOW or a deadline */

	/* Clock (key "clock"): SHM_CLOCK_*; lossless: flow control (pcm_flow.c). */
	uint32_t clock;
	int epoll_fd;			/* the poll fd: timer_fd and bell_fd */
	int bell_fd, peer_bell_fd;	/* our doorbell, the other end's */
	struct lf_end flow;		/* spin or sleep, and whether the other end came */
	bool bell_armed;		/* we said we sleep since we last emptied our doorbell */

	/* From hw_params / sw_params. */
	uint32_t frame_bytes;
	struct mix_format mix_format;	/* capture: how to sum shared playbacks */
	union mix_acc *mix_acc;		/* capture: MIX_BLOCK frames of sums */
	uint8_t *mix_buf;		/* capture: MIX_BLOCK frames of one writer, then the sum */
	struct shm_params params;	/* ours, as locked */
	uint32_t lock_gen;		/* capture: the lock we configured against */

	/*
	 * Where we are (loop_clock.h).  lc_* calls move hw and tl, lf_* calls
	 * (loop_flow.h) a lossless end's; loop_hw_params voids tl when the grid
	 * restarted.
	 */
	struct lc_end pos;
	uint64_t write_end;		/* playback: our copy of what we published */
	snd_pcm_uframes_t last_ptr;	/* what loop_pointer() last returned: ioplug's hw */
	uint64_t appl_seen;		/* the client's appl as we last knew it */
	bool reset_hold;		/* playback: reset while running, waits for a write */

	/* Capture: what each playback of the cable published, per transfer. */
	struct shm_writer writers[SHM_SLOTS];
	unsigned int nwriters;
};

/* Shared by both clocks' tables. */
int loop_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params);
int loop_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params);
int loop_drain_capture(snd_pcm_ioplug_t *io);
int loop_close(snd_pcm_ioplug_t *io);
#define LOOP_SHARED_CALLBACKS				\
	.hw_params = loop_hw_params,			\
	.sw_params = loop_sw_params

/* The lossless clock (pcm_flow.c): its doorbells, its poll fd, its tables. */
int flow_open(struct loop *lp, char *why, size_t why_len);
extern const snd_pcm_ioplug_callback_t flow_playback_callback, flow_capture_callback;

/* Helpers both clocks' callbacks use (pcm_loop.c). */
bool is_playback(const struct loop *lp);
bool peer_alive(struct loop *lp);
enum lc_state lc_state_of(snd_pcm_state_t state);
uint64_t tick_now(struct loop *lp);
void timer_set(struct loop *lp, uint64_t ns);
void loop_timer_read(struct loop *lp, unsigned short revents);
void publish_timeline(struct loop *lp);
void publish_state(struct loop *lp, snd_pcm_state_t state);
/* snd_pcm_reset() since we last looked (loop_sync_reset)? */
bool loop_reset_seen(const struct loop *lp);
int loop_start_check(struct loop *lp);
void loop_prepare_pos(struct loop *lp);
void loop_prepare_publish(struct loop *lp);
void loop_write(struct loop *lp, const snd_pcm_channel_area_t *areas,
		snd_pcm_uframes_t offset, snd_pcm_uframes_t size);
void ring_copy(struct loop *lp, const struct shm_ring *r, bool to_ring, uint64_t pos,
	       const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t offset, uint32_t frames);
void capture_silence(struct loop *lp, const snd_pcm_channel_area_t *areas,
		     snd_pcm_uframes_t offset, uint64_t frames);

#endif /* PCM_LOOP_H */
