// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pcm_loop.c - ALSA ioplug "loopback": snd-aloop's cables in user space.
 *
 * Each end (device d, subdevice N, direction) attaches to the shared
 * segment of subdevice N (shm_layout.h).  Playback on device d feeds capture
 * on device d^1 of the same N, so per N there are two one-way cables.
 *
 * Clock.  There is no thread and no message between the ends.  Each end
 * derives its hardware position from CLOCK_MONOTONIC on the cable's tick
 * grid, as snd-aloop derives it from jiffies: playback is consumed at the
 * nominal rate whether or not anybody records, and capture produces frames
 * at the nominal rate whether or not anybody plays.  The playback publishes
 * which ring position it played at which tick (its timeline); the capture
 * looks each of its ticks up there and copies the frame, or writes the
 * format's silence when nothing was playing, nothing was written, or the
 * frame has already been overwritten.  The other clock, flow control
 * between the two ends of a cable, is pcm_flow.c's: the open picks one
 * callback table per clock and direction (loop_callbacks).
 *
 * Sharing.  A shared end (key "shared", dmix/dsnoop's job) has up to 16
 * openers per direction, each in a slot of its own: every playback keeps
 * its own ring part and timeline, and a capture sums what it hears of
 * them (loop_mix.h).  Nothing is ever added into a shared buffer, so a
 * playback killed mid-period leaves nothing half-added behind.
 *
 * Wake-ups.  The poll descriptor is a timerfd armed at the absolute time at
 * which the stream becomes ready (lc_ready: avail >= avail_min, or for a
 * readi() capture the next multiple of avail_min), or "now" while it is
 * ready, so poll() is level-triggered and truthful, also for a client
 * that never asks poll_revents.  On alsa-lib 1.2.8 a missed wake-up hangs
 * blocking clients forever, so every path that changes readiness re-arms
 * it (loop_arm); an mmap capture's commit reaches no callback, so its
 * transfer (from mmap_begin) arms for it.
 *
 * Locking.  alsa-lib holds the PCM lock around start/stop/pointer/transfer/
 * pause; prepare/sw_params/poll_revents run unlocked.  The only
 * cross-process lock is the segment's admin lock, taken for attach,
 * hw_params and close, never on the data path: a stuck peer cannot block
 * our audio.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include "pcm_loop.h"

/* Frames summed at once when a capture mixes the playbacks of a shared end. */
#define MIX_BLOCK	256u

static const unsigned int loop_formats[] = {
	SND_PCM_FORMAT_S8, SND_PCM_FORMAT_U8,
	SND_PCM_FORMAT_S16_LE, SND_PCM_FORMAT_S16_BE,
	SND_PCM_FORMAT_U16_LE, SND_PCM_FORMAT_U16_BE,
	SND_PCM_FORMAT_S24_LE, SND_PCM_FORMAT_S24_BE,
	SND_PCM_FORMAT_U24_LE, SND_PCM_FORMAT_U24_BE,
	SND_PCM_FORMAT_S32_LE, SND_PCM_FORMAT_S32_BE,
	SND_PCM_FORMAT_U32_LE, SND_PCM_FORMAT_U32_BE,
	SND_PCM_FORMAT_FLOAT_LE, SND_PCM_FORMAT_FLOAT_BE,
	SND_PCM_FORMAT_FLOAT64_LE, SND_PCM_FORMAT_FLOAT64_BE,
	SND_PCM_FORMAT_MU_LAW, SND_PCM_FORMAT_A_LAW,
	SND_PCM_FORMAT_S24_3LE, SND_PCM_FORMAT_S24_3BE,
	SND_PCM_FORMAT_U24_3LE, SND_PCM_FORMAT_U24_3BE,
	SND_PCM_FORMAT_S20_3LE, SND_PCM_FORMAT_S20_3BE,
	SND_PCM_FORMAT_S18_3LE, SND_PCM_FORMAT_S18_3BE,
};

static const unsigned int loop_accesses[] = {
	SND_PCM_ACCESS_RW_INTERLEAVED, SND_PCM_ACCESS_RW_NONINTERLEAVED,
	SND_PCM_ACCESS_MMAP_INTERLEAVED, SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
};

static const char *dir_name(const struct loop *lp)
{
	/* From the role: io.stream is not set before snd_pcm_ioplug_create(). */
	return lp->place.role == SHM_ROLE_PLAY ? "playback" : "capture";
}

bool is_playback(const struct loop *lp)
{
	return lp->place.role == SHM_ROLE_PLAY;
}

/* ---- timer --------------------------------------------------------------- */

void timer_set(struct loop *lp, uint64_t ns)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u) },
	};

	if (ns == lp->armed_ns)
		return;
	/*
	 * "Now" when a deadline already passed and nobody read the expiry: the
	 * fd is readable as it is; re-arming would cost a second timer
	 * interrupt per period.
	 */
	if (ns == TIMER_NOW && lp->armed_ns != TIMER_OFF && lp->armed_ns <= shm_now_ns())
		return;
	/* Absolute deadlines: lateness never accumulates into drift. */
	timerfd_settime(lp->timer_fd, TFD_TIMER_ABSTIME, &its, NULL);
	lp->armed_ns = ns;
}

/* ---- positions ----------------------------------------------------------- */

enum lc_state lc_state_of(snd_pcm_state_t state)
{
	switch (state) {
	case SND_PCM_STATE_PREPARED:
		return LC_PREPARED;
	case SND_PCM_STATE_RUNNING:
		return LC_RUNNING;
	case SND_PCM_STATE_PAUSED:
		return LC_PAUSED;
	case SND_PCM_STATE_DRAINING:
		return LC_DRAINING;
	default:
		return LC_IDLE;
	}
}

/* Now on the cable's grid (the shared grid is only a hint: lc_tick). */
uint64_t tick_now(struct loop *lp)
{
	struct shm_grid g;
	bool readable = shm_grid_load(lp->cab, &g) == 0;

	/* snd_pcm_nonblock() changes io->nonblock with no callback to us. */
	lp->pos.blocking = !lp->io.nonblock;

	return lc_tick(&lp->pos, readable ? &g : NULL, shm_now_ns());
}

void publish_timeline(struct loop *lp)
{
	if (is_playback(lp))
		shm_timeline_store(lp->ring.slot, &lp->pos.tl);
}

void publish_state(struct loop *lp, snd_pcm_state_t state)
{
	shm_end_set_state(&lp->seg, &lp->place, (uint32_t)state,
			  state == SND_PCM_STATE_RUNNING || state == SND_PCM_STATE_DRAINING);
}

/* Arm the timer for the moment the stream next needs its client. */
static void loop_arm(struct loop *lp, uint64_t appl)
{
	timer_set(lp, lc_wake(&lp->pos, lc_state_of(lp->io.state), appl));
}

/* Move hw to tick; -EPIPE on an xrun (lc_advance), which is published. */
static int advance(struct loop *lp, uint64_t tick)
{
	int ret = lc_advance(&lp->pos, lc_state_of(lp->io.state), lp->io.appl_ptr, tick);

	if (ret)
		publish_timeline(lp);
	if (ret < 0) {
		shm_end_add_xrun(&lp->seg, &lp->place);
		publish_state(lp, SND_PCM_STATE_XRUN);
	}
	return ret < 0 ? ret : 0;
}

/*
 * snd_pcm_reset() zeroes ioplug's appl and hw and calls nothing of ours:
 * we see it as a hw that is not what we last returned, or both zero where
 * the client had moved (a rewind to 0 then means the same).  As the kernel,
 * the stream goes on from where it is now with appl = hw: a capture has
 * nothing to read, a playback an empty buffer.  The kernel's empty running
 * playback xruns when its hw next moves, which snd-aloop's moves in
 * jiffies: a client that writes at once goes on.  Ours moves every frame,
 * so a running playback holds still from the reset to its next write
 * (reset_hold), which carries on from there; the capture hears silence in
 * between.  (The other clock's reset is flow_sync_reset's.)
 */
bool loop_reset_seen(const struct loop *lp)
{
	const snd_pcm_ioplug_t *io = &lp->io;

	return io->hw_ptr != lp->last_ptr ||
	       (!io->hw_ptr && !io->appl_ptr && lp->appl_seen);
}

static void loop_sync_reset(struct loop *lp)
{
	snd_pcm_ioplug_t *io = &lp->io;
	uint64_t tick, now;

	if (!loop_reset_seen(lp))
		return;
	tick = tick_now(lp);
	now = lc_hw_at(&lp->pos, tick);
	if (is_playback(lp) && io->state == SND_PCM_STATE_RUNNING) {
		lc_stop(&lp->pos, tick);
		publish_timeline(lp);
		lp->reset_hold = true;
	}
	lc_reset(&lp->pos, now > lp->pos.hw ? now : lp->pos.hw);
	lp->last_ptr = io->hw_ptr;
	lp->appl_seen = io->appl_ptr;
	loop_arm(lp, io->appl_ptr);
}

/* ---- callbacks ----------------------------------------------------------- */

static snd_pcm_sframes_t loop_position(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	struct lc_end *pos = &lp->pos;

	/*
	 * A capture drains only after losing its lock: its hw stays frozen and,
	 * once everything is read, it reports an xrun, whose recovery (prepare,
	 * start) then fails with -EIO.  (alsa-lib 1.2.8 would keep polling a
	 * capture that is DRAINING with nothing left.)
	 */
	if (io->state == SND_PCM_STATE_DRAINING && !is_playback(lp) && pos->shown == io->appl_ptr)
		return -EPIPE;
	if (io->state == SND_PCM_STATE_RUNNING ||
	    (io->state == SND_PCM_STATE_DRAINING && is_playback(lp))) {
		uint64_t tick = tick_now(lp);

		if (io->state == SND_PCM_STATE_RUNNING && !is_playback(lp) &&
		    shm_cable_relocked(&lp->seg, lp->place.cable, lp->lock_gen, &lp->params)) {
			/*
			 * Notify mode: a new playback relocked the cable under us.
			 * As snd-aloop, the capture goes to DRAINING: the client
			 * reads what is left, then gets -EPIPE, and arecord or
			 * alsaloop recover or reopen.  Freeze where we are: the
			 * grid may have restarted.
			 */
			lc_freeze(pos);
			io->state = SND_PCM_STATE_DRAINING;
			publish_state(lp, SND_PCM_STATE_DRAINING);
			timer_set(lp, TIMER_NOW);
		} else if (advance(lp, tick) < 0) {
			timer_set(lp, TIMER_NOW);	/* poll must report the xrun */
			return -EPIPE;
		} else {
			/*
			 * The client may have moved with no call of ours (an mmap
			 * capture's commit): from here the fd tells the truth
			 * again, for a client that never asks poll_revents too.
			 */
			loop_arm(lp, io->appl_ptr);
		}
	}
	/* BOUNDARY_WA: ioplug unwraps at boundary, not at buffer_size. */
	return (snd_pcm_sframes_t)(pos->shown % pos->boundary);
}

static snd_pcm_sframes_t loop_pointer(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	snd_pcm_sframes_t ptr;

	loop_sync_reset(lp);
	ptr = loop_position(io);
	if (ptr >= 0)
		lp->last_ptr = (snd_pcm_uframes_t)ptr;	/* ioplug's hw from now */
	lp->appl_seen = io->appl_ptr;
	return ptr;
}

/*
 * snd-aloop's loopback_check_format(): a capture cannot start on a cable a
 * notify-mode playback has reconfigured.
 */
int loop_start_check(struct loop *lp)
{
	struct shm_params lock;

	if (!is_playback(lp) && shm_cable_locked(&lp->seg, lp->place.cable, &lock) && peer_alive(lp) &&
	    !shm_params_match(&lock, &lp->params)) {
		SNDERR("loopback subdevice %u device %u capture: the playback changed the "
		       "cable's parameters (notify mode); reopen the capture",
		       lp->keys.cfg.subdevice, lp->device);
		return -EIO;
	}
	return 0;
}

static int loop_start(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	int err;

	loop_sync_reset(lp);
	err = loop_start_check(lp);
	if (err < 0)
		return err;
	lc_start(&lp->pos, tick_now(lp));
	publish_timeline(lp);
	publish_state(lp, SND_PCM_STATE_RUNNING);
	/* ioplug sets RUNNING after we return; arm as if it had. */
	io->state = SND_PCM_STATE_RUNNING;
	loop_arm(lp, io->appl_ptr);
	return 0;
}

static int loop_stop(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	uint64_t tick = tick_now(lp);

	loop_sync_reset(lp);
	lp->reset_hold = false;
	if (io->state == SND_PCM_STATE_RUNNING)
		advance(lp, tick);
	lc_stop(&lp->pos, tick);
	publish_timeline(lp);
	publish_state(lp, SND_PCM_STATE_SETUP);
	/* Leave the fd ready: a client polling after drop must not hang. */
	timer_set(lp, TIMER_NOW);
	return 0;
}

static int loop_pause(snd_pcm_ioplug_t *io, int enable)
{
	struct loop *lp = io->private_data;
	uint64_t tick = tick_now(lp);

	loop_sync_reset(lp);
	lp->reset_hold = false;	/* a resume goes on from the frozen position */
	if (enable) {
		if (advance(lp, tick) < 0)
			return -EPIPE;
		lc_stop(&lp->pos, tick);
		publish_state(lp, SND_PCM_STATE_PAUSED);
	} else {
		lc_start(&lp->pos, tick);
		publish_state(lp, SND_PCM_STATE_RUNNING);
	}
	publish_timeline(lp);
	io->state = enable ? SND_PCM_STATE_PAUSED : SND_PCM_STATE_RUNNING;
	loop_arm(lp, io->appl_ptr);
	return 0;
}

/* prepare, both clocks: a new stream from position 0... */
void loop_prepare_pos(struct loop *lp)
{
	/* A playback's new ring positions start after everything ever written. */
	lc_prepare(&lp->pos, tick_now(lp), lp->write_end);
	lp->last_ptr = lp->appl_seen = 0;	/* ioplug zeroed both before calling us */
	lp->reset_hold = false;
}

/* ...published, and PREPARED (ioplug sets it after us: as if it had). */
void loop_prepare_publish(struct loop *lp)
{
	publish_timeline(lp);
	publish_state(lp, SND_PCM_STATE_PREPARED);
	lp->io.state = SND_PCM_STATE_PREPARED;
}

static int loop_prepare(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	loop_prepare_pos(lp);
	loop_prepare_publish(lp);
	loop_arm(lp, 0);
	return 0;
}

/* Capture drain returns at once (bluez-alsa): ioplug then drops. */
int loop_drain_capture(snd_pcm_ioplug_t *io)
{
	(void)io;
	return 0;
}

static bool areas_interleaved(const struct loop *lp, const snd_pcm_channel_area_t *areas)
{
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(lp->io.format);

	for (unsigned int ch = 0; ch < lp->io.channels; ch++)
		if (areas[ch].addr != areas[0].addr || areas[ch].first != ch * width ||
		    areas[ch].step != lp->frame_bytes * 8)
			return false;
	return true;
}

/* Interleaved areas of frames at buf, for snd_pcm_areas_copy(). */
static void interleaved_areas(const struct loop *lp, void *buf, snd_pcm_channel_area_t *areas)
{
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(lp->io.format);

	for (unsigned int ch = 0; ch < lp->io.channels; ch++) {
		areas[ch].addr = buf;
		areas[ch].first = ch * width;
		areas[ch].step = lp->frame_bytes * 8;
	}
}

/*
 * Copy frames between the client's areas and ring position pos of r.
 * Interleaved areas (the common case) go through the shared layer's own
 * copy, the one its tests and benchmark measure; others sample by sample.
 */
void ring_copy(struct loop *lp, const struct shm_ring *r, bool to_ring, uint64_t pos,
	       const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t offset, uint32_t frames)
{
	snd_pcm_channel_area_t ring_areas[LOOP_CHANNELS_MAX];
	struct shm_span span[2];
	unsigned int n;

	if (areas_interleaved(lp, areas)) {
		uint8_t *app = (uint8_t *)areas[0].addr + areas[0].first / 8 +
			       (size_t)offset * lp->frame_bytes;

		if (to_ring)
			shm_ring_write(r, lp->frame_bytes, pos, app, frames);
		else
			shm_ring_read(r, lp->frame_bytes, pos, app, frames);
		return;
	}
	n = shm_ring_spans(r, lp->frame_bytes, pos, frames, span);
	for (unsigned int i = 0; i < n; i++) {
		interleaved_areas(lp, span[i].ptr, ring_areas);
		if (to_ring)
			snd_pcm_areas_copy(ring_areas, 0, areas, offset, lp->io.channels,
					   span[i].frames, lp->io.format);
		else
			snd_pcm_areas_copy(areas, offset, ring_areas, 0, lp->io.channels,
					   span[i].frames, lp->io.format);
		offset += span[i].frames;
	}
}

/* A playback's transfer, both clocks: frames [appl, appl + size) into our ring. */
void loop_write(struct loop *lp, const snd_pcm_channel_area_t *areas,
		snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	uint64_t pos = lp->pos.base + lp->io.appl_ptr;	/* the ring position */
	uint64_t end = pos + size;

	/* size <= buffer_size <= a quarter of our ring (loop_constrain): one pass fits. */
	shm_ring_claim(&lp->ring, end);
	ring_copy(lp, &lp->ring, true, pos, areas, offset, (uint32_t)size);
	shm_ring_publish(&lp->ring, end);
	lp->write_end = end;
	lp->appl_seen = lp->io.appl_ptr + size;
}

static snd_pcm_sframes_t loop_transfer_playback(snd_pcm_ioplug_t *io,
						const snd_pcm_channel_area_t *areas,
						snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;

	loop_sync_reset(lp);
	loop_write(lp, areas, offset, size);
	if (lp->reset_hold) {
		/* The first write after a reset: the stream moves on from here. */
		lc_start(&lp->pos, tick_now(lp));
		publish_timeline(lp);
		lp->reset_hold = false;
	}
	shm_end_add_frames(&lp->seg, &lp->place, size);
	loop_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

void capture_silence(struct loop *lp, const snd_pcm_channel_area_t *areas,
		     snd_pcm_uframes_t offset, uint64_t frames)
{
	if (!frames)	/* the usual case: nothing was overwritten */
		return;
	snd_pcm_areas_silence(areas, offset, lp->io.channels, (snd_pcm_uframes_t)frames,
			      lp->io.format);
}

/* Sum frames of several writers, at most MIX_BLOCK, into the client's areas. */
static void mix_chunk(struct loop *lp, struct shm_writer **heard, unsigned int n,
		      const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t offset,
		      uint32_t frames)
{
	snd_pcm_channel_area_t buf_areas[LOOP_CHANNELS_MAX];

	shm_writers_mix(heard, n, lp->frame_bytes, lp->io.channels, &lp->mix_format, lp->mix_acc,
			lp->mix_buf, frames);
	interleaved_areas(lp, lp->mix_buf, buf_areas);
	snd_pcm_areas_copy(areas, offset, buf_areas, 0, lp->io.channels, frames, lp->io.format);
}

/*
 * Fill frames [appl, appl + size) of our capture stream.  Each capture
 * frame has a tick (our timeline); at each tick every playback of the
 * cable may have a frame (its timeline), which is in its ring if it was
 * written and not yet overwritten.  One playback heard: its bytes, as they
 * are.  Several: their sum (loop_mix.h).  None: silence, as snd-aloop gives.
 */
static snd_pcm_sframes_t loop_transfer_capture(snd_pcm_ioplug_t *io,
					       const snd_pcm_channel_area_t *areas,
					       snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;
	struct shm_writer *heard[SHM_SLOTS];
	uint64_t pos, left = size;

	loop_sync_reset(lp);
	lp->appl_seen = io->appl_ptr + size;
	pos = lp->pos.base + io->appl_ptr;	/* our timeline's position */
	lp->nwriters = shm_writers_load(&lp->seg, lp->place.cable, lp->writers);
	while (left) {
		uint64_t tick, chunk = left;
		unsigned int n = 0;

		/* Within one run every mapping is linear, so one answer holds. */
		if (shm_timeline_tick(&lp->pos.tl, pos, &tick, &chunk)) {
			if (chunk > left)
				chunk = left;
			n = shm_writers_at(lp->writers, lp->nwriters, lp->frame_bytes, tick,
					   &chunk, heard);
		} else if (chunk > left) {
			chunk = left;
		}
		if (n == 0) {
			capture_silence(lp, areas, offset, chunk);
		} else if (n == 1) {
			ring_copy(lp, &heard[0]->ring, false, heard[0]->q, areas, offset,
				  (uint32_t)chunk);
			capture_silence(lp, areas, offset,
					shm_writer_overwritten(heard[0], lp->frame_bytes, chunk));
		} else {
			if (chunk > MIX_BLOCK)
				chunk = MIX_BLOCK;
			mix_chunk(lp, heard, n, areas, offset, (uint32_t)chunk);
		}
		pos += chunk;
		offset += chunk;
		left -= chunk;
	}
	shm_end_add_frames(&lp->seg, &lp->place, size);
	lc_took(&lp->pos, lc_state_of(io->state), io->appl_ptr + size);
	/*
	 * With MMAP access we are called from mmap_begin, and the commit that
	 * follows reaches no callback of ours: arm for the commit of these
	 * frames now, as every mmap reader commits what it began (alsa-lib's
	 * own snd_pcm_mmap_readi, PulseAudio, PipeWire).  One that commits
	 * fewer is set right at its next avail_update (loop_position).
	 */
	loop_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

static int loop_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfds, unsigned int nfds,
			     unsigned short *revents)
{
	struct loop *lp = io->private_data;
	unsigned short ready = is_playback(lp) ? POLLOUT : POLLIN;
	snd_pcm_sframes_t avail;

	(void)pfds;
	(void)nfds;
	/* Syncs the pointer; also lets ioplug finish a non-blocking drain. */
	avail = snd_pcm_avail_update(io->pcm);
	*revents = 0;
	switch (io->state) {
	case SND_PCM_STATE_PREPARED:
	case SND_PCM_STATE_RUNNING:
	case SND_PCM_STATE_PAUSED:
		if (avail < 0)
			*revents = ready | POLLERR;
		else if (lc_ready(&lp->pos, lc_state_of(io->state), io->appl_ptr))
			*revents = ready;
		break;
	case SND_PCM_STATE_DRAINING:
		/* Playback: ioplug drops the stream itself once empty. */
		if (!is_playback(lp))
			*revents = ready;
		break;
	default:	/* XRUN, SETUP, DISCONNECTED: the kernel says ready|ERR */
		*revents = ready | POLLERR;
		break;
	}
	loop_timer_read(lp, *revents);
	loop_arm(lp, io->appl_ptr);
	return 0;
}

/*
 * Level-triggered: while ready the expiry stays unread, so the fd stays
 * readable; only a stream that is not ready consumes it before the next
 * deadline is set.
 */
void loop_timer_read(struct loop *lp, unsigned short revents)
{
	uint64_t expirations;

	if (!revents && read(lp->timer_fd, &expirations, sizeof(expirations)) > 0)
		lp->armed_ns = TIMER_OFF;
}

bool peer_alive(struct loop *lp)
{
	return shm_end_peer_alive(&lp->seg, lp->place.cable, lp->place.role);
}

static const char *clock_name(uint32_t clock)
{
	return clock == SHM_CLOCK_LOSSLESS ? "lossless" : "realtime";
}

static void format_lock_desc(char *buf, size_t len, const struct shm_params *p)
{
	/* The number may come from the segment: alsa-lib checks only > LAST. */
	const char *name = p->format <= SND_PCM_FORMAT_LAST ?
			   snd_pcm_format_name((snd_pcm_format_t)p->format) : NULL;
	const char *clock = p->clock == SHM_CLOCK_LOSSLESS ? ", clock lossless" : "";

	if (name)
		snprintf(buf, len, "%s %u Hz %u ch%s", name, p->rate, p->channels, clock);
	else
		snprintf(buf, len, "format %u %u Hz %u ch%s", p->format, p->rate, p->channels,
			 clock);
}

int loop_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct loop *lp = io->private_data;
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(io->format);
	struct shm_lock_result res;
	struct shm_ring_ask ring;
	uint32_t buffer_bytes;
	char why[256] = "";
	int err;

	(void)params;
	if (io->channels > LOOP_CHANNELS_MAX || width % 8)
		return -EINVAL;
	lp->frame_bytes = width / 8 * io->channels;
	if (is_playback(lp) && lp->place.shared && (io->format == SND_PCM_FORMAT_MU_LAW ||
						    io->format == SND_PCM_FORMAT_A_LAW)) {
		SNDERR("loopback card %s subdevice %u device %u playback: a shared end mixes "
		       "linear PCM only, %s cannot be summed; use the plug PCM to convert",
		       lp->keys.card, lp->keys.cfg.subdevice, lp->device,
		       snd_pcm_format_name(io->format));
		return -EINVAL;
	}
	if (!is_playback(lp)) {
		/* Any capture may meet a shared playback end: be ready to sum. */
		lp->mix_format = (struct mix_format){
			.bytes = width / 8,
			.bits = (unsigned int)snd_pcm_format_width(io->format),
			.is_signed = snd_pcm_format_signed(io->format) == 1,
			.big_endian = snd_pcm_format_big_endian(io->format) == 1,
			.is_float = io->format == SND_PCM_FORMAT_FLOAT_LE ||
				    io->format == SND_PCM_FORMAT_FLOAT_BE ||
				    io->format == SND_PCM_FORMAT_FLOAT64_LE ||
				    io->format == SND_PCM_FORMAT_FLOAT64_BE,
		};
		free(lp->mix_acc);
		free(lp->mix_buf);
		lp->mix_acc = calloc((size_t)MIX_BLOCK * io->channels, sizeof(*lp->mix_acc));
		lp->mix_buf = calloc(MIX_BLOCK, lp->frame_bytes);
		if (!lp->mix_acc || !lp->mix_buf)
			return -ENOMEM;
	}
	lp->params = (struct shm_params){
		.format = (uint32_t)io->format, .rate = io->rate, .channels = io->channels,
		.access = io->access == SND_PCM_ACCESS_RW_NONINTERLEAVED ||
			  io->access == SND_PCM_ACCESS_MMAP_NONINTERLEAVED,
		.clock = lp->clock,
	};
	/* loop_constrain() kept the buffer within half the largest ring. */
	buffer_bytes = (uint32_t)io->buffer_size * lp->frame_bytes;
	ring = (struct shm_ring_ask){
		.fit = 2 * buffer_bytes,
		.size = shm_ring_size(buffer_bytes, io->rate * lp->frame_bytes),
	};
	err = shm_cable_lock(&lp->seg, &lp->place, &lp->params, &ring, shm_now_ns(), &res, why,
			     sizeof(why));
	if (err == -EMSGSIZE) {
		SNDERR("loopback card %s subdevice %u device %u %s: a buffer of %lu frames does "
		       "not fit the cable's ring of %u frames, sized by its other end's buffer "
		       "(each end may have half); ask for at most %u frames, or configure the "
		       "end with the larger buffer first", lp->keys.card, lp->keys.cfg.subdevice,
		       lp->device, dir_name(lp), (unsigned long)io->buffer_size,
		       res.ring_bytes / lp->frame_bytes, res.ring_bytes / lp->frame_bytes / 2);
		return -EINVAL;
	}
	if (err == -EINVAL) {
		char have[64], want[64];

		format_lock_desc(have, sizeof(have), &res.held);
		format_lock_desc(want, sizeof(want), &lp->params);
		SNDERR("loopback subdevice %u device %u %s: the cable is locked to %s by its "
		       "other end, %s asked; use the plug%s PCM to convert", lp->keys.cfg.subdevice,
		       lp->device, dir_name(lp), have, want, lp->device ? "loopcap" : "loop");
		return err;
	}
	if (err < 0 && why[0]) {
		SNDERR("loopback card %s subdevice %u device %u %s: %s", lp->keys.card,
		       lp->keys.cfg.subdevice, lp->device, dir_name(lp), why);
		return err;
	}
	if (err < 0) {
		SNDERR("loopback subdevice %u: %s: admin lock busy: %s", lp->keys.cfg.subdevice,
		       lp->seg.path, snd_strerror(err));
		return err;
	}
	/* Our ring as the lock sized it (a capture that reads one reads slot 0's). */
	lp->ring = shm_seg_ring(&lp->seg, lp->place.cable, is_playback(lp) ? lp->place.slot : 0,
				is_playback(lp) && lp->place.shared);
	lp->ring.bytes = res.ring_bytes;
	/* A restarted grid has no timeline: ours on the old one is void. */
	if (res.regridded && is_playback(lp))
		memset(&lp->pos.tl, 0, sizeof(lp->pos.tl));
	lp->lock_gen = res.gen;
	lp->pos.playback = is_playback(lp);
	lp->pos.rw_access = io->access == SND_PCM_ACCESS_RW_INTERLEAVED ||
			    io->access == SND_PCM_ACCESS_RW_NONINTERLEAVED;
	lp->pos.buffer_frames = io->buffer_size;
	lc_grid_fresh(&lp->pos, io->rate, shm_now_ns());
	tick_now(lp);
	shm_end_set_sizes(&lp->seg, &lp->place, (uint32_t)io->period_size,
			  (uint32_t)io->buffer_size);
	publish_state(lp, SND_PCM_STATE_SETUP);
	return 0;
}

int loop_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct loop *lp = io->private_data;
	snd_pcm_uframes_t avail_min, stop_threshold, boundary;

	/* Read from params: pcm->boundary etc. are updated only after us. */
	snd_pcm_sw_params_get_avail_min(params, &avail_min);
	snd_pcm_sw_params_get_stop_threshold(params, &stop_threshold);
	snd_pcm_sw_params_get_boundary(params, &boundary);
	lp->pos.avail_min = avail_min ? avail_min : 1;
	lp->pos.stop_threshold = stop_threshold;
	lp->pos.boundary = boundary ? boundary : io->buffer_size;
	return 0;
}

/* Give back what an open took: our place, the segment, descriptors, memory. */
static void loop_free(struct loop *lp, bool attached)
{
	const int fds[] = { lp->timer_fd, lp->epoll_fd, lp->bell_fd, lp->peer_bell_fd };

	if (attached)
		shm_end_detach(&lp->seg, &lp->place);
	if (lp->seg.fd >= 0)
		shm_seg_remove_idle(&lp->seg);	/* the last one out: the cable costs nothing */
	shm_seg_close(&lp->seg);
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(lp->mix_acc);
	free(lp->mix_buf);
	free(lp);
}

/* Close our timeline (a capture hears us to the end), give everything back. */
int loop_close(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	if (lp->seg.hdr) {
		lc_stop(&lp->pos, tick_now(lp));
		publish_timeline(lp);
	}
	loop_free(lp, lp->seg.hdr != NULL);
	return 0;
}

/* The realtime clock's; the tables differ in transfer and drain. */
#define LOOP_REALTIME_CALLBACKS				\
	LOOP_SHARED_CALLBACKS,				\
	.start = loop_start,				\
	.stop = loop_stop,				\
	.pointer = loop_pointer,			\
	.close = loop_close,				\
	.prepare = loop_prepare,			\
	.pause = loop_pause,				\
	.poll_revents = loop_poll_revents

static const snd_pcm_ioplug_callback_t loop_playback_callback = {
	LOOP_REALTIME_CALLBACKS,
	.transfer = loop_transfer_playback,
	/* no .drain: ioplug drains by polling, which our timer serves */
};

static const snd_pcm_ioplug_callback_t loop_capture_callback = {
	LOOP_REALTIME_CALLBACKS,
	.transfer = loop_transfer_capture,
	.drain = loop_drain_capture,	/* returns at once (bluez-alsa) */
};

/*
 * One table per clock and direction, chosen once at open (as snd-aloop
 * picks a cable's timer ops): no callback asks which clock it runs.
 */
static const snd_pcm_ioplug_callback_t *const loop_callbacks[2][2] = {
	[SHM_CLOCK_REALTIME] = { [SHM_ROLE_PLAY] = &loop_playback_callback,
				 [SHM_ROLE_CAP] = &loop_capture_callback },
	[SHM_CLOCK_LOSSLESS] = { [SHM_ROLE_PLAY] = &flow_playback_callback,
				 [SHM_ROLE_CAP] = &flow_capture_callback },
};

/* ---- constraints ---------------------------------------------------------- */

static int loop_constrain(struct loop *lp, snd_pcm_format_t format, unsigned int rate,
			  unsigned int channels)
{
	snd_pcm_ioplug_t *io = &lp->io;
	unsigned int one_format = (unsigned int)format;
	unsigned int formats[sizeof(loop_formats) / sizeof(loop_formats[0])], nformats = 0;
	/*
	 * A ring holds the playback's queue ahead of the clock and a capture's
	 * backlog behind it: each end's buffer is at most half of it.  A
	 * cable already locked has its ring (lp->ring.bytes); else the end
	 * that takes the lock will size it from its buffer (shm_ring_size()).
	 */
	unsigned int buffer_max = (lp->ring.bytes ? lp->ring.bytes : SHM_SLOT_RING_MAX) /
				  LOOP_RING_PER_BUFFER;
	int err;

	/* A shared playback mixes: companded formats are left to plug to convert. */
	for (size_t k = 0; k < sizeof(loop_formats) / sizeof(loop_formats[0]); k++)
		if (!(lp->place.shared && is_playback(lp) &&
		      (loop_formats[k] == SND_PCM_FORMAT_MU_LAW ||
		       loop_formats[k] == SND_PCM_FORMAT_A_LAW)))
			formats[nformats++] = loop_formats[k];

	err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS,
					    sizeof(loop_accesses) / sizeof(loop_accesses[0]),
					    loop_accesses);
	if (err >= 0)
		err = format != SND_PCM_FORMAT_UNKNOWN ?
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, &one_format) :
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, nformats,
						    formats);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS,
						      channels ? channels : 1,
						      channels ? channels : LOOP_CHANNELS_MAX);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE,
						      rate ? rate : LOOP_RATE_MIN,
						      rate ? rate : LOOP_RATE_MAX);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES,
						      LOOP_BUFFER_BYTES_MIN, buffer_max);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES,
						      LOOP_PERIOD_BYTES_MIN,
						      buffer_max / LOOP_BUFFER_PER_PERIOD);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 1,
						      LOOP_PERIODS_MAX);
	return err;
}

/* ---- configuration --------------------------------------------------------- */

static int conf_string(snd_config_t *n, const char *key, const char **out)
{
	if (snd_config_get_string(n, out) < 0) {
		SNDERR("loopback: key '%s' must be a string", key);
		return -EINVAL;
	}
	return 0;
}

static int loop_parse(struct loop *lp, snd_config_t *conf)
{
	snd_config_iterator_t i, next;
	long v;

	loop_seg_keys_init(&lp->keys);
	lp->fix_format = SND_PCM_FORMAT_UNKNOWN;
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id, *str;
		int err;

		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		err = loop_conf_seg_key(n, "loopback", id, &lp->keys);
		if (err < 0)
			return err;
		if (err)
			continue;
		if (!strcmp(id, "subdevice")) {
			if (loop_conf_long(n, "loopback", id, 0, LOOP_SUBDEVICE_MAX, &v) < 0)
				return -EINVAL;
			lp->keys.cfg.subdevice = (unsigned int)v;
		} else if (!strcmp(id, "device")) {
			if (loop_conf_long(n, "loopback", id, 0, 1, &v) < 0)
				return -EINVAL;
			lp->device = (unsigned int)v;
		} else if (!strcmp(id, "format")) {
			if (conf_string(n, id, &str) < 0)
				return -EINVAL;
			lp->fix_format = snd_pcm_format_value(str);
			if (lp->fix_format == SND_PCM_FORMAT_UNKNOWN) {
				SNDERR("loopback: key 'format': unknown format '%s'", str);
				return -EINVAL;
			}
			bool offered = false;

			for (size_t k = 0; k < sizeof(loop_formats) / sizeof(loop_formats[0]); k++)
				offered |= loop_formats[k] == (unsigned int)lp->fix_format;
			if (!offered) {
				SNDERR("loopback: key 'format': %s is not supported", str);
				return -EINVAL;
			}
		} else if (!strcmp(id, "shared")) {
			int on = snd_config_get_bool(n);

			if (on < 0) {
				SNDERR("loopback: key 'shared' must be a boolean (true/false, yes/no, "
				       "on/off, 1/0)");
				return -EINVAL;
			}
			lp->place.shared = on;
		} else if (!strcmp(id, "clock")) {
			if (conf_string(n, id, &str) < 0)
				return -EINVAL;
			if (strcmp(str, "realtime") && strcmp(str, "lossless")) {
				SNDERR("loopback: key 'clock': '%s' is neither realtime nor lossless",
				       str);
				return -EINVAL;
			}
			lp->clock = strcmp(str, "lossless") ? SHM_CLOCK_REALTIME : SHM_CLOCK_LOSSLESS;
		} else if (!strcmp(id, "rate")) {
			if (loop_conf_long(n, "loopback", id, LOOP_RATE_MIN, LOOP_RATE_MAX, &v) < 0)
				return -EINVAL;
			lp->fix_rate = (unsigned int)v;
		} else if (!strcmp(id, "channels")) {
			if (loop_conf_long(n, "loopback", id, 1, LOOP_CHANNELS_MAX, &v) < 0)
				return -EINVAL;
			lp->fix_channels = (unsigned int)v;
		} else {
			SNDERR("loopback: unknown field '%s' (known: subdevice device card shared "
			       "clock format rate channels dir perm group)", id);
			return -EINVAL;
		}
	}
	if (lp->clock == SHM_CLOCK_LOSSLESS && lp->place.shared) {
		SNDERR("loopback: keys 'shared' and 'clock lossless' exclude each other: a "
		       "lossless cable has one playback and one capture");
		return -EINVAL;
	}
	return 0;
}

/* Attach to the cable: claim our end, free a stale lock, read the peer's. */
static int loop_attach(struct loop *lp, snd_pcm_format_t *format, unsigned int *rate,
		       unsigned int *channels)
{
	struct shm_attach at;
	char have[64];
	int err;

	err = shm_end_attach(&lp->seg, &lp->place, (uint32_t)getpid(), &at);
	if (err == -EBUSY && at.busy == SHM_BUSY_FULL) {
		SNDERR("loopback card %s subdevice %u device %u %s: all %u places of the shared "
		       "end are taken (pid %u among them)", lp->keys.card, lp->keys.cfg.subdevice,
		       lp->device, dir_name(lp), SHM_SLOTS, at.holder_pid);
		return err;
	}
	if (err == -EBUSY) {
		SNDERR("loopback card %s subdevice %u device %u %s is busy (in use by pid %u, %s)%s",
		       lp->keys.card, lp->keys.cfg.subdevice, lp->device, dir_name(lp),
		       at.holder_pid, at.busy == SHM_BUSY_SHARED ? "shared" : "exclusively",
		       at.busy == SHM_BUSY_SHARED ? ": open it with the 'shared' key (the "
		       "shared... PCMs) to join" : lp->place.shared ? ": a shared open waits for "
		       "the exclusive one to close" : "");
		return err;
	}
	if (err == -ESTALE)
		return err;	/* gc removed the file between our open and our claim */
	if (err < 0) {
		SNDERR("loopback subdevice %u: cannot lock %s: %s", lp->keys.cfg.subdevice,
		       lp->seg.path, snd_strerror(err));
		return err;
	}
	lp->write_end = at.write_end;
	if (at.pinned && at.lock.clock != lp->clock) {
		SNDERR("loopback card %s subdevice %u device %u %s: the cable runs the %s clock "
		       "(set by its other end), this end asked %s; use the %s names",
		       lp->keys.card, lp->keys.cfg.subdevice, lp->device, dir_name(lp),
		       clock_name(at.lock.clock), clock_name(!at.lock.clock),
		       at.lock.clock == SHM_CLOCK_LOSSLESS ? "lossless..." : "loop...");
		return -EINVAL;
	}
	*format = at.pinned ? (snd_pcm_format_t)at.lock.format : SND_PCM_FORMAT_UNKNOWN;
	*rate = at.pinned ? at.lock.rate : 0;
	*channels = at.pinned ? at.lock.channels : 0;

	/* The peer may have set nonsense: only constrain to values we offer. */
	if (*format != SND_PCM_FORMAT_UNKNOWN && (*rate < LOOP_RATE_MIN ||
	    *rate > LOOP_RATE_MAX || !*channels || *channels > LOOP_CHANNELS_MAX ||
	    *format < 0 || *format > SND_PCM_FORMAT_LAST))
		*format = SND_PCM_FORMAT_UNKNOWN, *rate = *channels = 0;
	if ((lp->fix_format != SND_PCM_FORMAT_UNKNOWN && *format != SND_PCM_FORMAT_UNKNOWN &&
	     lp->fix_format != *format) ||
	    (lp->fix_rate && *rate && lp->fix_rate != *rate) ||
	    (lp->fix_channels && *channels && lp->fix_channels != *channels)) {
		format_lock_desc(have, sizeof(have), &at.lock);
		SNDERR("loopback subdevice %u device %u %s: the configured format/rate/channels "
		       "conflict with the cable's lock (%s) set by its other end",
		       lp->keys.cfg.subdevice, lp->device, dir_name(lp), have);
		return -EINVAL;
	}
	if (lp->fix_format != SND_PCM_FORMAT_UNKNOWN)
		*format = lp->fix_format;
	if (lp->fix_rate)
		*rate = lp->fix_rate;
	if (lp->fix_channels)
		*channels = lp->fix_channels;
	return 0;
}

/* pcm.name { type loopback ... }: the keys are documented in alsa-loopback(7). */
SND_PCM_PLUGIN_DEFINE_FUNC(loopback)
{
	struct loop *lp;
	snd_pcm_format_t format = SND_PCM_FORMAT_UNKNOWN;
	unsigned int rate = 0, channels = 0;
	bool attached = false;
	char why[768];
	int err;

	(void)root;
	lp = calloc(1, sizeof(*lp));
	if (!lp)
		return -ENOMEM;
	lp->timer_fd = lp->epoll_fd = lp->bell_fd = lp->peer_bell_fd = -1;
	lp->seg.fd = lp->seg.dir.fd = -1;
	err = loop_parse(lp, conf);
	if (err < 0)
		goto fail;
	if (stream == SND_PCM_STREAM_PLAYBACK) {
		lp->place.cable = lp->device;
		lp->place.role = SHM_ROLE_PLAY;
	} else {
		lp->place.cable = lp->device ^ 1u;
		lp->place.role = SHM_ROLE_CAP;
	}
	for (unsigned int tries = 0; ; tries++) {
		err = shm_seg_open(&lp->seg, &lp->keys.cfg, why, sizeof(why));
		if (err < 0) {
			SNDERR("loopback card %s subdevice %u: %s%s", lp->keys.card,
			       lp->keys.cfg.subdevice, why, loop_seg_advice(lp->seg.fault));
			goto fail;
		}
		lp->cab = shm_seg_cable(&lp->seg, lp->place.cable);
		err = loop_attach(lp, &format, &rate, &channels);
		/* A playback's ring is its slot's; a lossless capture reads slot 0's. */
		lp->ring = is_playback(lp) ? shm_seg_ring(&lp->seg, lp->place.cable, lp->place.slot,
							  lp->place.shared)
					   : shm_seg_ring(&lp->seg, lp->place.cable, 0, false);
		if (err != -ESTALE)
			break;
		if (!shm_retry_again(tries)) {
			SNDERR("loopback card %s subdevice %u: %s keeps being removed under us",
			       lp->keys.card, lp->keys.cfg.subdevice, lp->seg.path);
			break;
		}
		shm_seg_close(&lp->seg);
	}
	if (err < 0)
		goto fail;
	attached = true;
	lp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lp->timer_fd < 0) {
		err = -errno;
		SNDERR("loopback: timerfd_create: %s", strerror(errno));
		goto fail;
	}

	lp->io.version = SND_PCM_IOPLUG_VERSION;
	lp->io.name = "ALSA <-> Loopback (user space)";
	lp->io.callback = loop_callbacks[lp->clock][lp->place.role];
	lp->io.private_data = lp;
	lp->io.poll_fd = lp->timer_fd;
	if (lp->clock == SHM_CLOCK_LOSSLESS) {
		err = flow_open(lp, why, sizeof(why));	/* polls an epoll fd */
		if (err < 0) {
			SNDERR("loopback card %s subdevice %u: %s", lp->keys.card,
			       lp->keys.cfg.subdevice, why);
			goto fail;
		}
	}
	lp->io.poll_events = POLLIN;
	lp->io.mmap_rw = 0;
	/*
	 * No FLAG_MONOTONIC: ioplug never sets INFO_MONOTONIC, so aplay would
	 * compare monotonic stamps with gettimeofday() ("underrun!!! (at least
	 * 1795635478196 ms long)").  Clients may still ask for monotonic stamps.
	 */
	lp->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
	lp->pos.boundary = 1;
	err = snd_pcm_ioplug_create(&lp->io, name, stream, mode);
	if (err < 0)
		goto fail;
	/* snd_pcm_ioplug_create() does not copy the open mode (alsa-lib 1.2.8). */
	lp->io.nonblock = !!(mode & SND_PCM_NONBLOCK);
	err = loop_constrain(lp, format, rate, channels);
	if (err < 0) {
		snd_pcm_ioplug_delete(&lp->io);	/* calls loop_close() */
		return err;
	}
	*pcmp = lp->io.pcm;
	return 0;

fail:
	loop_free(lp, attached);
	return err;
}

SND_PCM_PLUGIN_SYMBOL(loopback);
