// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * shm_cable.c - a cable's ends, its parameter lock (the lock rule) and
 * snd-aloop's controls.
 *
 * The only code that writes those fields.  "Admin" functions take the
 * segment's admin lock themselves; the others are single atomic accesses,
 * safe anywhere.
 */
#include "shm_internal.h"

#include <errno.h>
#include <string.h>

static struct shm_end *place_end(struct shm_seg *seg, const struct shm_place *pl)
{
	struct shm_cable *c = shm_seg_cable(seg, pl->cable);

	if (pl->role == SHM_ROLE_PLAY)
		return &c->play[pl->slot % SHM_SLOTS].end;
	return &c->cap[pl->slot % SHM_SLOTS];
}

bool shm_cable_play_shared(struct shm_seg *seg, unsigned int cable)
{
	return atomic_load_explicit(&shm_seg_cable(seg, cable)->play_shared,
				    memory_order_acquire) != 0;
}

static void lock_load(struct shm_cable *c, struct shm_params *p)
{
	p->format = atomic_load(&c->format);
	p->rate = atomic_load(&c->rate);
	p->channels = atomic_load(&c->channels);
	p->access = atomic_load(&c->access);
	p->clock = atomic_load(&c->clock);
}

static void bump(_Atomic uint32_t *counter)
{
	atomic_fetch_add_explicit(counter, 1, memory_order_release);
}

/* The pid of some live opener of the end (for messages). */
static uint32_t some_holder(struct shm_seg *seg, unsigned int cable, unsigned int role)
{
	struct shm_place pl = { .cable = cable, .role = role };

	for (pl.slot = 0; pl.slot < SHM_SLOTS; pl.slot++)
		if (shm_place_held(seg, &pl))
			return atomic_load(&place_end(seg, &pl)->pid);
	return 0;
}

static uint32_t ring_bytes(struct shm_cable *c)
{
	uint32_t bytes = atomic_load(&c->ring_bytes);

	return bytes > SHM_SLOT_RING_MAX ? SHM_SLOT_RING_MAX : bytes;
}

/*
 * Under the admin lock, with nobody else attached to the cable: give its
 * rings' pages back.  Its timelines go first: a capture or a tap reads a
 * ring only where a timeline says a playback wrote.
 */
static void rings_free(struct shm_seg *seg, unsigned int cable)
{
	static const struct shm_timeline empty;
	struct shm_cable *c = shm_seg_cable(seg, cable);

	if (!atomic_load(&c->ring_bytes))
		return;
	for (unsigned int k = 0; k < SHM_SLOTS; k++)
		shm_timeline_store(&c->play[k], &empty);
	atomic_store(&c->ring_bytes, 0);
	shm_seg_release_rings(seg, cable);
}

int shm_end_attach(struct shm_seg *seg, struct shm_place *pl, uint32_t pid,
		   struct shm_attach *at)
{
	struct shm_cable *c = shm_seg_cable(seg, pl->cable);
	struct shm_end *e;
	bool first_player;
	int err;

	memset(at, 0, sizeof(*at));
	pl->cable %= SHM_CABLES;
	pl->role %= SHM_ROLES;
	err = shm_seg_admin_lock(seg);
	if (err < 0)
		return err;
	first_player = pl->role == SHM_ROLE_PLAY && !shm_seg_end_held(seg, pl->cable, pl->role);
	err = shm_place_claim(seg, pl, &at->busy);
	if (err == -EBUSY && at->busy)
		at->holder_pid = some_holder(seg, pl->cable, pl->role);
	if (err < 0)
		goto out;
	if (!shm_seg_linked(seg)) {
		shm_place_release(seg, pl);
		err = -ESTALE;
		goto out;
	}
	e = place_end(seg, pl);
	atomic_store(&e->pid, pid);
	atomic_store(&e->frames, 0);
	atomic_store(&e->xruns, 0);
	atomic_store(&e->state, 0);
	atomic_store(&e->active, 0);
	if (shm_place_alone(seg, pl)) {
		/* Free, or left by dead openers. */
		atomic_store(&c->locked, 0);
		rings_free(seg, pl->cable);
	}
	if (pl->role == SHM_ROLE_PLAY) {
		static const struct shm_timeline empty;
		struct shm_slot *slot = shm_seg_slot(seg, pl->cable, pl->slot);

		/*
		 * Dead predecessors' timelines must not keep "playing": ours,
		 * and when we are the first playback, every slot's (the ring
		 * may be split differently from now on).
		 */
		for (unsigned int k = 0; k < SHM_SLOTS; k++)
			if (k == pl->slot || first_player)
				shm_timeline_store(&c->play[k], &empty);
		if (first_player)
			atomic_store_explicit(&c->play_shared, pl->shared, memory_order_release);
		at->write_end = atomic_load(&slot->write_end);
	}
	/* Notify mode frees the only playback; a capture is always pinned. */
	at->pinned = atomic_load(&c->locked) &&
		     !(pl->role == SHM_ROLE_PLAY && atomic_load(&c->notify) && first_player);
	if (at->pinned) {
		lock_load(c, &at->lock);
		at->ring_bytes = ring_bytes(c);
	}
out:
	shm_seg_admin_unlock(seg);
	return err;
}

void shm_end_detach(struct shm_seg *seg, const struct shm_place *pl)
{
	struct shm_end *e = place_end(seg, pl);

	if (shm_seg_admin_lock(seg) < 0)
		return;		/* closing the fd drops our places all the same */
	/*
	 * snd-aloop's free_cable(): the last one out frees the lock (the
	 * rings go in shm_seg_remove_idle(), with the segment if it can).
	 */
	if (shm_place_alone(seg, pl))
		atomic_store(&shm_seg_cable(seg, pl->cable)->locked, 0);
	shm_end_set_state(seg, pl, 0, false);
	atomic_store(&e->pid, 0);
	shm_place_release(seg, pl);
	shm_seg_admin_unlock(seg);
}

int shm_cable_lock(struct shm_seg *seg, const struct shm_place *pl,
		   const struct shm_params *want, const struct shm_ring_ask *ring,
		   uint64_t now_ns, struct shm_lock_result *res, char *why, size_t why_len)
{
	struct shm_cable *c = shm_seg_cable(seg, pl->cable);
	struct shm_params held;
	bool locked, alone, notify, take;
	int err;

	memset(res, 0, sizeof(*res));
	err = shm_seg_admin_lock(seg);
	if (err < 0)
		return err;
	locked = atomic_load(&c->locked);
	lock_load(c, &held);
	alone = shm_place_alone(seg, pl);
	/* Notify lets the playback choose, unless another playback shares the end. */
	notify = pl->role == SHM_ROLE_PLAY && atomic_load(&c->notify) &&
		 !shm_seg_end_held(seg, pl->cable, pl->role);
	take = !locked || alone || (notify && !shm_params_match(&held, want));
	if (!take && !shm_params_match(&held, want)) {
		res->held = held;
		shm_seg_admin_unlock(seg);
		return -EINVAL;
	}
	res->ring_bytes = take ? ring->size : ring_bytes(c);
	if (res->ring_bytes < ring->fit) {
		shm_seg_admin_unlock(seg);
		return -EMSGSIZE;
	}
	/* Before anything changes: a full filesystem fails us, nobody else. */
	if (pl->role == SHM_ROLE_PLAY) {
		err = shm_seg_reserve_ring(seg, pl->cable, shm_cable_play_shared(seg, pl->cable) ?
					   pl->slot : 0, res->ring_bytes, why, why_len);
		if (err < 0) {
			shm_seg_admin_unlock(seg);
			return err;
		}
	}
	if (take) {
		/*
		 * Only now may the grid restart: nobody else can be running on
		 * it with other parameters.  Any playback whose timeline was on
		 * the old grid is gone, or is us, or is relocking in notify mode.
		 */
		res->regridded = !locked || alone || held.rate != want->rate;
		atomic_store(&c->format, want->format);
		atomic_store(&c->rate, want->rate);
		atomic_store(&c->channels, want->channels);
		atomic_store(&c->access, want->access);
		atomic_store(&c->clock, want->clock);
		atomic_store(&c->ring_bytes, res->ring_bytes);
		if (res->regridded) {
			static const struct shm_timeline empty;

			shm_grid_reset(c, now_ns);
			for (unsigned int k = 0; k < SHM_SLOTS; k++)
				shm_timeline_store(&c->play[k], &empty);
			shm_flow_restart(c);
		}
		atomic_store(&c->locked, 1);
		bump(&c->lock_gen);
	}
	res->gen = atomic_load(&c->lock_gen);
	if (pl->role == SHM_ROLE_PLAY) {
		atomic_store(&c->slave_format, want->format);
		atomic_store(&c->slave_rate, want->rate);
		atomic_store(&c->slave_channels, want->channels);
		atomic_store(&c->slave_access, want->access);
		bump(&c->ctl_seq);
	}
	shm_seg_admin_unlock(seg);
	return 0;
}

bool shm_cable_locked(struct shm_seg *seg, unsigned int cable, struct shm_params *lock)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);

	lock_load(c, lock);
	return atomic_load(&c->locked) != 0;
}

bool shm_cable_relocked(struct shm_seg *seg, unsigned int cable, uint32_t gen,
			const struct shm_params *mine)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);
	struct shm_params now;

	if (atomic_load_explicit(&c->lock_gen, memory_order_acquire) == gen)
		return false;
	lock_load(c, &now);
	return !shm_params_match(&now, mine);
}

void shm_end_set_state(struct shm_seg *seg, const struct shm_place *pl, uint32_t state,
		       bool active)
{
	struct shm_end *e = place_end(seg, pl);

	atomic_store_explicit(&e->state, state, memory_order_relaxed);
	/* "PCM Slave Active": a playback runs and is not paused; ctl events. */
	if (pl->role == SHM_ROLE_PLAY && atomic_exchange(&e->active, active) != active)
		bump(&shm_seg_cable(seg, pl->cable)->ctl_seq);
}

void shm_end_set_sizes(struct shm_seg *seg, const struct shm_place *pl,
		       uint32_t period_frames, uint32_t buffer_frames)
{
	struct shm_end *e = place_end(seg, pl);

	atomic_store(&e->period_frames, period_frames);
	atomic_store(&e->buffer_frames, buffer_frames);
}

void shm_end_add_frames(struct shm_seg *seg, const struct shm_place *pl, uint64_t frames)
{
	atomic_fetch_add_explicit(&place_end(seg, pl)->frames, frames, memory_order_relaxed);
}

void shm_end_add_xrun(struct shm_seg *seg, const struct shm_place *pl)
{
	atomic_fetch_add_explicit(&place_end(seg, pl)->xruns, 1, memory_order_relaxed);
}

void shm_end_info(struct shm_seg *seg, const struct shm_place *pl, struct shm_end_info *info)
{
	struct shm_end *e = place_end(seg, pl);

	info->attached = shm_place_held(seg, pl);
	info->shared = shm_place_end_shared(seg, pl->cable, pl->role);
	info->pid = atomic_load(&e->pid);
	info->state = atomic_load(&e->state);
	info->period_frames = atomic_load(&e->period_frames);
	info->buffer_frames = atomic_load(&e->buffer_frames);
	info->frames = atomic_load(&e->frames);
	info->xruns = atomic_load(&e->xruns);
}

void shm_controls_read(struct shm_seg *seg, unsigned int cable, struct shm_controls *ctl)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);

	memset(ctl, 0, sizeof(*ctl));
	ctl->seq = atomic_load_explicit(&c->ctl_seq, memory_order_acquire);
	ctl->rate_shift = shm_shift_clamp(atomic_load(&c->rate_shift));
	ctl->notify = atomic_load(&c->notify) != 0;
	/* A flag stays set if its playback was killed mid-stream: ask the lock. */
	ctl->active = false;
	for (unsigned int k = 0; k < SHM_SLOTS && !ctl->active; k++)
		ctl->active = atomic_load(&c->play[k].end.active) && shm_slot_alive(seg, cable, k);
	ctl->slave.format = atomic_load(&c->slave_format);
	ctl->slave.rate = atomic_load(&c->slave_rate);
	ctl->slave.channels = atomic_load(&c->slave_channels);
	ctl->slave.access = atomic_load(&c->slave_access) != 0;
}

uint32_t shm_controls_seq(struct shm_seg *seg, unsigned int cable)
{
	return atomic_load_explicit(&shm_seg_cable(seg, cable)->ctl_seq, memory_order_acquire);
}

int shm_controls_set_notify(struct shm_seg *seg, unsigned int cable, bool notify)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);
	int err = shm_seg_admin_lock(seg);

	if (err < 0)
		return err;
	err = atomic_exchange(&c->notify, notify) != notify;
	if (err)
		bump(&c->ctl_seq);
	shm_seg_admin_unlock(seg);
	return err;
}

int shm_controls_set_shift(struct shm_seg *seg, unsigned int cable, uint32_t shift,
			   uint64_t now_ns)
{
	struct shm_cable *c = shm_seg_cable(seg, cable);
	uint32_t rate;
	int err = shm_seg_admin_lock(seg);

	if (err < 0)
		return err;
	shift = shm_shift_clamp(shift);
	err = atomic_load(&c->rate_shift) != shift;
	if (err) {
		/* The locked rate (nobody runs on the grid if it is unlocked). */
		rate = atomic_load(&c->rate);
		if (rate < LOOP_RATE_MIN || rate > LOOP_RATE_MAX)
			rate = LOOP_SLAVE_RATE_DEFAULT;
		/* Rebases the grid at now: positions never jump. */
		shm_grid_set_shift(c, rate, shift, now_ns);
		bump(&c->ctl_seq);
	}
	shm_seg_admin_unlock(seg);
	return err;
}

/* ---- lifetime ----------------------------------------------------------- */

int shm_seg_remove(struct shm_seg *seg)
{
	int err = shm_file_remove(&seg->dir, seg->name, seg->fd);

	if (!err)
		shm_flow_remove_bells(seg);
	return err;
}

/* Are the controls a user can set as snd-aloop has them at load? */
static bool controls_default(struct shm_seg *seg)
{
	for (unsigned int c = 0; c < SHM_CABLES; c++) {
		struct shm_cable *cab = shm_seg_cable(seg, c);

		if (atomic_load(&cab->notify) ||
		    atomic_load(&cab->rate_shift) != LOOP_SHIFT_NOMINAL)
			return false;
	}
	return true;
}

bool shm_seg_remove_idle(struct shm_seg *seg)
{
	bool removed = false, held = false;

	if (shm_seg_admin_lock(seg) < 0)
		return false;	/* a stuck peer holds it: leave the segment to gc */
	for (unsigned int c = 0; c < SHM_CABLES; c++)
		for (unsigned int r = 0; r < SHM_ROLES; r++)
			held |= shm_seg_end_held(seg, c, r);
	if (!held && controls_default(seg))
		removed = shm_seg_remove(seg) == 0;
	/*
	 * A segment that stays (its controls were set, as snd-aloop keeps
	 * them while loaded, or an end is still open) keeps no ring nobody
	 * uses.  A removed one keeps its pages until its last mapping goes:
	 * a stopped tap resumes and hears what the ring held.
	 */
	for (unsigned int c = 0; c < SHM_CABLES && !removed; c++)
		if (!shm_seg_end_held(seg, c, SHM_ROLE_PLAY) &&
		    !shm_seg_end_held(seg, c, SHM_ROLE_CAP))
			rings_free(seg, c);
	shm_seg_admin_unlock(seg);
	return removed;
}
