// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pcm_loop.c - ALSA ioplug "loopback": snd-aloop's cables in user space.
 *
 * Each end (device d, subdevice N, direction) attaches to the shared
 * segment of subdevice N (shm_ring.h).  Playback on device d feeds capture
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
 * frame has already been overwritten.
 *
 * Wake-ups.  The poll descriptor is a timerfd armed at the absolute time at
 * which the stream becomes ready (avail >= avail_min), or "now" while it is
 * ready, so poll() is level-triggered and truthful.  On alsa-lib 1.2.8 a
 * missed wake-up hangs blocking clients forever, so every path that
 * changes readiness re-arms it (loop_arm).
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
#include <sys/timerfd.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <alsa/pcm_external.h>

#include "loop_conf.h"
#include "shm_ring.h"

#define LOOP_CHANNELS_MAX	32u
#define LOOP_RATE_MIN		8000u
#define LOOP_RATE_MAX		768000u
#define TIMER_OFF		0	/* timer_set(): disarmed */
#define TIMER_NOW		1	/* timer_set(): fire at once (1 ns after boot) */

struct loop {
	snd_pcm_ioplug_t io;		/* first: alsa-lib hands us &io */

	/* Configuration. */
	struct loop_seg_keys keys;	/* card, dir, perm, group */
	unsigned int device;		/* 0 or 1, as hw:Loopback,D */
	unsigned int cable;		/* which one-way cable we are an end of */
	unsigned int role;		/* SHM_ROLE_PLAY or SHM_ROLE_CAP */
	snd_pcm_format_t fix_format;	/* SND_PCM_FORMAT_UNKNOWN: free */
	unsigned int fix_rate, fix_channels;	/* 0: free */

	/* The shared cable. */
	struct shm_seg seg;
	struct shm_cable *shared;
	uint8_t *ring;
	int timer_fd;
	uint64_t armed_ns;		/* TIMER_OFF, TIMER_NOW or a deadline */

	/* From hw_params / sw_params. */
	uint32_t frame_bytes;
	snd_pcm_channel_area_t ring_areas[LOOP_CHANNELS_MAX];
	struct shm_grid grid;		/* last good copy of the shared grid */
	snd_pcm_uframes_t avail_min, stop_threshold, boundary;

	/*
	 * The stream.  Positions are frames since prepare (hw, appl); the
	 * playback adds stream_base to turn them into ring positions, which
	 * keep growing across prepares so a lagging capture never mistakes a
	 * new stream's frames for an old one's.
	 */
	struct shm_timeline tl;		/* our own timeline (published by playback) */
	uint64_t stream_base;		/* playback: ring position of frame 0 */
	uint64_t write_end;		/* playback: our copy of what we published */
	uint64_t hw;			/* last hardware position */
	uint64_t shown;			/* what the client was shown of hw (show_hw) */
	uint64_t hold;			/* capture: show nothing new before hw gets here */
	uint32_t lock_gen;		/* capture: the lock we configured against */
	uint64_t last_tick;		/* latest tick seen on an accepted grid */
	bool grid_fresh;		/* accept the next grid as it is (hw_params) */
};

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
	return lp->role == SHM_ROLE_PLAY ? "playback" : "capture";
}

static bool is_playback(const struct loop *lp)
{
	return lp->role == SHM_ROLE_PLAY;
}

static bool peer_alive(struct loop *lp);

/* ---- timer --------------------------------------------------------------- */

static void timer_set(struct loop *lp, uint64_t ns)
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

/*
 * Now on the cable's grid.  The shared grid is only a hint.  While we are
 * configured, the only legitimate change is a rate-shift rebase, which
 * keeps the tick count continuous at its base; a copy that jumps there,
 * whose base lies in the future (time would stand still: a hang) or that
 * puts us behind a tick we already saw is refused, and the last good copy
 * goes on counting.  The slack absorbs rounding at the rebase.
 */
static uint64_t tick_now(struct loop *lp)
{
	struct shm_grid g = lp->grid;
	uint64_t slack = lp->grid.rate / 50 + 1;
	uint64_t now, tick;

	if (shm_grid_load(lp->shared, &g) == 0) {
		now = shm_now_ns();
		tick = shm_grid_tick(&g, now);
		/* A rate-shift rebase is continuous: our copy agrees at its base. */
		uint64_t ours = shm_grid_tick(&lp->grid, g.base_ns);
		bool continuous = lp->grid_fresh ||
				  (g.base_tick + slack >= ours && g.base_tick <= ours + slack);

		/* 2^62 ticks are 190000 years at 768 kHz: beyond, sums could wrap. */
		if (g.base_ns <= now && g.base_tick < (UINT64_C(1) << 62) && continuous &&
		    tick + slack >= lp->last_tick) {
			lp->grid_fresh = false;
			lp->grid = g;
			if (tick > lp->last_tick)
				lp->last_tick = tick;
			return tick;
		}
	}
	return shm_grid_tick(&lp->grid, shm_now_ns());
}

/* The latest segment of our own timeline, or NULL. */
static const struct shm_tl_span *own_seg(const struct loop *lp)
{
	if (!lp->tl.count)
		return NULL;
	return &lp->tl.seg[(lp->tl.count - 1) % SHM_TL_SEGS];
}

static uint64_t own_base(const struct loop *lp)
{
	return is_playback(lp) ? lp->stream_base : 0;
}

/* Our hardware position at tick: frozen outside segments. */
static uint64_t own_hw_at(const struct loop *lp, uint64_t tick)
{
	const struct shm_tl_span *s = own_seg(lp);
	uint64_t end;

	if (!s)
		return lp->hw;
	end = tick < s->end_tick ? tick : s->end_tick;
	if (end < s->begin_tick)
		end = s->begin_tick;
	return s->begin_pos + (end - s->begin_tick) - own_base(lp);
}

/* The tick at which our hardware position reaches hw (open segment only). */
static bool own_tick_of(const struct loop *lp, uint64_t hw, uint64_t *tick)
{
	const struct shm_tl_span *s = own_seg(lp);

	if (!s || s->end_tick != SHM_TICK_NEVER || hw + own_base(lp) < s->begin_pos)
		return false;
	*tick = s->begin_tick + (hw + own_base(lp) - s->begin_pos);
	return true;
}

static void publish_timeline(struct loop *lp)
{
	if (is_playback(lp))
		shm_timeline_store(lp->shared, &lp->tl);
}

static void publish_state(struct loop *lp, snd_pcm_state_t state)
{
	struct shm_cable *c = lp->shared;
	uint32_t active = state == SND_PCM_STATE_RUNNING || state == SND_PCM_STATE_DRAINING;

	atomic_store_explicit(&c->end[lp->role].state, state, memory_order_relaxed);
	/* "PCM Slave Active": the playback runs and is not paused; ctl events. */
	if (is_playback(lp) && atomic_exchange(&c->slave_active, active) != active)
		atomic_fetch_add(&c->ctl_seq, 1);
}

static bool lock_matches(struct loop *lp)
{
	struct shm_cable *c = lp->shared;

	return atomic_load(&c->format) == (unsigned int)lp->io.format &&
	       atomic_load(&c->rate) == lp->io.rate && atomic_load(&c->channels) == lp->io.channels;
}

/*
 * Notify mode: a new playback relocked the cable under a running capture.
 * As snd-aloop, the capture goes to DRAINING: the client reads what is
 * left, then gets -EPIPE, and arecord/alsaloop recover or reopen.
 */
static bool capture_lost_lock(struct loop *lp)
{
	if (is_playback(lp) || atomic_load(&lp->shared->lock_gen) == lp->lock_gen)
		return false;
	return !lock_matches(lp);
}

/*
 * A blocking capture waits on the avail_min grid, the way the kernel's
 * read loop and period-interrupt hardware make it wait.  alsa-lib 1.2.8's
 * snd_pcm_read_areas() takes the L frames that are there, then polls for
 * avail_min *new* frames, where the kernel waits for min(left, avail_min):
 * a blocking readi() of one period per call would return L frames late
 * every time, and the backlog ratchets until the playback it feeds
 * underruns.  So, blocking capture only:
 *  - once the client has taken everything shown, nothing more is shown
 *    until hw reaches the next multiple of avail_min (the "hold"); this
 *    also bounds the work of a slowed process (strace, valgrind), which a
 *    frame-exact pointer lets chase a few frames per pass and never poll;
 *  - it is ready as soon as that multiple is reached, even if less than
 *    avail_min is there (what the kernel gives the rest of a read).
 * snd_pcm_avail() stays frame-exact otherwise.  Non-blocking clients poll
 * for themselves and get the kernel's rules; playback needs neither
 * (snd_pcm_write_areas() waits for avail_min before a short write).
 */
static bool waits_on_grid(const struct loop *lp)
{
	return !is_playback(lp) && !lp->io.nonblock && lp->io.state == SND_PCM_STATE_RUNNING &&
	       lp->avail_min;
}

/* The first multiple of avail_min after pos. */
static uint64_t next_grid(const struct loop *lp, uint64_t pos)
{
	return (pos / lp->avail_min + 1) * lp->avail_min;
}

/* Update what the client is shown of hw: never backwards, never ahead. */
static void show_hw(struct loop *lp)
{
	if (lp->hold && lp->hw < lp->hold && waits_on_grid(lp))
		return;
	lp->hold = 0;
	if (lp->hw > lp->shown)
		lp->shown = lp->hw;
}

/* How much avail makes the stream ready for a client at appl. */
static uint64_t ready_frames(const struct loop *lp, uint64_t appl)
{
	uint64_t to_grid;

	if (!waits_on_grid(lp))
		return lp->avail_min;
	to_grid = next_grid(lp, appl) - appl;
	return to_grid < lp->avail_min ? to_grid : lp->avail_min;
}

/* avail as the kernel defines it, from what we showed and the given appl. */
static int64_t avail_at(const struct loop *lp, uint64_t appl)
{
	if (is_playback(lp))
		return (int64_t)(lp->shown + lp->io.buffer_size) - (int64_t)appl;
	return (int64_t)lp->shown - (int64_t)appl;
}

/*
 * Arm the timer for the moment the stream next needs its client: now if it
 * is ready (or in a state poll must report), else the tick at which avail
 * reaches avail_min (or, draining, the buffer empties), else never.
 */
static void loop_arm(struct loop *lp, uint64_t appl)
{
	snd_pcm_state_t state = lp->io.state;
	uint64_t target, tick;

	switch (state) {
	case SND_PCM_STATE_PREPARED:
	case SND_PCM_STATE_RUNNING:
	case SND_PCM_STATE_PAUSED:
		if (avail_at(lp, appl) >= (int64_t)ready_frames(lp, appl)) {
			timer_set(lp, TIMER_NOW);
			return;
		}
		if (state != SND_PCM_STATE_RUNNING) {
			timer_set(lp, TIMER_OFF);
			return;
		}
		target = is_playback(lp) ? appl + lp->avail_min - lp->io.buffer_size
					 : appl + ready_frames(lp, appl);
		break;
	case SND_PCM_STATE_DRAINING:
		if (!is_playback(lp) || lp->hw >= appl) {
			timer_set(lp, TIMER_NOW);
			return;
		}
		target = appl;
		break;
	default:	/* XRUN, SETUP, DISCONNECTED...: poll reports them */
		timer_set(lp, TIMER_NOW);
		return;
	}
	if (!own_tick_of(lp, target, &tick)) {
		timer_set(lp, TIMER_NOW);
		return;
	}
	timer_set(lp, shm_grid_ns(&lp->grid, tick));
}

/*
 * Move hw to tick.  Returns -EPIPE on an xrun, the kernel's rule: avail
 * reached stop_threshold (playback ran dry, capture was not read).  The
 * timeline is closed at the exact tick of the xrun, so the capture hears
 * silence from there on and never a frame written too late.  A draining
 * playback stops where its data ends.
 */
static int advance(struct loop *lp, uint64_t tick)
{
	uint64_t hw = own_hw_at(lp, tick);
	uint64_t appl = lp->io.appl_ptr;

	/* Never backwards, whatever a hostile peer did to the shared grid. */
	if (hw < lp->hw)
		hw = lp->hw;
	int64_t limit = INT64_MAX;
	uint64_t end_tick;
	int err = 0;

	if (is_playback(lp) && lp->io.state == SND_PCM_STATE_DRAINING)
		limit = (int64_t)appl;
	else if (lp->stop_threshold < lp->boundary)
		limit = is_playback(lp) ? (int64_t)appl + (int64_t)lp->stop_threshold -
					  (int64_t)lp->io.buffer_size
					: (int64_t)appl + (int64_t)lp->stop_threshold;
	if (limit < (int64_t)lp->hw)
		limit = (int64_t)lp->hw;
	if ((int64_t)hw >= limit) {
		hw = (uint64_t)limit;
		if (own_tick_of(lp, hw, &end_tick)) {
			shm_timeline_close(&lp->tl, end_tick);
			publish_timeline(lp);
		}
		if (lp->io.state != SND_PCM_STATE_DRAINING) {
			atomic_fetch_add_explicit(&lp->shared->end[lp->role].xruns, 1,
						  memory_order_relaxed);
			publish_state(lp, SND_PCM_STATE_XRUN);
			err = -EPIPE;
		}
	}
	lp->hw = hw;
	show_hw(lp);
	return err;
}

/* ---- callbacks ----------------------------------------------------------- */

static snd_pcm_sframes_t loop_pointer(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	/*
	 * A capture drains only after losing its lock: its hw stays frozen and,
	 * once everything is read, it reports an xrun, whose recovery (prepare,
	 * start) then fails with -EIO.  (alsa-lib 1.2.8 would keep polling a
	 * capture that is DRAINING with nothing left.)
	 */
	if (io->state == SND_PCM_STATE_DRAINING && !is_playback(lp) && lp->shown == io->appl_ptr)
		return -EPIPE;
	if (io->state == SND_PCM_STATE_RUNNING ||
	    (io->state == SND_PCM_STATE_DRAINING && is_playback(lp))) {
		uint64_t tick;

		if (io->state == SND_PCM_STATE_RUNNING && capture_lost_lock(lp)) {
			/* Freeze where we are: the grid may have restarted. */
			if (own_tick_of(lp, lp->hw, &tick))
				shm_timeline_close(&lp->tl, tick);
			io->state = SND_PCM_STATE_DRAINING;
			show_hw(lp);	/* every frame up to hw may be read */
			publish_state(lp, SND_PCM_STATE_DRAINING);
			timer_set(lp, TIMER_NOW);
		} else if (advance(lp, tick_now(lp)) < 0) {
			timer_set(lp, TIMER_NOW);	/* poll must report the xrun */
			return -EPIPE;
		}
	}
	/* BOUNDARY_WA: ioplug unwraps at boundary, not at buffer_size. */
	return (snd_pcm_sframes_t)(lp->shown % lp->boundary);
}

static int loop_start(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	/* snd-aloop's loopback_check_format(): a capture cannot start on a
	 * cable a notify-mode playback has reconfigured. */
	if (!is_playback(lp) && atomic_load(&lp->shared->locked) && peer_alive(lp) &&
	    !lock_matches(lp)) {
		SNDERR("loopback subdevice %u device %u capture: the playback changed the "
		       "cable's parameters (notify mode); reopen the capture",
		       lp->keys.cfg.subdevice, lp->device);
		return -EIO;
	}
	shm_timeline_open(&lp->tl, tick_now(lp), own_base(lp) + lp->hw);
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

	if (io->state == SND_PCM_STATE_RUNNING)
		advance(lp, tick);
	/* After a drain the segment is already closed where the data ended. */
	shm_timeline_close(&lp->tl, tick);
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

	if (enable) {
		if (advance(lp, tick) < 0)
			return -EPIPE;
		shm_timeline_close(&lp->tl, tick);
		publish_state(lp, SND_PCM_STATE_PAUSED);
	} else {
		/* Resume from the frozen position: no catch-up jump. */
		shm_timeline_open(&lp->tl, tick, own_base(lp) + lp->hw);
		publish_state(lp, SND_PCM_STATE_RUNNING);
	}
	publish_timeline(lp);
	io->state = enable ? SND_PCM_STATE_PAUSED : SND_PCM_STATE_RUNNING;
	loop_arm(lp, io->appl_ptr);
	return 0;
}

static int loop_prepare(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	shm_timeline_close(&lp->tl, tick_now(lp));
	if (is_playback(lp)) {
		/* New ring positions start after everything ever written. */
		lp->stream_base = lp->write_end;
		publish_timeline(lp);
	} else {
		memset(&lp->tl, 0, sizeof(lp->tl));
	}
	lp->hw = lp->shown = lp->hold = 0;
	publish_state(lp, SND_PCM_STATE_PREPARED);
	io->state = SND_PCM_STATE_PREPARED;
	loop_arm(lp, 0);
	return 0;
}

/* Capture drain returns at once (bluez-alsa): ioplug then drops. */
static int loop_drain_capture(snd_pcm_ioplug_t *io)
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

/* Copy frames between the client's areas and the ring at ring position pos. */
static void ring_copy(struct loop *lp, bool to_ring, uint64_t pos,
		      const snd_pcm_channel_area_t *areas, snd_pcm_uframes_t offset,
		      uint32_t frames)
{
	bool fast = areas_interleaved(lp, areas);
	struct shm_span span[2];
	unsigned int n = shm_ring_spans(lp->ring, lp->frame_bytes, pos, frames, span);

	for (unsigned int i = 0; i < n; i++) {
		snd_pcm_uframes_t slot = (snd_pcm_uframes_t)(span[i].ptr - lp->ring) /
					 lp->frame_bytes;

		if (fast) {
			/* The common case: one memcpy per span. */
			uint8_t *app = (uint8_t *)areas[0].addr + areas[0].first / 8 +
				       (size_t)offset * lp->frame_bytes;

			if (to_ring)
				memcpy(span[i].ptr, app, (size_t)span[i].frames * lp->frame_bytes);
			else
				memcpy(app, span[i].ptr, (size_t)span[i].frames * lp->frame_bytes);
		} else if (to_ring) {
			snd_pcm_areas_copy(lp->ring_areas, slot, areas, offset, lp->io.channels,
					   span[i].frames, lp->io.format);
		} else {
			snd_pcm_areas_copy(areas, offset, lp->ring_areas, slot, lp->io.channels,
					   span[i].frames, lp->io.format);
		}
		offset += span[i].frames;
	}
}

static snd_pcm_sframes_t loop_transfer_playback(snd_pcm_ioplug_t *io,
						const snd_pcm_channel_area_t *areas,
						snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;
	uint64_t pos = lp->stream_base + io->appl_ptr;	/* the device position */
	uint64_t end = pos + size;

	/* size <= buffer_size <= half the ring, so one pass fits. */
	shm_ring_claim(lp->shared, end);
	ring_copy(lp, true, pos, areas, offset, (uint32_t)size);
	shm_ring_publish(lp->shared, end);
	lp->write_end = end;
	atomic_fetch_add_explicit(&lp->shared->end[lp->role].frames, size, memory_order_relaxed);
	loop_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

static void capture_silence(struct loop *lp, const snd_pcm_channel_area_t *areas,
			    snd_pcm_uframes_t offset, uint64_t frames)
{
	snd_pcm_areas_silence(areas, offset, lp->io.channels, (snd_pcm_uframes_t)frames,
			      lp->io.format);
}

/*
 * Fill frames [appl, appl + size) of our capture stream.  Each capture
 * frame has a tick (our timeline); each tick may have a playback frame (the
 * playback's timeline); that frame is in the ring if it was written and
 * not yet overwritten.  Everything else is silence, as snd-aloop gives.
 */
static snd_pcm_sframes_t loop_transfer_capture(snd_pcm_ioplug_t *io,
					       const snd_pcm_channel_area_t *areas,
					       snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;
	struct shm_timeline play;
	uint64_t pos = io->appl_ptr, left = size;
	uint64_t written = shm_ring_written(lp->shared);
	uint32_t ring_frames = shm_ring_frames(lp->frame_bytes);

	shm_timeline_load(lp->shared, &play);	/* unreadable: count 0, silence */
	while (left) {
		uint64_t tick, q = 0, run, play_run, chunk, intact;
		bool heard = false;

		/* Within one run both mappings are linear, so one answer holds. */
		if (shm_timeline_tick(&lp->tl, pos, &tick, &run)) {
			heard = shm_timeline_pos(&play, tick, &q, &play_run);
			if (play_run < run)
				run = play_run;
			if (heard && q >= written)
				heard = false;	/* never written (underrun): silence */
		}
		chunk = run < left ? run : left;
		if (!heard) {
			capture_silence(lp, areas, offset, chunk);
			goto next;
		}
		if (chunk > written - q)
			chunk = written - q;
		if (chunk > ring_frames)
			chunk = ring_frames;
		ring_copy(lp, false, q, areas, offset, (uint32_t)chunk);
		/* Frames the writer may have overwritten while we copied. */
		intact = shm_ring_intact_from(lp->shared, lp->frame_bytes);
		if (q < intact)
			capture_silence(lp, areas, offset, intact - q < chunk ? intact - q : chunk);
next:
		pos += chunk;
		offset += chunk;
		left -= chunk;
	}
	atomic_fetch_add_explicit(&lp->shared->end[lp->role].frames, size, memory_order_relaxed);
	/* Took everything shown: hold until the next grid point (show_hw). */
	if (waits_on_grid(lp) && io->appl_ptr + size >= lp->shown)
		lp->hold = next_grid(lp, io->appl_ptr + size);
	if (io->access == SND_PCM_ACCESS_RW_INTERLEAVED ||
	    io->access == SND_PCM_ACCESS_RW_NONINTERLEAVED)
		loop_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

static int loop_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfds, unsigned int nfds,
			     unsigned short *revents)
{
	struct loop *lp = io->private_data;
	unsigned short ready = is_playback(lp) ? POLLOUT : POLLIN;
	snd_pcm_sframes_t avail;
	uint64_t expirations;

	(void)pfds;
	(void)nfds;
	/* Syncs the pointer; also lets ioplug finish a non-blocking drain. */
	avail = snd_pcm_avail_update(io->pcm);
	*revents = 0;
	switch (io->state) {
	case SND_PCM_STATE_PREPARED:
	case SND_PCM_STATE_RUNNING:
	case SND_PCM_STATE_PAUSED:
		if (avail >= (snd_pcm_sframes_t)ready_frames(lp, io->appl_ptr))
			*revents = ready;
		else if (avail < 0)
			*revents = ready | POLLERR;
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
	/*
	 * Level-triggered: while ready the expiry stays unread, so the fd stays
	 * readable; only a stream that is not ready consumes it before
	 * loop_arm() sets the next deadline.
	 */
	if (!*revents && read(lp->timer_fd, &expirations, sizeof(expirations)) > 0)
		lp->armed_ns = TIMER_OFF;
	loop_arm(lp, io->appl_ptr);
	return 0;
}

static bool peer_alive(struct loop *lp)
{
	return shm_seg_end_held(&lp->seg, lp->cable, lp->role ^ 1u);
}

static void format_lock_desc(char *buf, size_t len, unsigned int format, unsigned int rate,
			     unsigned int channels)
{
	/* The number may come from the segment: alsa-lib checks only > LAST. */
	const char *name = format <= SND_PCM_FORMAT_LAST ?
			   snd_pcm_format_name((snd_pcm_format_t)format) : NULL;

	if (name)
		snprintf(buf, len, "%s %u Hz %u ch", name, rate, channels);
	else
		snprintf(buf, len, "format %u %u Hz %u ch", format, rate, channels);
}

static int loop_hw_params(snd_pcm_ioplug_t *io, snd_pcm_hw_params_t *params)
{
	struct loop *lp = io->private_data;
	struct shm_cable *c = lp->shared;
	unsigned int width = (unsigned int)snd_pcm_format_physical_width(io->format);
	bool noninterleaved, notify;
	int err;

	(void)params;
	if (io->channels > LOOP_CHANNELS_MAX || width % 8)
		return -EINVAL;
	lp->frame_bytes = width / 8 * io->channels;
	for (unsigned int ch = 0; ch < io->channels; ch++) {
		/* The ring is always interleaved. */
		lp->ring_areas[ch].addr = lp->ring;
		lp->ring_areas[ch].first = ch * width;
		lp->ring_areas[ch].step = lp->frame_bytes * 8;
	}
	noninterleaved = io->access == SND_PCM_ACCESS_RW_NONINTERLEAVED ||
			 io->access == SND_PCM_ACCESS_MMAP_NONINTERLEAVED;

	err = shm_seg_admin_lock(&lp->seg);
	if (err < 0) {
		SNDERR("loopback subdevice %u: %s: admin lock busy: %s", lp->keys.cfg.subdevice,
		       lp->seg.path, snd_strerror(err));
		return err;
	}
	notify = is_playback(lp) && atomic_load(&c->notify);
	if (atomic_load(&c->locked) && peer_alive(lp) && !lock_matches(lp) && !notify) {
		char have[64], want[64];

		format_lock_desc(have, sizeof(have), atomic_load(&c->format),
				 atomic_load(&c->rate), atomic_load(&c->channels));
		format_lock_desc(want, sizeof(want), io->format, io->rate, io->channels);
		shm_seg_admin_unlock(&lp->seg);
		SNDERR("loopback subdevice %u device %u %s: the cable is locked to %s by its "
		       "other end, %s asked; use the plug%s PCM to convert", lp->keys.cfg.subdevice,
		       lp->device, dir_name(lp), have, want, lp->device ? "loopcap" : "loop");
		return -EINVAL;
	}
	if (!atomic_load(&c->locked) || !peer_alive(lp) || (notify && !lock_matches(lp))) {
		/*
		 * First to configure, alone, or a notify-mode playback: the cable
		 * takes our parameters.  Only then may the grid restart: nobody
		 * else can be running on it with other parameters.
		 */
		bool regrid = !atomic_load(&c->locked) || !peer_alive(lp) ||
			      atomic_load(&c->rate) != io->rate;

		atomic_store(&c->format, (unsigned int)io->format);
		atomic_store(&c->rate, io->rate);
		atomic_store(&c->channels, io->channels);
		atomic_store(&c->access, noninterleaved);
		if (regrid) {
			/*
			 * Ticks restart: a timeline on the old grid would map new
			 * ticks onto old audio.  Any playback that wrote it is
			 * gone (or is us, or is relocking in notify mode).
			 */
			static const struct shm_timeline empty;

			shm_grid_reset(c, shm_now_ns());
			shm_timeline_store(c, &empty);
			if (is_playback(lp))
				memset(&lp->tl, 0, sizeof(lp->tl));
		}
		atomic_store(&c->locked, 1);
		atomic_fetch_add(&c->lock_gen, 1);
	}
	lp->lock_gen = atomic_load(&c->lock_gen);
	shm_seg_admin_unlock(&lp->seg);

	/* The grid may have restarted under the lock: accept it afresh. */
	lp->grid = (struct shm_grid){ .rate = io->rate, .shift = SHM_SHIFT_NOMINAL,
				      .base_ns = shm_now_ns() };
	lp->last_tick = 0;
	lp->grid_fresh = true;
	tick_now(lp);
	atomic_store(&c->end[lp->role].period_frames, (uint32_t)io->period_size);
	atomic_store(&c->end[lp->role].buffer_frames, (uint32_t)io->buffer_size);
	if (is_playback(lp)) {
		atomic_store(&c->slave_format, (unsigned int)io->format);
		atomic_store(&c->slave_rate, io->rate);
		atomic_store(&c->slave_channels, io->channels);
		atomic_store(&c->slave_access, noninterleaved);
		atomic_fetch_add(&c->ctl_seq, 1);
	}
	publish_state(lp, SND_PCM_STATE_SETUP);
	return 0;
}

static int loop_sw_params(snd_pcm_ioplug_t *io, snd_pcm_sw_params_t *params)
{
	struct loop *lp = io->private_data;

	/* Read from params: pcm->boundary etc. are updated only after us. */
	snd_pcm_sw_params_get_avail_min(params, &lp->avail_min);
	snd_pcm_sw_params_get_stop_threshold(params, &lp->stop_threshold);
	snd_pcm_sw_params_get_boundary(params, &lp->boundary);
	if (!lp->avail_min)
		lp->avail_min = 1;
	if (!lp->boundary)
		lp->boundary = io->buffer_size;
	return 0;
}

/* Free the cable if we were its last end (snd-aloop: free_cable). */
static void cable_release_if_alone(struct loop *lp)
{
	if (!peer_alive(lp))
		atomic_store(&lp->shared->locked, 0);
}

static int loop_close(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	if (lp->seg.hdr) {
		shm_timeline_close(&lp->tl, tick_now(lp));
		publish_timeline(lp);
		if (shm_seg_admin_lock(&lp->seg) == 0) {
			cable_release_if_alone(lp);
			atomic_store(&lp->shared->end[lp->role].pid, 0);
			publish_state(lp, SND_PCM_STATE_OPEN);
			shm_seg_end_release(&lp->seg, lp->cable, lp->role);
			shm_seg_admin_unlock(&lp->seg);
		}
		shm_seg_close(&lp->seg);
	}
	if (lp->timer_fd >= 0)
		close(lp->timer_fd);
	free(lp);
	return 0;
}

/* What both directions share; the tables differ in transfer and drain. */
#define LOOP_COMMON_CALLBACKS				\
	.start = loop_start,				\
	.stop = loop_stop,				\
	.pointer = loop_pointer,			\
	.close = loop_close,				\
	.hw_params = loop_hw_params,			\
	.sw_params = loop_sw_params,			\
	.prepare = loop_prepare,			\
	.pause = loop_pause,				\
	.poll_revents = loop_poll_revents

static const snd_pcm_ioplug_callback_t loop_playback_callback = {
	LOOP_COMMON_CALLBACKS,
	.transfer = loop_transfer_playback,
	/* no .drain: ioplug drains by polling, which our timer serves */
};

static const snd_pcm_ioplug_callback_t loop_capture_callback = {
	LOOP_COMMON_CALLBACKS,
	.transfer = loop_transfer_capture,
	.drain = loop_drain_capture,	/* returns at once (bluez-alsa) */
};

/* ---- constraints ---------------------------------------------------------- */

static int loop_constrain(struct loop *lp, snd_pcm_format_t format, unsigned int rate,
			  unsigned int channels)
{
	snd_pcm_ioplug_t *io = &lp->io;
	unsigned int one_format = (unsigned int)format;
	int err;

	err = snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_ACCESS,
					    sizeof(loop_accesses) / sizeof(loop_accesses[0]),
					    loop_accesses);
	if (err >= 0)
		err = format != SND_PCM_FORMAT_UNKNOWN ?
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT, 1, &one_format) :
		      snd_pcm_ioplug_set_param_list(io, SND_PCM_IOPLUG_HW_FORMAT,
						    sizeof(loop_formats) / sizeof(loop_formats[0]),
						    loop_formats);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_CHANNELS,
						      channels ? channels : 1,
						      channels ? channels : LOOP_CHANNELS_MAX);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_RATE,
						      rate ? rate : LOOP_RATE_MIN,
						      rate ? rate : LOOP_RATE_MAX);
	/*
	 * The ring must hold the playback's queue plus the capture's unread
	 * frames: each end gets at most half of it.
	 */
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_BUFFER_BYTES, 64,
						      SHM_RING_BYTES / 2);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIOD_BYTES, 16,
						      SHM_RING_BYTES / 4);
	if (err >= 0)
		err = snd_pcm_ioplug_set_param_minmax(io, SND_PCM_IOPLUG_HW_PERIODS, 1, 1024);
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
			if (loop_conf_long(n, "loopback", id, 0, SHM_SUBDEVICE_MAX, &v) < 0)
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
		} else if (!strcmp(id, "rate")) {
			if (loop_conf_long(n, "loopback", id, LOOP_RATE_MIN, LOOP_RATE_MAX, &v) < 0)
				return -EINVAL;
			lp->fix_rate = (unsigned int)v;
		} else if (!strcmp(id, "channels")) {
			if (loop_conf_long(n, "loopback", id, 1, LOOP_CHANNELS_MAX, &v) < 0)
				return -EINVAL;
			lp->fix_channels = (unsigned int)v;
		} else {
			SNDERR("loopback: unknown field '%s' (known: subdevice device card format "
			       "rate channels dir perm group)", id);
			return -EINVAL;
		}
	}
	return 0;
}

/* Attach to the cable: claim our end, free a stale lock, read the peer's. */
static int loop_attach(struct loop *lp, snd_pcm_format_t *format, unsigned int *rate,
		       unsigned int *channels)
{
	struct shm_cable *c = lp->shared;
	char have[64];
	int err;

	err = shm_seg_admin_lock(&lp->seg);
	if (err < 0) {
		SNDERR("loopback subdevice %u: %s: admin lock busy: %s", lp->keys.cfg.subdevice,
		       lp->seg.path, snd_strerror(err));
		return err;
	}
	err = shm_seg_end_claim(&lp->seg, lp->cable, lp->role);
	if (err < 0) {
		unsigned int pid = atomic_load(&c->end[lp->role].pid);

		shm_seg_admin_unlock(&lp->seg);
		if (err == -EBUSY)
			SNDERR("loopback card %s subdevice %u device %u %s is busy (in use by "
			       "pid %u)", lp->keys.card, lp->keys.cfg.subdevice, lp->device, dir_name(lp),
			       pid);
		else
			SNDERR("loopback subdevice %u: cannot lock %s: %s", lp->keys.cfg.subdevice,
			       lp->seg.path, snd_strerror(err));
		return err;
	}
	if (!shm_seg_linked(&lp->seg)) {
		/* gc removed the file between our open and our claim: reopen. */
		shm_seg_end_release(&lp->seg, lp->cable, lp->role);
		shm_seg_admin_unlock(&lp->seg);
		return -ESTALE;
	}
	atomic_store(&c->end[lp->role].pid, (uint32_t)getpid());
	atomic_store(&c->end[lp->role].frames, 0);
	atomic_store(&c->end[lp->role].xruns, 0);
	publish_state(lp, SND_PCM_STATE_OPEN);
	if (!peer_alive(lp))
		atomic_store(&c->locked, 0);	/* free, or left by a dead end */
	if (is_playback(lp)) {
		/* A dead predecessor's timeline must not keep "playing". */
		lp->write_end = shm_ring_written(c);
		shm_timeline_store(c, &lp->tl);
	}
	*format = SND_PCM_FORMAT_UNKNOWN;
	*rate = *channels = 0;
	/* Notify mode frees the playback (the 2026 snd-aloop fix); a capture
	 * is always pinned. */
	if (atomic_load(&c->locked) && !(is_playback(lp) && atomic_load(&c->notify))) {
		*format = (snd_pcm_format_t)atomic_load(&c->format);
		*rate = atomic_load(&c->rate);
		*channels = atomic_load(&c->channels);
	}
	shm_seg_admin_unlock(&lp->seg);

	/* The peer may have set nonsense: only constrain to values we offer. */
	if (*format != SND_PCM_FORMAT_UNKNOWN && (*rate < LOOP_RATE_MIN ||
	    *rate > LOOP_RATE_MAX || !*channels || *channels > LOOP_CHANNELS_MAX ||
	    *format < 0 || *format > SND_PCM_FORMAT_LAST))
		*format = SND_PCM_FORMAT_UNKNOWN, *rate = *channels = 0;
	if ((lp->fix_format != SND_PCM_FORMAT_UNKNOWN && *format != SND_PCM_FORMAT_UNKNOWN &&
	     lp->fix_format != *format) ||
	    (lp->fix_rate && *rate && lp->fix_rate != *rate) ||
	    (lp->fix_channels && *channels && lp->fix_channels != *channels)) {
		format_lock_desc(have, sizeof(have), *format, *rate, *channels);
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

/*
 * pcm.name {
 *	type loopback
 *	subdevice INT	# 0..4095, the cable pair (default 0)
 *	device INT	# 0 (loop) or 1 (loopcap), as hw:Loopback,D (default 0)
 *	card STR	# independent set of cables, like a second card ("0")
 *	format STR	# fix the cable's format in advance (optional)
 *	rate INT	# fix the rate (optional)
 *	channels INT	# fix the channels (optional)
 *	dir STR		# segment directory instead of POSIX shm (optional)
 *	perm INT	# mode of a new segment, default 0600
 *	group STR|INT	# group of a new segment
 * }
 */
SND_PCM_PLUGIN_DEFINE_FUNC(loopback)
{
	struct loop *lp;
	snd_pcm_format_t format;
	unsigned int rate, channels;
	char why[768];
	int err;

	(void)root;
	lp = calloc(1, sizeof(*lp));
	if (!lp)
		return -ENOMEM;
	lp->timer_fd = -1;
	lp->seg.fd = -1;
	err = loop_parse(lp, conf);
	if (err < 0)
		goto fail;
	if (stream == SND_PCM_STREAM_PLAYBACK) {
		lp->cable = lp->device;
		lp->role = SHM_ROLE_PLAY;
	} else {
		lp->cable = lp->device ^ 1u;
		lp->role = SHM_ROLE_CAP;
	}
	for (int tries = 0; ; tries++) {
		err = shm_seg_open(&lp->seg, &lp->keys.cfg, why, sizeof(why));
		if (err < 0) {
			SNDERR("loopback card %s subdevice %u: %s", lp->keys.card, lp->keys.cfg.subdevice,
			       why);
			goto fail;
		}
		lp->shared = shm_seg_cable(&lp->seg, lp->cable);
		lp->ring = shm_seg_ring(&lp->seg, lp->cable);
		err = loop_attach(lp, &format, &rate, &channels);
		if (err != -ESTALE)
			break;
		if (tries == 3) {
			SNDERR("loopback card %s subdevice %u: %s keeps being removed under us",
			       lp->keys.card, lp->keys.cfg.subdevice, lp->seg.path);
			break;
		}
		shm_seg_close(&lp->seg);
	}
	if (err < 0)
		goto fail;
	lp->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lp->timer_fd < 0) {
		err = -errno;
		SNDERR("loopback: timerfd_create: %s", strerror(errno));
		goto fail;
	}

	lp->io.version = SND_PCM_IOPLUG_VERSION;
	lp->io.name = "ALSA <-> Loopback (user space)";
	lp->io.callback = stream == SND_PCM_STREAM_PLAYBACK ? &loop_playback_callback
							     : &loop_capture_callback;
	lp->io.private_data = lp;
	lp->io.poll_fd = lp->timer_fd;
	lp->io.poll_events = POLLIN;
	lp->io.mmap_rw = 0;
	/*
	 * No FLAG_MONOTONIC: ioplug never sets INFO_MONOTONIC, so aplay would
	 * compare monotonic stamps with gettimeofday() ("underrun!!! (at least
	 * 1795635478196 ms long)").  Clients may still ask for monotonic stamps.
	 */
	lp->io.flags = SND_PCM_IOPLUG_FLAG_BOUNDARY_WA;
	lp->boundary = 1;
	err = snd_pcm_ioplug_create(&lp->io, name, stream, mode);
	if (err < 0)
		goto fail;
	/* create() does not copy the open mode (ioplug.md §1). */
	lp->io.nonblock = !!(mode & SND_PCM_NONBLOCK);
	err = loop_constrain(lp, format, rate, channels);
	if (err < 0) {
		snd_pcm_ioplug_delete(&lp->io);	/* calls loop_close() */
		return err;
	}
	*pcmp = lp->io.pcm;
	return 0;

fail:
	if (lp->seg.hdr && lp->shared && atomic_load(&lp->shared->end[lp->role].pid) ==
	    (uint32_t)getpid())
		atomic_store(&lp->shared->end[lp->role].pid, 0);
	shm_seg_close(&lp->seg);
	if (lp->timer_fd >= 0)
		close(lp->timer_fd);
	free(lp);
	return err;
}

SND_PCM_PLUGIN_SYMBOL(loopback);
