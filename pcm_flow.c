// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * pcm_flow.c - the PCM plugin's lossless clock (key "clock lossless"):
 * its ioplug callbacks, chosen at open (pcm_loop.h).
 *
 * A lossless cable has one playback and one capture and no clock: each
 * end's hw is the other end's progress, nothing is dropped or invented,
 * both run as fast as the slower one (loop_flow.h has the rules, here the
 * segment and the doorbells feed them).  The end of the stream, or a
 * reader gone, is -ENODEV (DISCONNECTED) for the client.
 *
 * Wake-ups.  An end that is not ready sleeps on its doorbell (shm_flow.h),
 * which the other end rings after it moved; the poll fd is an epoll fd
 * over the doorbell and the timer, which is "now" while the stream is
 * ready and otherwise a watchdog for the other end's death.  Two ends
 * that answer each other quickly spin instead (lf_cool, lf_woke).
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>

#include "pcm_loop.h"
#include "shm_flow.h"

static uint64_t flow_read_pos(struct loop *lp)
{
	return shm_flow_read_pos(&lp->seg, lp->place.cable);
}

static bool flow_done(struct loop *lp)
{
	return shm_flow_done(&lp->seg, lp->place.cable);
}

/* hw follows the other end: what the capture took, or what the playback wrote. */
static void flow_update(struct loop *lp, uint64_t appl)
{
	lf_update(&lp->pos, appl, is_playback(lp) ? flow_read_pos(lp)
						  : shm_ring_written(&lp->ring));
}

/*
 * Has the other end gone?  The playback: its capture left after it came.
 * The capture: its playback said it is done, or died after it came.  With
 * look, also ask the lock (a system call: only while waiting).
 */
static bool flow_peer_gone(struct loop *lp, bool look)
{
	if (lf_peer_ended(&lp->pos, flow_done(lp)))
		return true;
	return look && lf_peer_died(&lp->flow, &lp->pos, peer_alive(lp));
}

static void flow_disconnect(struct loop *lp)
{
	snd_pcm_ioplug_set_state(&lp->io, SND_PCM_STATE_DISCONNECTED);
	publish_state(lp, SND_PCM_STATE_DISCONNECTED);
	timer_set(lp, TIMER_NOW);
}

/* The kernel's readiness, plus: a capture whose playback is gone reads the tail. */
static bool flow_ready(struct loop *lp, uint64_t appl)
{
	return lf_ready(&lp->pos, lc_state_of(lp->io.state), appl, flow_done(lp));
}

/*
 * Arm the timer: a lossless end has no moment at which it next needs its
 * client.  It is ready now, or its doorbell will ring; the timer then only
 * watches for the other end's death.  Hot: poll returns at once, and
 * flow_poll_revents() spins (flow_spin).
 */
static void flow_arm(struct loop *lp, uint64_t appl)
{
	timer_set(lp, lf_wake(&lp->flow, flow_ready(lp, appl), lp->armed_ns, shm_now_ns()));
}

/* After our move: ring the other end if it waits for us. */
static void flow_wake_peer(struct loop *lp)
{
	shm_flow_wake(&lp->seg, lp->place.cable, lp->place.role ^ 1u, lp->peer_bell_fd);
}

/* CPUs we may run on (a container or taskset may give us fewer than exist). */
static int usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 1;
	return CPU_COUNT(&set);
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#endif
}

/* Not ready, but the other end is quick: watch it for LOOP_FLOW_SPIN_NS. */
static bool flow_spin(struct loop *lp)
{
	uint64_t start = shm_now_ns();

	if (!lp->flow.spin_hot)
		return false;
	do {
		for (int i = 0; i < 64; i++)
			cpu_relax();
		flow_update(lp, lp->io.appl_ptr);
		if (flow_ready(lp, lp->io.appl_ptr))
			return true;
	} while (lf_spin_on(&lp->flow, start, shm_now_ns()));
	return false;
}

/*
 * We wait for the other end (from now, if not already: flow_woke() times
 * the wait).  Make our doorbell ring at its next move: empty it if a ring
 * may be in it, then say we sleep.  Nothing to do while we are still said
 * to sleep: the other end clears that flag when it rings, so nothing rang.
 */
static void flow_listen(struct loop *lp)
{
	lf_listen(&lp->flow, shm_now_ns());
	if (shm_flow_sleeping(&lp->seg, lp->place.cable, lp->place.role))
		return;
	if (lp->bell_armed)
		shm_bell_drain(lp->bell_fd);
	shm_flow_sleep(&lp->seg, lp->place.cable, lp->place.role, true);
	lp->bell_armed = true;
}

/*
 * After a position update: not ready and cold (lf_cool), listen for the
 * other end and look again, and keep the timer on the watchdog.  Then our
 * fd is readable exactly when there is something to do, also for a client
 * that polls and never asks flow_poll_revents().
 */
static void flow_cool(struct loop *lp, uint64_t appl)
{
	if (lf_cool(&lp->flow, flow_ready(lp, appl), shm_now_ns()) != LF_COOL_LISTEN)
		return;
	flow_listen(lp);
	flow_update(lp, appl);	/* it may have moved before it saw our flag */
	flow_arm(lp, appl);
}

/* Ready again after a sleep: was the other end quick?  Then spin next time. */
static void flow_woke(struct loop *lp)
{
	lf_woke(&lp->flow, shm_now_ns());
}

/*
 * Not ready: empty our doorbell, say we sleep, and look again (the other
 * end may have moved in between; it rings only sleepers).  Still not
 * ready: is the other end gone?  Returns whether the stream is ready now.
 */
static bool flow_wait(struct loop *lp)
{
	bool ready;

	flow_listen(lp);
	flow_update(lp, lp->io.appl_ptr);
	ready = flow_ready(lp, lp->io.appl_ptr);
	if (!ready && flow_peer_gone(lp, true)) {
		if (lf_over(&lp->pos, lp->io.appl_ptr))
			flow_disconnect(lp);
		ready = true;
	}
	if (ready)
		shm_flow_sleep(&lp->seg, lp->place.cable, lp->place.role, false);
	return ready;
}

/*
 * Our doorbell and the other end's, and one descriptor to poll for both
 * our doorbell and our timer (ioplug polls one fd; an epoll fd is readable
 * while any descriptor in it is).
 */
int flow_open(struct loop *lp, char *why, size_t why_len)
{
	struct epoll_event ev = { .events = EPOLLIN };

	lp->bell_fd = shm_bell_open(&lp->seg, lp->place.cable, lp->place.role, why, why_len);
	if (lp->bell_fd < 0)
		return lp->bell_fd;
	lp->peer_bell_fd = shm_bell_open(&lp->seg, lp->place.cable, lp->place.role ^ 1u, why,
					 why_len);
	if (lp->peer_bell_fd < 0)
		return lp->peer_bell_fd;
	lp->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
	if (lp->epoll_fd < 0 || epoll_ctl(lp->epoll_fd, EPOLL_CTL_ADD, lp->timer_fd, &ev) < 0 ||
	    epoll_ctl(lp->epoll_fd, EPOLL_CTL_ADD, lp->bell_fd, &ev) < 0) {
		int err = errno;

		snprintf(why, why_len, "epoll: %s", strerror(err));
		return -err;
	}
	lp->io.poll_fd = lp->epoll_fd;
	lf_init(&lp->flow, (unsigned int)usable_cpus());
	return 0;
}

/* Fill frames [appl, appl + size) of a lossless capture: all written. */
static void flow_read(struct loop *lp, const snd_pcm_channel_area_t *areas,
		      snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	uint64_t q = lp->pos.base + lp->io.appl_ptr, intact;

	ring_copy(lp, &lp->ring, false, q, areas, offset, (uint32_t)size);
	/* Only a hostile playback writes past read_pos: then silence, never garbage. */
	intact = shm_ring_intact_from(&lp->ring, lp->frame_bytes);
	if (q < intact)
		capture_silence(lp, areas, offset, intact - q < size ? intact - q : size);
	shm_flow_set_read_pos(&lp->seg, lp->place.cable, q + size);
	flow_wake_peer(lp);
}

/* A playback rewound past what the capture took (lf_overrewound): -EPIPE. */
static int flow_overrewound(struct loop *lp)
{
	SNDERR("loopback card %s subdevice %u device %u playback: rewound %llu frames past "
	       "what the capture already took; a lossless cable cannot take frames back "
	       "(stream stopped: XRUN)", lp->keys.card, lp->keys.cfg.subdevice, lp->device,
	       (unsigned long long)(lf_taken(&lp->pos, flow_read_pos(lp)) - lp->io.appl_ptr));
	snd_pcm_ioplug_set_state(&lp->io, SND_PCM_STATE_XRUN);
	publish_state(lp, SND_PCM_STATE_XRUN);
	timer_set(lp, TIMER_NOW);
	return -EPIPE;
}

/*
 * snd_pcm_reset() (loop_reset_seen): a playback's queue is what the
 * capture has not taken, which the next write replaces, as a rewind
 * would; a capture gives the rest of its backlog up, so the playback gets
 * its room (lf_reset).
 */
static void flow_sync_reset(struct loop *lp)
{
	snd_pcm_ioplug_t *io = &lp->io;

	if (!loop_reset_seen(lp))
		return;
	lf_reset(&lp->pos, flow_read_pos(lp));
	lp->last_ptr = io->hw_ptr;
	lp->appl_seen = io->appl_ptr;
	if (!is_playback(lp)) {
		shm_flow_set_read_pos(&lp->seg, lp->place.cable, lp->pos.base + io->appl_ptr);
		flow_wake_peer(lp);
	}
	flow_arm(lp, io->appl_ptr);
}

/* ---- callbacks ----------------------------------------------------------- */

static snd_pcm_sframes_t flow_position(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	struct lc_end *pos = &lp->pos;

	if (lf_overrewound(pos, io->appl_ptr, flow_read_pos(lp)))
		return flow_overrewound(lp);
	/*
	 * A draining playback writes nothing more: the stream ends here,
	 * so the capture must take the tail even if it is shorter than
	 * its avail_min (else each would wait for the other).
	 */
	if (lf_says_done(pos, lc_state_of(io->state), flow_done(lp))) {
		shm_flow_set_done(&lp->seg, lp->place.cable, true);
		flow_wake_peer(lp);
	}
	if (io->state == SND_PCM_STATE_RUNNING || io->state == SND_PCM_STATE_DRAINING) {
		flow_update(lp, io->appl_ptr);
		flow_cool(lp, io->appl_ptr);
		/* Everything read and the playback is done: the end of the stream. */
		if (lf_read_to_end(pos, lc_state_of(io->state), io->appl_ptr, flow_done(lp)))
			flow_disconnect(lp);
	}
	/* BOUNDARY_WA: ioplug unwraps at boundary, not at buffer_size. */
	return (snd_pcm_sframes_t)(pos->shown % pos->boundary);
}

static snd_pcm_sframes_t flow_pointer(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	snd_pcm_sframes_t ptr;

	flow_sync_reset(lp);
	ptr = flow_position(io);
	if (ptr >= 0)
		lp->last_ptr = (snd_pcm_uframes_t)ptr;	/* ioplug's hw from now */
	lp->appl_seen = io->appl_ptr;
	return ptr;
}

static int flow_start(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;
	int err;

	flow_sync_reset(lp);
	err = loop_start_check(lp);
	if (err < 0)
		return err;
	lf_start(&lp->flow, peer_alive(lp));	/* its death ends our stream from now on */
	publish_state(lp, SND_PCM_STATE_RUNNING);
	/* ioplug sets RUNNING after we return; arm as if it had. */
	io->state = SND_PCM_STATE_RUNNING;
	flow_arm(lp, io->appl_ptr);
	return 0;
}

static int flow_stop(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	flow_sync_reset(lp);
	lp->reset_hold = false;
	publish_state(lp, SND_PCM_STATE_SETUP);
	/* Leave the fd ready: a client polling after drop must not hang. */
	timer_set(lp, TIMER_NOW);
	return 0;
}

/* No clock: a paused end simply moves no frames. */
static int flow_pause(snd_pcm_ioplug_t *io, int enable)
{
	struct loop *lp = io->private_data;

	flow_sync_reset(lp);
	lp->reset_hold = false;
	publish_state(lp, enable ? SND_PCM_STATE_PAUSED : SND_PCM_STATE_RUNNING);
	io->state = enable ? SND_PCM_STATE_PAUSED : SND_PCM_STATE_RUNNING;
	flow_arm(lp, io->appl_ptr);
	return 0;
}

static int flow_prepare(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	loop_prepare_pos(lp);
	/* A capture starts at the oldest frame nobody took: nothing is lost. */
	if (lf_prepare(&lp->pos, flow_read_pos(lp), shm_ring_written(&lp->ring)))
		shm_flow_set_done(&lp->seg, lp->place.cable, false);
	loop_prepare_publish(lp);
	flow_arm(lp, 0);
	return 0;
}

static snd_pcm_sframes_t flow_transfer_playback(snd_pcm_ioplug_t *io,
						const snd_pcm_channel_area_t *areas,
						snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;

	flow_sync_reset(lp);
	if (lf_overrewound(&lp->pos, io->appl_ptr, flow_read_pos(lp)))
		return flow_overrewound(lp);
	loop_write(lp, areas, offset, size);
	shm_end_add_frames(&lp->seg, &lp->place, size);
	flow_wake_peer(lp);
	/*
	 * Not ready now: listen for the other end from here, or a doorbell
	 * rung before would leave our fd readable with nothing to do for a
	 * client that polls next.
	 */
	flow_cool(lp, io->appl_ptr + size);
	flow_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

static snd_pcm_sframes_t flow_transfer_capture(snd_pcm_ioplug_t *io,
					       const snd_pcm_channel_area_t *areas,
					       snd_pcm_uframes_t offset, snd_pcm_uframes_t size)
{
	struct loop *lp = io->private_data;

	flow_sync_reset(lp);
	lp->appl_seen = io->appl_ptr + size;
	flow_read(lp, areas, offset, size);
	shm_end_add_frames(&lp->seg, &lp->place, size);
	flow_cool(lp, io->appl_ptr + size);	/* as the playback's transfer */
	flow_arm(lp, io->appl_ptr + size);
	return (snd_pcm_sframes_t)size;
}

/* Ready, or spin, or sleep on our doorbell; an error state is ready|ERR. */
static int flow_poll_revents(snd_pcm_ioplug_t *io, struct pollfd *pfds, unsigned int nfds,
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
	if (avail < 0 || flow_ready(lp, io->appl_ptr) || flow_spin(lp) || flow_wait(lp)) {
		flow_woke(lp);
		*revents = ready;
		if (avail < 0 || (io->state != SND_PCM_STATE_PREPARED &&
				  io->state != SND_PCM_STATE_RUNNING &&
				  io->state != SND_PCM_STATE_PAUSED &&
				  io->state != SND_PCM_STATE_DRAINING))
			*revents |= POLLERR;
	}
	loop_timer_read(lp, *revents);
	flow_arm(lp, io->appl_ptr);
	return 0;
}

/* A playback's close is the end of the stream; either way, wake the other end. */
static int flow_close(snd_pcm_ioplug_t *io)
{
	struct loop *lp = io->private_data;

	if (lp->seg.hdr && is_playback(lp))
		shm_flow_set_done(&lp->seg, lp->place.cable, true);
	if (lp->seg.hdr && lp->peer_bell_fd >= 0)
		flow_wake_peer(lp);
	return loop_close(io);
}

#define FLOW_CALLBACKS					\
	LOOP_SHARED_CALLBACKS,				\
	.start = flow_start,				\
	.stop = flow_stop,				\
	.pointer = flow_pointer,			\
	.close = flow_close,				\
	.prepare = flow_prepare,			\
	.pause = flow_pause,				\
	.poll_revents = flow_poll_revents

const snd_pcm_ioplug_callback_t flow_playback_callback = {
	FLOW_CALLBACKS,
	.transfer = flow_transfer_playback,
	/* no .drain: ioplug drains by polling, which our doorbell and timer serve */
};

const snd_pcm_ioplug_callback_t flow_capture_callback = {
	FLOW_CALLBACKS,
	.transfer = flow_transfer_capture,
	.drain = loop_drain_capture,	/* returns at once (bluez-alsa) */
};
