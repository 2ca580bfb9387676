// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * ctl_loop.c - ALSA external control plugin "loopback": snd-aloop's mixer
 * controls for the user-space cables of pcm_loop.c.
 *
 * snd-aloop has seven controls per (device d, subdevice s), all on
 * IFACE_PCM, and those on (d, s) describe the cable whose *capture* end is
 * (d, s).  In our segments (shm_layout.h) cable c carries device c playback
 * to device c^1 capture, so the controls on (d, s) are cable d^1 of the
 * segment of subdevice s.  Every value lives in the segment; this plugin
 * keeps no state of its own except what it last reported to subscribers.
 *
 * Two views:
 *   - a card view (no "subdevice" key): 7 controls x 2 devices x a range
 *     of subdevices, with device/subdevice set as snd-aloop sets them;
 *   - a one-cable view ("subdevice" and "device" keys): the 7 controls of
 *     capture device "device", subdevice "subdevice", shown at device 0
 *     subdevice 0.  That is what snd_pcm_info() of an ioplug PCM reports,
 *     and alsaloop looks its controls up by those numbers.
 *
 * Segments.  Reading never creates a segment (opening one reserves its
 * pages, nothing more): a subdevice without one reads snd-aloop's defaults.  Writing a value different from the current
 * one creates the segment (mode "perm", default 0600), so a setting made
 * before any PCM opens (notify, rate shift) is there when one does.  The
 * segment is found by path on every access and reopened if it was removed
 * or replaced (alsa-loopback gc, a new PCM), and it is validated exactly as
 * the PCM validates it.  Its content is shared with processes we do not
 * control, so every value read from it is clamped to its control's range.
 *
 * Writes take the segment's admin lock: the PCM reads "notify" and resets
 * the clock grid under it, and the grid is a single-writer seqlock.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <alsa/asoundlib.h>
#include <alsa/control_external.h>

#include "loop_conf.h"
#include "shm_cable.h"
#include "shm_seg.h"
#include "shm_time.h"

/* snd-aloop's controls, in its order (loopback_controls[]). */
enum {
	EL_RATE_SHIFT,
	EL_NOTIFY,
	EL_ACTIVE,
	EL_FORMAT,
	EL_RATE,
	EL_CHANNELS,
	EL_ACCESS,
	EL_COUNT
};

struct elem_desc {
	const char *name;
	int type;
	unsigned int access;
	long min, max;
	uint32_t def;		/* snd-aloop's value before any playback */
};

static const struct elem_desc elems[EL_COUNT] = {
	[EL_RATE_SHIFT] = { "PCM Rate Shift 100000", SND_CTL_ELEM_TYPE_INTEGER,
			    SND_CTL_EXT_ACCESS_READWRITE, LOOP_SHIFT_MIN, LOOP_SHIFT_MAX,
			    LOOP_SHIFT_NOMINAL },
	[EL_NOTIFY] = { "PCM Notify", SND_CTL_ELEM_TYPE_BOOLEAN,
			SND_CTL_EXT_ACCESS_READWRITE, 0, 1, 0 },
	[EL_ACTIVE] = { "PCM Slave Active", SND_CTL_ELEM_TYPE_BOOLEAN,
			SND_CTL_EXT_ACCESS_READ, 0, 1, 0 },
	[EL_FORMAT] = { "PCM Slave Format", SND_CTL_ELEM_TYPE_INTEGER,
			SND_CTL_EXT_ACCESS_READ, 0, SND_PCM_FORMAT_LAST, SND_PCM_FORMAT_S16_LE },
	[EL_RATE] = { "PCM Slave Rate", SND_CTL_ELEM_TYPE_INTEGER,
		      SND_CTL_EXT_ACCESS_READ, 0, 192000, LOOP_SLAVE_RATE_DEFAULT },
	[EL_CHANNELS] = { "PCM Slave Channels", SND_CTL_ELEM_TYPE_INTEGER,
			  SND_CTL_EXT_ACCESS_READ, 1, 1024, LOOP_SLAVE_CHANNELS_DEFAULT },
	[EL_ACCESS] = { "PCM Slave Access Mode", SND_CTL_ELEM_TYPE_ENUMERATED,
			SND_CTL_EXT_ACCESS_READ, 0, 1, 0 },
};

static const char *const access_names[] = { "Interleaved", "Non-interleaved" };

/*
 * Events.  The external control API wants one pollable descriptor and a
 * read_event() callback, but the values change in another process's
 * memory, with no message to us.  A futex cannot be polled, and a pipe or
 * eventfd per subscriber would need every PCM end to know every ctl.  So a
 * subscribed ctl polls: a timerfd ticks every EVENT_TICK_MS and each tick
 * compares the segment's values with a copy of what was last reported,
 * queueing a value event per changed element.  20 ms is far below
 * alsaloop's reaction needs (it restarts on a format change) and costs a
 * few hundred syscalls a second only while somebody is subscribed.
 */
#define EVENT_TICK_MS		20

/* One subdevice of the view: its segment, if any, and reported values. */
struct sub {
	struct shm_seg seg;	/* fd < 0: not open */
	dev_t dev;		/* identity of the file we mapped */
	ino_t ino;
	bool warned;		/* an error was reported; quiet until it heals */
	uint32_t seen[SHM_CABLES][EL_COUNT];
};

struct loopctl {
	snd_ctl_ext_t ext;	/* first: alsa-lib hands us &ext */

	struct loop_seg_keys keys;	/* card, dir, perm, group (for segments we create) */
	unsigned int first, count;	/* subdevices in the view */
	int device;			/* -1: card view; else one-cable view */
	struct sub *subs;
	int timer_fd;
	uint8_t *pending;		/* one flag per element */
	unsigned int elem_total;
};

/* ---- elements ------------------------------------------------------------ */

/* Where element idx lives: view device, subdevice index, cable, control. */
struct where {
	unsigned int device;	/* as reported in the element id */
	unsigned int subdev;	/* as reported in the element id */
	unsigned int si;	/* index into subs[] */
	unsigned int cable;	/* cable of the segment */
	unsigned int el;
};

static void elem_where(const struct loopctl *lc, unsigned int idx, struct where *w)
{
	w->el = idx % EL_COUNT;
	if (lc->device >= 0) {
		w->device = 0;
		w->subdev = 0;
		w->si = 0;
		w->cable = (unsigned int)lc->device ^ 1u;
		return;
	}
	/* snd-aloop's order: device, then substream, then control. */
	idx /= EL_COUNT;
	w->si = idx % lc->count;
	w->device = idx / lc->count;
	w->subdev = lc->first + w->si;
	w->cable = w->device ^ 1u;
}

static unsigned int elem_index(const struct loopctl *lc, unsigned int device, unsigned int si,
			       unsigned int el)
{
	if (lc->device >= 0)
		return el;
	return (device * lc->count + si) * EL_COUNT + el;
}

static void elem_fill_id(const struct loopctl *lc, unsigned int idx, snd_ctl_elem_id_t *id)
{
	struct where w;

	elem_where(lc, idx, &w);
	snd_ctl_elem_id_set_interface(id, SND_CTL_ELEM_IFACE_PCM);
	snd_ctl_elem_id_set_device(id, w.device);
	snd_ctl_elem_id_set_subdevice(id, w.subdev);
	snd_ctl_elem_id_set_name(id, elems[w.el].name);
	snd_ctl_elem_id_set_index(id, 0);
}

/* ---- segments ------------------------------------------------------------ */

static void sub_close(struct sub *s)
{
	if (s->seg.fd >= 0 || s->seg.hdr)
		shm_seg_close(&s->seg);
	s->seg.fd = -1;
}

/*
 * The segment of subdevice index si, or NULL (*errp = -ENOENT when there is
 * none).  With create, a missing segment is created as the PCM creates it.
 */
static struct shm_seg *sub_seg(struct loopctl *lc, unsigned int si, bool create, int *errp)
{
	struct sub *s = &lc->subs[si];
	struct shm_seg_config cfg = lc->keys.cfg;
	char why[768];
	struct stat st;
	int err;

	if (s->seg.fd >= 0) {
		/* Its last PCM or gc may have removed it, and a PCM made a new one. */
		if (shm_seg_linked(&s->seg))
			return &s->seg;
		sub_close(s);
	}
	cfg.subdevice = lc->first + si;
	why[0] = '\0';
	err = create ? shm_seg_open(&s->seg, &cfg, why, sizeof(why))
		     : shm_seg_attach(&s->seg, &cfg, why, sizeof(why));
	if (err < 0) {
		s->seg.fd = -1;
		s->seg.hdr = NULL;
		if (err != -ENOENT && !s->warned) {
			SNDERR("loopback ctl card %s subdevice %u: %s%s", lc->keys.card,
			       lc->first + si, why, loop_seg_advice(s->seg.fault));
			s->warned = true;
		}
		*errp = err;
		return NULL;
	}
	if (fstat(s->seg.fd, &st) < 0) {
		*errp = -errno;
		sub_close(s);
		return NULL;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	s->warned = false;
	return &s->seg;
}

static uint32_t clamp_u32(uint32_t v, uint32_t lo, uint32_t hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/*
 * All seven values of a cable (no segment, or no playback yet: snd-aloop's
 * defaults), clamped to what the elements can hold: never trusted.
 */
static void cable_values(struct shm_seg *seg, unsigned int cable, uint32_t v[EL_COUNT])
{
	struct shm_controls ctl;

	for (unsigned int i = 0; i < EL_COUNT; i++)
		v[i] = elems[i].def;
	if (!seg)
		return;
	shm_controls_read(seg, cable, &ctl);
	v[EL_RATE_SHIFT] = ctl.rate_shift;
	v[EL_NOTIFY] = ctl.notify;
	v[EL_ACTIVE] = ctl.active;
	if (!ctl.slave.rate)
		return;		/* no playback ever configured it */
	v[EL_FORMAT] = clamp_u32(ctl.slave.format, 0, SND_PCM_FORMAT_LAST);
	/*
	 * Clamped to what the PCM plugin can produce, not to the info range:
	 * snd-aloop too reports a Slave Rate above its 192000 max.
	 */
	v[EL_RATE] = clamp_u32(ctl.slave.rate, 0, LOOP_RATE_MAX);
	v[EL_CHANNELS] = clamp_u32(ctl.slave.channels, 1, 1024);
	v[EL_ACCESS] = ctl.slave.access;
}

static void sub_values(struct loopctl *lc, unsigned int si, unsigned int cable,
		       uint32_t v[EL_COUNT])
{
	int err;
	struct shm_seg *seg = sub_seg(lc, si, false, &err);

	cable_values(seg, cable, v);
}

/* ---- events -------------------------------------------------------------- */

static void timer_run(struct loopctl *lc, bool on)
{
	struct itimerspec its = { { 0, 0 }, { 0, 0 } };

	if (on) {
		its.it_interval.tv_nsec = EVENT_TICK_MS * 1000000L;
		its.it_value = its.it_interval;
	}
	timerfd_settime(lc->timer_fd, 0, &its, NULL);
}

static void timer_drain(struct loopctl *lc)
{
	uint64_t ticks;

	while (read(lc->timer_fd, &ticks, sizeof(ticks)) > 0)
		;
}

/* The cables a view shows of each subdevice. */
static unsigned int view_cables(const struct loopctl *lc, unsigned int *first_cable)
{
	if (lc->device >= 0) {
		*first_cable = (unsigned int)lc->device ^ 1u;
		return 1;
	}
	*first_cable = 0;
	return SHM_CABLES;
}

/* Compare every value with what was last reported; queue what changed. */
static void scan(struct loopctl *lc, bool report)
{
	unsigned int c0, ncables = view_cables(lc, &c0);

	for (unsigned int si = 0; si < lc->count; si++) {
		for (unsigned int k = 0; k < ncables; k++) {
			unsigned int cable = c0 + k;
			uint32_t v[EL_COUNT];

			sub_values(lc, si, cable, v);
			for (unsigned int el = 0; el < EL_COUNT; el++) {
				if (report && v[el] != lc->subs[si].seen[cable][el])
					lc->pending[elem_index(lc, cable ^ 1u, si, el)] = 1;
				lc->subs[si].seen[cable][el] = v[el];
			}
		}
	}
}

static bool any_pending(const struct loopctl *lc)
{
	for (unsigned int i = 0; i < lc->elem_total; i++)
		if (lc->pending[i])
			return true;
	return false;
}

static void loopctl_subscribe_events(snd_ctl_ext_t *ext, int subscribe)
{
	struct loopctl *lc = ext->private_data;

	memset(lc->pending, 0, lc->elem_total);
	if (subscribe)
		scan(lc, false);	/* report changes from now on */
	timer_run(lc, subscribe);
	timer_drain(lc);
}

static int loopctl_read_event(snd_ctl_ext_t *ext, snd_ctl_elem_id_t *id, unsigned int *event_mask)
{
	struct loopctl *lc = ext->private_data;

	if (!ext->subscribed)
		return -EAGAIN;
	/* Callers that skip poll_revents still see fresh values. */
	if (!any_pending(lc)) {
		timer_drain(lc);
		scan(lc, true);
	}
	for (unsigned int i = 0; i < lc->elem_total; i++) {
		if (!lc->pending[i])
			continue;
		lc->pending[i] = 0;
		elem_fill_id(lc, i, id);
		snd_ctl_elem_id_set_numid(id, i + 1);	/* as control_ext's elem_list */
		*event_mask = SND_CTL_EVENT_MASK_VALUE;
		return 1;
	}
	/* Never block, even in blocking mode: hctl reads until -EAGAIN. */
	return -EAGAIN;
}

static int loopctl_poll_revents(snd_ctl_ext_t *ext, struct pollfd *pfds, unsigned int nfds,
				unsigned short *revents)
{
	struct loopctl *lc = ext->private_data;

	(void)pfds;
	(void)nfds;
	*revents = 0;
	timer_drain(lc);
	if (!ext->subscribed)
		return 0;
	scan(lc, true);
	if (any_pending(lc))
		*revents = POLLIN;
	return 0;
}

/* ---- callbacks ----------------------------------------------------------- */

static int loopctl_elem_count(snd_ctl_ext_t *ext)
{
	struct loopctl *lc = ext->private_data;

	return (int)lc->elem_total;
}

static int loopctl_elem_list(snd_ctl_ext_t *ext, unsigned int offset, snd_ctl_elem_id_t *id)
{
	struct loopctl *lc = ext->private_data;

	if (offset >= lc->elem_total)
		return -EINVAL;
	elem_fill_id(lc, offset, id);
	return 0;
}

static snd_ctl_ext_key_t loopctl_find_elem(snd_ctl_ext_t *ext, const snd_ctl_elem_id_t *id)
{
	struct loopctl *lc = ext->private_data;
	const char *name = snd_ctl_elem_id_get_name(id);
	unsigned int device = snd_ctl_elem_id_get_device(id);
	unsigned int subdev = snd_ctl_elem_id_get_subdevice(id);
	unsigned int el;

	if (snd_ctl_elem_id_get_interface(id) != SND_CTL_ELEM_IFACE_PCM ||
	    snd_ctl_elem_id_get_index(id) != 0)
		return SND_CTL_EXT_KEY_NOT_FOUND;
	for (el = 0; el < EL_COUNT; el++)
		if (!strcmp(name, elems[el].name))
			break;
	if (el == EL_COUNT)
		return SND_CTL_EXT_KEY_NOT_FOUND;
	if (lc->device >= 0)
		return device == 0 && subdev == 0 ? el : SND_CTL_EXT_KEY_NOT_FOUND;
	if (device > 1 || subdev < lc->first || subdev - lc->first >= lc->count)
		return SND_CTL_EXT_KEY_NOT_FOUND;
	return elem_index(lc, device, subdev - lc->first, el);
}

static int loopctl_get_attribute(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, int *type,
				 unsigned int *acc, unsigned int *count)
{
	(void)ext;
	*type = elems[key % EL_COUNT].type;
	*acc = elems[key % EL_COUNT].access;
	*count = 1;
	return 0;
}

static int loopctl_get_integer_info(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, long *imin,
				    long *imax, long *istep)
{
	(void)ext;
	*imin = elems[key % EL_COUNT].min;
	*imax = elems[key % EL_COUNT].max;
	*istep = 1;
	return 0;
}

static int loopctl_get_enumerated_info(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key,
				       unsigned int *items)
{
	(void)ext;
	(void)key;
	*items = 2;
	return 0;
}

static int loopctl_get_enumerated_name(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key,
				       unsigned int item, char *name, size_t name_max_len)
{
	(void)ext;
	(void)key;
	if (item > 1)
		return -EINVAL;
	snprintf(name, name_max_len, "%s", access_names[item]);
	return 0;
}

static uint32_t elem_read(struct loopctl *lc, snd_ctl_ext_key_t key)
{
	uint32_t v[EL_COUNT];
	struct where w;

	elem_where(lc, (unsigned int)key, &w);
	sub_values(lc, w.si, w.cable, v);
	return v[w.el];
}

static int loopctl_read_integer(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, long *value)
{
	*value = (long)elem_read(ext->private_data, key);
	return 0;
}

static int loopctl_read_enumerated(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key,
				   unsigned int *items)
{
	*items = elem_read(ext->private_data, key);
	return 0;
}

static int loopctl_write_integer(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key, long *value)
{
	struct loopctl *lc = ext->private_data;
	struct shm_seg *seg;
	uint32_t now[EL_COUNT], v;
	struct where w;
	int err, changed;

	elem_where(lc, (unsigned int)key, &w);
	if (w.el == EL_RATE_SHIFT)
		/* snd-aloop clamps, it does not refuse. */
		v = (uint32_t)(*value < LOOP_SHIFT_MIN ? LOOP_SHIFT_MIN :
			       *value > LOOP_SHIFT_MAX ? LOOP_SHIFT_MAX : *value);
	else if (w.el == EL_NOTIFY)
		v = !!*value;
	else
		return -EPERM;	/* read-only, as the kernel answers */

	sub_values(lc, w.si, w.cable, now);
	if (now[w.el] == v)
		return 0;	/* nothing to do: do not create a segment for it */
	seg = sub_seg(lc, w.si, true, &err);
	if (!seg)
		return err;
	if (w.el == EL_RATE_SHIFT)
		changed = shm_controls_set_shift(seg, w.cable, v, shm_now_ns());
	else
		changed = shm_controls_set_notify(seg, w.cable, v);
	if (changed < 0)
		SNDERR("loopback ctl card %s subdevice %u: %s: admin lock busy: %s", lc->keys.card,
		       w.subdev, seg->path, snd_strerror(changed));
	return changed;
}

static int loopctl_write_enumerated(snd_ctl_ext_t *ext, snd_ctl_ext_key_t key,
				    unsigned int *items)
{
	(void)ext;
	(void)key;
	(void)items;
	return -EPERM;	/* "PCM Slave Access Mode" is read-only */
}

static void loopctl_close(snd_ctl_ext_t *ext)
{
	struct loopctl *lc = ext->private_data;

	for (unsigned int si = 0; si < lc->count; si++)
		sub_close(&lc->subs[si]);
	if (lc->timer_fd >= 0)
		close(lc->timer_fd);
	free(lc->subs);
	free(lc->pending);
	free(lc);
}

static const snd_ctl_ext_callback_t loopctl_callback = {
	.close = loopctl_close,
	.elem_count = loopctl_elem_count,
	.elem_list = loopctl_elem_list,
	.find_elem = loopctl_find_elem,
	.get_attribute = loopctl_get_attribute,
	.get_integer_info = loopctl_get_integer_info,
	.get_enumerated_info = loopctl_get_enumerated_info,
	.get_enumerated_name = loopctl_get_enumerated_name,
	.read_integer = loopctl_read_integer,
	.read_enumerated = loopctl_read_enumerated,
	.write_integer = loopctl_write_integer,
	.write_enumerated = loopctl_write_enumerated,
	.subscribe_events = loopctl_subscribe_events,
	.read_event = loopctl_read_event,
	.poll_revents = loopctl_poll_revents,
};

/* ---- configuration ------------------------------------------------------- */

/* "N" or "A-B" (or an integer): the card view's subdevices. */
static int conf_range(snd_config_t *n, unsigned int *first, unsigned int *count)
{
	const char *str;
	unsigned long a, b;
	char *end;
	long v;

	if (snd_config_get_integer(n, &v) == 0) {
		if (v < 0 || v > LOOP_SUBDEVICE_MAX)
			goto bad_int;
		*first = (unsigned int)v;
		*count = 1;
		return 0;
	}
	if (snd_config_get_string(n, &str) < 0 || !*str)
		goto bad;
	errno = 0;
	a = strtoul(str, &end, 10);
	if (errno || end == str)
		goto bad;
	b = a;
	if (*end == '-') {
		const char *s2 = end + 1;

		b = strtoul(s2, &end, 10);
		if (errno || end == s2)
			goto bad;
	}
	if (*end || a > b || b > LOOP_SUBDEVICE_MAX)
		goto bad;
	*first = (unsigned int)a;
	*count = (unsigned int)(b - a + 1);
	return 0;
bad_int:
	SNDERR("loopback ctl: key 'subdevices': %ld is out of range 0..%u", v,
	       LOOP_SUBDEVICE_MAX);
	return -EINVAL;
bad:
	SNDERR("loopback ctl: key 'subdevices' must be \"N\" or \"FIRST-LAST\" within 0..%u",
	       LOOP_SUBDEVICE_MAX);
	return -EINVAL;
}

static int loopctl_parse(struct loopctl *lc, snd_config_t *conf)
{
	snd_config_iterator_t i, next;
	long subdevice = -1, device = -1;
	bool range = false;
	int err;

	loop_seg_keys_init(&lc->keys);
	lc->first = 0;
	lc->count = 8;	/* snd-aloop's pcm_substreams default */
	snd_config_for_each(i, next, conf) {
		snd_config_t *n = snd_config_iterator_entry(i);
		const char *id;

		if (snd_config_get_id(n, &id) < 0)
			continue;
		if (!strcmp(id, "comment") || !strcmp(id, "type") || !strcmp(id, "hint"))
			continue;
		err = loop_conf_seg_key(n, "loopback ctl", id, &lc->keys);
		if (err < 0)
			return err;
		if (err)
			continue;
		if (!strcmp(id, "subdevice")) {
			if (loop_conf_long(n, "loopback ctl", id, 0, LOOP_SUBDEVICE_MAX,
					   &subdevice) < 0)
				return -EINVAL;
		} else if (!strcmp(id, "device")) {
			if (loop_conf_long(n, "loopback ctl", id, 0, 1, &device) < 0)
				return -EINVAL;
		} else if (!strcmp(id, "subdevices")) {
			if (conf_range(n, &lc->first, &lc->count) < 0)
				return -EINVAL;
			range = true;
		} else {
			SNDERR("loopback ctl: unknown field '%s' (known: card subdevice device "
			       "subdevices dir perm group)", id);
			return -EINVAL;
		}
	}
	if (subdevice >= 0 && range) {
		SNDERR("loopback ctl: use either 'subdevice' (one cable) or 'subdevices' "
		       "(a card view), not both");
		return -EINVAL;
	}
	if (device >= 0 && subdevice < 0) {
		SNDERR("loopback ctl: key 'device' needs 'subdevice' (one-cable view)");
		return -EINVAL;
	}
	lc->device = -1;
	if (subdevice >= 0) {
		/* One cable: that of capture device 'device' (default 1, loopcap). */
		lc->device = device >= 0 ? (int)device : 1;
		lc->first = (unsigned int)subdevice;
		lc->count = 1;
	}
	return 0;
}

/*
 * ctl.name {
 *	type loopback
 *	card STR	# card key, as the PCM's (default "0")
 *	subdevices STR	# card view: "N" or "FIRST-LAST" (default "0-7")
 *	subdevice INT	# or one-cable view: this subdevice ...
 *	device INT	# ... capture device 0 (loop) or 1 (loopcap, default)
 *	dir STR		# segment directory instead of POSIX shm (optional)
 *	perm INT	# mode of a segment a write creates, default 0600
 *	group STR|INT	# group of a segment a write creates
 * }
 */
SND_CTL_PLUGIN_DEFINE_FUNC(loopback)
{
	struct loopctl *lc;
	int err;

	(void)root;
	lc = calloc(1, sizeof(*lc));
	if (!lc)
		return -ENOMEM;
	lc->timer_fd = -1;
	err = loopctl_parse(lc, conf);
	if (err < 0)
		goto fail;
	lc->elem_total = lc->count * EL_COUNT * (lc->device >= 0 ? 1 : 2);
	lc->subs = calloc(lc->count, sizeof(*lc->subs));
	lc->pending = calloc(lc->elem_total, 1);
	if (!lc->subs || !lc->pending) {
		err = -ENOMEM;
		goto fail;
	}
	for (unsigned int si = 0; si < lc->count; si++)
		lc->subs[si].seg.fd = lc->subs[si].seg.dir.fd = -1;
	lc->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (lc->timer_fd < 0) {
		err = -errno;
		SNDERR("loopback ctl: timerfd_create: %s", strerror(errno));
		goto fail;
	}

	lc->ext.version = SND_CTL_EXT_VERSION;
	lc->ext.card_idx = -1;	/* no kernel card behind us */
	snprintf(lc->ext.id, sizeof(lc->ext.id), "Loopback");
	snprintf(lc->ext.driver, sizeof(lc->ext.driver), "Loopback");
	snprintf(lc->ext.name, sizeof(lc->ext.name), "Loopback");
	if (lc->device >= 0)
		snprintf(lc->ext.longname, sizeof(lc->ext.longname),
			 "Loopback %.31s sub %u capture device %d",
			 lc->keys.card, lc->first, lc->device);
	else
		snprintf(lc->ext.longname, sizeof(lc->ext.longname),
			 "Loopback %.31s subdevices %u-%u", lc->keys.card, lc->first,
			 lc->first + lc->count - 1);
	snprintf(lc->ext.mixername, sizeof(lc->ext.mixername), "Loopback Mixer");
	lc->ext.poll_fd = lc->timer_fd;
	lc->ext.callback = &loopctl_callback;
	lc->ext.private_data = lc;
	err = snd_ctl_ext_create(&lc->ext, name, mode);
	if (err < 0)
		goto fail;
	*handlep = lc->ext.handle;
	return 0;

fail:
	if (lc->timer_fd >= 0)
		close(lc->timer_fd);
	free(lc->subs);
	free(lc->pending);
	free(lc);
	return err;
}

SND_CTL_PLUGIN_SYMBOL(loopback);
