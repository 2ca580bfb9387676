// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-ctl.c - the ctl plugin ("loopback" ctl type) against running cables:
 * Slave controls follow the playback, Slave Active follows start/pause/
 * stop with events, the rate shift stretches both ends' clocks without a
 * jump, notify lets a new playback relock the cable, values read from a
 * hostile segment are clamped, reads never create segments.
 *
 * Config is built in memory (no ALSA_CONFIG_PATH): the built plugins, a
 * private card key, PCMs p<d>/c<d> on subdevice SUB and ctls "card" (the
 * card view) and "cab" (one-cable view of capture device 1, subdevice SUB).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#include "shm_layout.h"
#include "shm_seg.h"
#include "check.h"
#include "conf.h"

#define SUB	3

static snd_config_t *cfg;
static char card[32];
static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void seg_path(char *buf, size_t len, unsigned int sub)
{
	shm_seg_path(buf, len, NULL, card, sub);
}

static void cleanup(void)
{
	char path[256];

	for (unsigned int s = 0; s < 8; s++) {
		seg_path(path, sizeof(path), s);
		unlink(path);
	}
}

static int load_config(void)
{
	snprintf(card, sizeof(card), "c%d", (int)getpid());
	return t_conf_load(&cfg,
			   "pcm.p0 { type loopback card \"%s\" subdevice %d device 0 }\n"
			   "pcm.c1 { type loopback card \"%s\" subdevice %d device 1 }\n"
			   "ctl.card { type loopback card \"%s\" subdevices \"0-7\" }\n"
			   "ctl.cab { type loopback card \"%s\" subdevice %d device 1 }\n"
			   "ctl.bad { type loopback card \"%s\" subdevice 1 subdevices \"0-3\" }\n",
			   card, SUB, card, SUB, card, card, SUB, card);
}

/* ---- helpers ------------------------------------------------------------- */

static snd_ctl_t *ctl_open(const char *name)
{
	snd_ctl_t *ctl = NULL;
	int err = snd_ctl_open_lconf(&ctl, name, SND_CTL_NONBLOCK, cfg);

	if (err < 0) {
		fprintf(stderr, "FATAL: snd_ctl_open %s: %s\n", name, snd_strerror(err));
		exit(1);
	}
	return ctl;
}

static void id_set(snd_ctl_elem_id_t *id, unsigned int dev, unsigned int sub, const char *name)
{
	snd_ctl_elem_id_clear(id);
	snd_ctl_elem_id_set_interface(id, SND_CTL_ELEM_IFACE_PCM);
	snd_ctl_elem_id_set_device(id, dev);
	snd_ctl_elem_id_set_subdevice(id, sub);
	snd_ctl_elem_id_set_name(id, name);
}

/* Read one value whatever its type; returns the error or 0. */
static int ctl_get(snd_ctl_t *ctl, unsigned int dev, unsigned int sub, const char *name,
		   long *v)
{
	snd_ctl_elem_id_t *id;
	snd_ctl_elem_info_t *info;
	snd_ctl_elem_value_t *val;
	int err;

	snd_ctl_elem_id_alloca(&id);
	snd_ctl_elem_info_alloca(&info);
	snd_ctl_elem_value_alloca(&val);
	id_set(id, dev, sub, name);
	snd_ctl_elem_info_set_id(info, id);
	err = snd_ctl_elem_info(ctl, info);
	if (err < 0)
		return err;
	snd_ctl_elem_value_set_id(val, id);
	err = snd_ctl_elem_read(ctl, val);
	if (err < 0)
		return err;
	if (snd_ctl_elem_info_get_type(info) == SND_CTL_ELEM_TYPE_ENUMERATED)
		*v = snd_ctl_elem_value_get_enumerated(val, 0);
	else
		*v = snd_ctl_elem_value_get_integer(val, 0);
	return 0;
}

static long ctl_val(snd_ctl_t *ctl, unsigned int dev, unsigned int sub, const char *name)
{
	long v = -12345;
	int err = ctl_get(ctl, dev, sub, name, &v);

	if (err < 0) {
		check_fail(__FILE__, __LINE__, "read '%s' dev %u sub %u: %s", name, dev, sub,
			   snd_strerror(err));
	}
	return v;
}

static int ctl_set(snd_ctl_t *ctl, unsigned int dev, unsigned int sub, const char *name, long v)
{
	snd_ctl_elem_id_t *id;
	snd_ctl_elem_value_t *val;

	snd_ctl_elem_id_alloca(&id);
	snd_ctl_elem_value_alloca(&val);
	id_set(id, dev, sub, name);
	snd_ctl_elem_value_set_id(val, id);
	snd_ctl_elem_value_set_integer(val, 0, v);
	return snd_ctl_elem_write(ctl, val);
}

/*
 * Wait up to timeout_ms for a value event on (dev, sub, name), the way
 * amixer and alsaloop wait: poll descriptors, revents, snd_ctl_read.
 */
static bool wait_event(snd_ctl_t *ctl, unsigned int dev, unsigned int sub, const char *name,
		       int timeout_ms)
{
	snd_ctl_event_t *ev;
	double end = now_s() + timeout_ms / 1000.0;
	struct pollfd pfd[4];
	int n = snd_ctl_poll_descriptors(ctl, pfd, 4);

	snd_ctl_event_alloca(&ev);
	while (now_s() < end) {
		unsigned short revents = 0;

		if (poll(pfd, (nfds_t)n, 50) < 0)
			continue;
		if (snd_ctl_poll_descriptors_revents(ctl, pfd, (unsigned int)n, &revents) < 0 ||
		    !(revents & POLLIN))
			continue;
		while (snd_ctl_read(ctl, ev) > 0) {
			if (snd_ctl_event_get_type(ev) != SND_CTL_EVENT_ELEM ||
			    !(snd_ctl_event_elem_get_mask(ev) & SND_CTL_EVENT_MASK_VALUE))
				continue;
			if (snd_ctl_event_elem_get_interface(ev) == SND_CTL_ELEM_IFACE_PCM &&
			    snd_ctl_event_elem_get_device(ev) == dev &&
			    snd_ctl_event_elem_get_subdevice(ev) == sub &&
			    !strcmp(snd_ctl_event_elem_get_name(ev), name))
				return true;
		}
	}
	return false;
}

static void drain_events(snd_ctl_t *ctl)
{
	snd_ctl_event_t *ev;

	snd_ctl_event_alloca(&ev);
	sleep_ms(60);
	while (snd_ctl_read(ctl, ev) > 0)
		;
}

static snd_pcm_t *pcm_open(const char *name, snd_pcm_stream_t stream, int mode)
{
	snd_pcm_t *pcm = NULL;
	int err = snd_pcm_open_lconf(&pcm, name, stream, mode, cfg);

	if (err < 0) {
		fprintf(stderr, "FATAL: snd_pcm_open %s: %s\n", name, snd_strerror(err));
		exit(1);
	}
	return pcm;
}

static int pcm_setup(snd_pcm_t *pcm, snd_pcm_format_t format, unsigned int rate,
		     unsigned int channels, snd_pcm_access_t access, snd_pcm_uframes_t buffer)
{
	snd_pcm_hw_params_t *hw;
	snd_pcm_sw_params_t *sw;
	snd_pcm_uframes_t period = buffer / 4, boundary;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	snd_pcm_hw_params_any(pcm, hw);
	if ((err = snd_pcm_hw_params_set_access(pcm, hw, access)) < 0 ||
	    (err = snd_pcm_hw_params_set_format(pcm, hw, format)) < 0 ||
	    (err = snd_pcm_hw_params_set_channels(pcm, hw, channels)) < 0 ||
	    (err = snd_pcm_hw_params_set_rate(pcm, hw, rate, 0)) < 0 ||
	    (err = snd_pcm_hw_params_set_buffer_size_near(pcm, hw, &buffer)) < 0 ||
	    (err = snd_pcm_hw_params_set_period_size_near(pcm, hw, &period, NULL)) < 0 ||
	    (err = snd_pcm_hw_params(pcm, hw)) < 0)
		return err;
	/* Streams start when the test says so, not on the first write. */
	snd_pcm_sw_params_alloca(&sw);
	snd_pcm_sw_params_current(pcm, sw);
	snd_pcm_sw_params_get_boundary(sw, &boundary);
	snd_pcm_sw_params_set_start_threshold(pcm, sw, boundary);
	return snd_pcm_sw_params(pcm, sw);
}

/* Fill what the playback has room for with silence (S16 stereo at most). */
static snd_pcm_sframes_t top_up(snd_pcm_t *pcm)
{
	static int16_t zero[4096 * 2];
	snd_pcm_sframes_t avail = snd_pcm_avail_update(pcm), total = 0;

	while (avail > 0) {
		snd_pcm_sframes_t n = avail > 4096 ? 4096 : avail;

		n = snd_pcm_writei(pcm, zero, (snd_pcm_uframes_t)n);
		if (n <= 0)
			return n < 0 ? n : total;
		total += n;
		avail -= n;
	}
	return avail < 0 ? avail : total;
}

/* ---- tests --------------------------------------------------------------- */

/* The view alsaloop needs: the capture PCM's info names our elements. */
static void test_pcm_info_matches_cable_view(void)
{
	snd_pcm_t *c = pcm_open("c1", SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	snd_ctl_t *cab = ctl_open("cab");
	snd_pcm_info_t *info;
	long v;

	snd_pcm_info_alloca(&info);
	CHECK(snd_pcm_info(c, info) == 0, "snd_pcm_info");
	CHECK(ctl_get(cab, snd_pcm_info_get_device(info), snd_pcm_info_get_subdevice(info),
		      "PCM Rate Shift 100000", &v) == 0,
	      "one-cable view has no control at the PCM's device %u subdevice %u",
	      snd_pcm_info_get_device(info), snd_pcm_info_get_subdevice(info));
	/* The one-cable view has exactly the seven controls. */
	{
		snd_ctl_elem_list_t *list;

		snd_ctl_elem_list_alloca(&list);
		CHECK(snd_ctl_elem_list(cab, list) == 0 &&
		      snd_ctl_elem_list_get_count(list) == 7,
		      "one-cable view: %u elements", snd_ctl_elem_list_get_count(list));
	}
	snd_ctl_close(cab);
	snd_pcm_close(c);
}

static void test_bad_config(void)
{
	snd_ctl_t *ctl = NULL;

	CHECK(snd_ctl_open_lconf(&ctl, "bad", 0, cfg) == -EINVAL,
	      "subdevice and subdevices together must be refused");
}

/* Reading never creates a segment; a changing write does, 0600. */
static void test_create_on_write(void)
{
	snd_ctl_t *ctl = ctl_open("card");
	char path[256];
	struct stat st;

	seg_path(path, sizeof(path), 5);
	CHECK(ctl_val(ctl, 1, 5, "PCM Notify") == 0, "default notify");
	CHECK(ctl_val(ctl, 1, 5, "PCM Rate Shift 100000") == 100000, "default shift");
	CHECK(ctl_val(ctl, 0, 5, "PCM Slave Format") == SND_PCM_FORMAT_S16_LE, "default format");
	CHECK(ctl_val(ctl, 0, 5, "PCM Slave Rate") == 48000, "default rate");
	CHECK(ctl_val(ctl, 0, 5, "PCM Slave Channels") == 2, "default channels");
	CHECK(stat(path, &st) < 0 && errno == ENOENT, "a read created %s", path);
	/* Writing the value it already has is no reason to create one. */
	CHECK(ctl_set(ctl, 1, 5, "PCM Rate Shift 100000", 100000) >= 0, "write default");
	CHECK(stat(path, &st) < 0 && errno == ENOENT, "a no-op write created %s", path);
	CHECK(ctl_set(ctl, 1, 5, "PCM Notify", 1) >= 0, "write notify");
	CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600,
	      "write did not create %s 0600", path);
	CHECK(ctl_val(ctl, 1, 5, "PCM Notify") == 1, "notify reads back");
	CHECK(ctl_val(ctl, 0, 5, "PCM Notify") == 0, "notify leaked to the other cable");
	/* Read-only controls refuse, as the kernel does. */
	CHECK(ctl_set(ctl, 1, 5, "PCM Slave Rate", 44100) == -EPERM, "Slave Rate is writable");
	CHECK(ctl_set(ctl, 1, 5, "PCM Slave Active", 1) == -EPERM, "Slave Active is writable");
	/* snd-aloop clamps the rate shift. */
	CHECK(ctl_set(ctl, 1, 5, "PCM Rate Shift 100000", 130000) >= 0, "write 130000");
	CHECK(ctl_val(ctl, 1, 5, "PCM Rate Shift 100000") == 120000, "130000 not clamped");
	CHECK(ctl_set(ctl, 1, 5, "PCM Rate Shift 100000", 1) >= 0, "write 1");
	CHECK(ctl_val(ctl, 1, 5, "PCM Rate Shift 100000") == 80000, "1 not clamped");
	/* Out of the view: not found. */
	CHECK(ctl_set(ctl, 1, 8, "PCM Notify", 1) == -ENOENT, "subdevice 8 in a 0-7 view");
	CHECK(ctl_set(ctl, 2, 0, "PCM Notify", 1) == -ENOENT, "device 2");
	snd_ctl_close(ctl);
}

/* A file that is not a valid segment: defaults, and writes fail untouched. */
static void test_invalid_segment(void)
{
	char path[256], buf[4096];
	snd_ctl_t *ctl;
	int fd;

	seg_path(path, sizeof(path), 6);
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0, "create %s", path);
	if (fd < 0)
		return;
	/* Garbage of a segment's size (the rest a hole, as in a real one). */
	memset(buf, 0x5a, sizeof(buf));
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf) &&
	      ftruncate(fd, SHM_SEGMENT_BYTES) == 0, "write");
	ctl = ctl_open("card");
	CHECK(ctl_val(ctl, 0, 6, "PCM Slave Rate") == 48000, "bad segment: not the default");
	CHECK(ctl_set(ctl, 0, 6, "PCM Notify", 1) < 0, "write into a foreign file succeeded");
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf) && buf[0] == 0x5a &&
	      buf[sizeof(buf) - 1] == 0x5a, "the foreign file was modified");
	snd_ctl_close(ctl);
	close(fd);
	unlink(path);
}

/* Nonsense in a shared segment is clamped to each control's range. */
static void test_hostile_values(void)
{
	snd_pcm_t *p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, 0);	/* makes the segment */
	snd_ctl_t *ctl = ctl_open("card");
	struct shm_seg seg;
	struct shm_cable *c;
	struct shm_seg_config cfg = { .card = card, .subdevice = SUB, .mode = 0600, .gid = -1 };
	char why[512];

	CHECK(shm_seg_attach(&seg, &cfg, why, sizeof(why)) == 0, "attach: %s", why);
	if (!seg.hdr)
		goto out;
	c = shm_seg_cable(&seg, 0);
	atomic_store(&c->rate_shift, 3);
	atomic_store(&c->notify, 77);
	atomic_store(&c->play[0].end.active, 5);
	atomic_store(&c->slave_format, 9999);
	atomic_store(&c->slave_rate, 50000000);
	atomic_store(&c->slave_channels, 0);
	atomic_store(&c->slave_access, 9);
	CHECK(ctl_val(ctl, 1, SUB, "PCM Rate Shift 100000") == 80000, "shift not clamped");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Notify") == 1, "notify not 0/1");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Active") == 1, "active not 0/1");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Format") == SND_PCM_FORMAT_LAST,
	      "format not clamped");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Rate") == 768000, "rate not clamped");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Channels") == 1, "channels not clamped");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Access Mode") == 1, "access not 0/1");
	atomic_store(&c->rate_shift, LOOP_SHIFT_NOMINAL);
	atomic_store(&c->notify, 0);
	atomic_store(&c->play[0].end.active, 0);
	shm_seg_close(&seg);
out:
	snd_ctl_close(ctl);
	snd_pcm_close(p);
}

/* Slave Format/Rate/Channels/Access report the last playback's values. */
static void test_slave_params(void)
{
	snd_ctl_t *ctl = ctl_open("card"), *cab = ctl_open("cab");
	snd_pcm_t *p;
	int err;

	p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, 0);
	err = pcm_setup(p, SND_PCM_FORMAT_S32_LE, 44100, 1, SND_PCM_ACCESS_RW_NONINTERLEAVED,
			8192);
	CHECK(err == 0, "hw_params S32_LE/44100/1/noninterleaved: %s", snd_strerror(err));
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Format") == SND_PCM_FORMAT_S32_LE, "format");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Rate") == 44100, "rate");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Channels") == 1, "channels");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Access Mode") == 1, "access");
	/* The same cable in the one-cable view, at device 0 subdevice 0. */
	CHECK(ctl_val(cab, 0, 0, "PCM Slave Rate") == 44100, "cab rate");
	CHECK(ctl_val(cab, 0, 0, "PCM Slave Access Mode") == 1, "cab access");
	/* The other cable (recorded on device 0) did not change. */
	CHECK(ctl_val(ctl, 0, SUB, "PCM Slave Rate") == 48000, "other cable's rate");
	snd_pcm_close(p);

	p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, 0);
	err = pcm_setup(p, SND_PCM_FORMAT_U8, 22050, 6, SND_PCM_ACCESS_RW_INTERLEAVED, 8192);
	CHECK(err == 0, "hw_params U8/22050/6: %s", snd_strerror(err));
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Format") == SND_PCM_FORMAT_U8, "format 2");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Rate") == 22050, "rate 2");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Channels") == 6, "channels 2");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Access Mode") == 0, "access 2");
	snd_pcm_close(p);
	snd_ctl_close(cab);
	snd_ctl_close(ctl);
}

/* Slave Active follows start/pause/resume/drop, with events. */
static void test_slave_active_events(void)
{
	snd_ctl_t *ctl = ctl_open("card"), *cab = ctl_open("cab");
	snd_pcm_t *p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	const char *act = "PCM Slave Active";
	int err;

	err = pcm_setup(p, SND_PCM_FORMAT_S16_LE, 48000, 2, SND_PCM_ACCESS_RW_INTERLEAVED, 48000);
	CHECK(err == 0, "hw_params: %s", snd_strerror(err));
	CHECK(snd_ctl_subscribe_events(ctl, 1) == 0, "subscribe");
	CHECK(snd_ctl_subscribe_events(cab, 1) == 0, "subscribe cab");
	drain_events(ctl);
	drain_events(cab);
	CHECK(ctl_val(ctl, 1, SUB, act) == 0, "active before start");
	CHECK(snd_pcm_prepare(p) == 0, "prepare");
	top_up(p);
	CHECK(snd_pcm_start(p) == 0, "start");
	CHECK(wait_event(ctl, 1, SUB, act, 2000), "no event on start");
	CHECK(wait_event(cab, 0, 0, act, 2000), "no event on start (one-cable view)");
	CHECK(ctl_val(ctl, 1, SUB, act) == 1, "active after start");
	CHECK(ctl_val(ctl, 0, SUB, act) == 0, "the other cable became active");
	top_up(p);
	CHECK(snd_pcm_pause(p, 1) == 0, "pause");
	CHECK(wait_event(ctl, 1, SUB, act, 2000), "no event on pause");
	CHECK(ctl_val(ctl, 1, SUB, act) == 0, "active while paused");
	CHECK(snd_pcm_pause(p, 0) == 0, "resume");
	CHECK(wait_event(ctl, 1, SUB, act, 2000), "no event on resume");
	CHECK(ctl_val(ctl, 1, SUB, act) == 1, "active after resume");
	top_up(p);
	CHECK(snd_pcm_drop(p) == 0, "drop");
	CHECK(wait_event(ctl, 1, SUB, act, 2000), "no event on drop");
	CHECK(ctl_val(ctl, 1, SUB, act) == 0, "active after drop");
	/* A write through another handle is an event too. */
	drain_events(ctl);
	{
		snd_ctl_t *other = ctl_open("card");

		CHECK(ctl_set(other, 1, SUB, "PCM Rate Shift 100000", 110000) >= 0, "write");
		CHECK(wait_event(ctl, 1, SUB, "PCM Rate Shift 100000", 2000),
		      "no event on a rate shift write");
		CHECK(ctl_set(other, 1, SUB, "PCM Rate Shift 100000", 100000) >= 0, "write");
		snd_ctl_close(other);
	}
	/* Unsubscribed: nothing is reported. */
	CHECK(snd_ctl_subscribe_events(ctl, 0) == 0, "unsubscribe");
	CHECK(snd_pcm_prepare(p) == 0 && top_up(p) > 0 && snd_pcm_start(p) == 0, "restart");
	sleep_ms(100);
	{
		snd_ctl_event_t *ev;

		snd_ctl_event_alloca(&ev);
		CHECK(snd_ctl_read(ctl, ev) <= 0, "an event without subscription");
	}
	snd_pcm_close(p);
	snd_ctl_close(cab);
	snd_ctl_close(ctl);
}

/* Positions of both ends: frames the playback consumed, the capture produced. */
struct ends {
	snd_pcm_t *p, *c;
	uint64_t written, read;
	int16_t buf[8192 * 2];
};

static int pump(struct ends *e)
{
	snd_pcm_sframes_t n = top_up(e->p);

	if (n < 0)
		return (int)n;
	e->written += (uint64_t)n;
	for (;;) {
		n = snd_pcm_readi(e->c, e->buf, 8192);
		if (n == -EAGAIN || n == 0)
			return 0;
		if (n < 0)
			return (int)n;
		e->read += (uint64_t)n;
	}
}

static int positions(struct ends *e, double *t, double *pp, double *cp)
{
	snd_pcm_sframes_t delay, avail;
	int err = snd_pcm_delay(e->p, &delay);

	if (err < 0)
		return err;
	avail = snd_pcm_avail(e->c);
	if (avail < 0)
		return (int)avail;
	*t = now_s();
	*pp = (double)e->written - (double)delay;
	*cp = (double)e->read + (double)avail;
	return 0;
}

/* Pump for secs; returns 0 or the error that stopped the stream. */
static int run_for(struct ends *e, double secs)
{
	struct pollfd pfd[2];
	double end = now_s() + secs;

	snd_pcm_poll_descriptors(e->p, &pfd[0], 1);
	snd_pcm_poll_descriptors(e->c, &pfd[1], 1);
	while (now_s() < end) {
		int err;

		poll(pfd, 2, 10);
		err = pump(e);
		if (err < 0)
			return err;
	}
	return 0;
}

static void test_rate_shift(void)
{
	snd_ctl_t *ctl = ctl_open("card");
	static struct ends e;
	double t0, p0, c0, t1, p1, c1, prate, crate, expect;
	double tb, pb, cb;
	int err, jumps = 0;

	e.p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	e.c = pcm_open("c1", SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	err = pcm_setup(e.p, SND_PCM_FORMAT_S16_LE, 48000, 2, SND_PCM_ACCESS_RW_INTERLEAVED,
			24000);
	CHECK(err == 0, "playback hw_params: %s", snd_strerror(err));
	err = pcm_setup(e.c, SND_PCM_FORMAT_S16_LE, 48000, 2, SND_PCM_ACCESS_RW_INTERLEAVED,
			24000);
	CHECK(err == 0, "capture hw_params: %s", snd_strerror(err));
	CHECK(snd_pcm_prepare(e.p) == 0 && snd_pcm_prepare(e.c) == 0, "prepare");
	e.written = (uint64_t)top_up(e.p);
	CHECK(snd_pcm_start(e.c) == 0 && snd_pcm_start(e.p) == 0, "start");
	if (check_failures())
		goto out;

	/* Nominal first: the measurement itself is sound. */
	err = run_for(&e, 0.3);
	err = err ? err : positions(&e, &t0, &p0, &c0);
	err = err ? err : run_for(&e, 2.0);
	err = err ? err : positions(&e, &t1, &p1, &c1);
	CHECK(err == 0, "stream error: %s", snd_strerror(err));
	if (err)
		goto out;
	prate = (p1 - p0) / (t1 - t0);
	crate = (c1 - c0) / (t1 - t0);
	printf("nominal: playback %.0f, capture %.0f frames/s\n", prate, crate);
	CHECK(prate > 48000 * 0.99 && prate < 48000 * 1.01, "playback nominal %.0f", prate);
	CHECK(crate > 48000 * 0.99 && crate < 48000 * 1.01, "capture nominal %.0f", crate);

	/* Change, watching for a jump in either position around it. */
	positions(&e, &tb, &pb, &cb);
	for (int i = 0; i < 60 && !err; i++) {
		double t, pp, cp, dt, lo, hi;

		if (i == 20)
			CHECK(ctl_set(ctl, 1, SUB, "PCM Rate Shift 100000", 90000) >= 0,
			      "write 90000");
		sleep_ms(3);
		err = pump(&e);
		err = err ? err : positions(&e, &t, &pp, &cp);
		if (err)
			break;
		dt = t - tb;
		/* Between 48000 and 53333 frames/s, 5 ms of slack for preemption. */
		lo = dt * 48000 * 0.98 - 240;
		hi = dt * 53334 * 1.02 + 240;
		if (pp - pb < lo || pp - pb > hi || cp - cb < lo || cp - cb > hi) {
			fprintf(stderr, "jump: dt %.4f s playback %+.0f capture %+.0f frames\n",
				dt, pp - pb, cp - cb);
			jumps++;
		}
		tb = t, pb = pp, cb = cp;
	}
	CHECK(err == 0, "stream error at the change: %s", snd_strerror(err));
	CHECK(jumps == 0, "%d position jumps at the rate shift change", jumps);
	CHECK(ctl_val(ctl, 1, SUB, "PCM Rate Shift 100000") == 90000, "reads back 90000");

	err = err ? err : run_for(&e, 0.2);
	err = err ? err : positions(&e, &t0, &p0, &c0);
	err = err ? err : run_for(&e, 2.5);
	err = err ? err : positions(&e, &t1, &p1, &c1);
	CHECK(err == 0, "stream error: %s", snd_strerror(err));
	if (err)
		goto out;
	expect = 48000.0 * 100000 / 90000;
	prate = (p1 - p0) / (t1 - t0);
	crate = (c1 - c0) / (t1 - t0);
	printf("shift 90000: playback %.0f, capture %.0f frames/s (expected %.0f)\n", prate,
	       crate, expect);
	CHECK(prate > expect * 0.99 && prate < expect * 1.01, "playback %.0f", prate);
	CHECK(crate > expect * 0.99 && crate < expect * 1.01, "capture %.0f", crate);
out:
	ctl_set(ctl, 1, SUB, "PCM Rate Shift 100000", 100000);
	snd_pcm_close(e.p);
	snd_pcm_close(e.c);
	snd_ctl_close(ctl);
}

/*
 * Notify (snd-aloop with "ALSA: aloop: Don't constrain playback params in
 * notify mode"): off, a playback is pinned to the
 * running capture's parameters; on, it may choose others, the capture is
 * put in DRAINING and the Slave controls report the new values.
 */
static void test_notify(void)
{
	snd_ctl_t *ctl = ctl_open("card");
	snd_pcm_t *c, *p;
	snd_pcm_hw_params_t *hw;
	int16_t buf[4096 * 2];
	double end;
	int err;

	snd_pcm_hw_params_alloca(&hw);
	CHECK(ctl_set(ctl, 1, SUB, "PCM Notify", 0) >= 0, "notify off");
	c = pcm_open("c1", SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	err = pcm_setup(c, SND_PCM_FORMAT_S16_LE, 48000, 2, SND_PCM_ACCESS_RW_INTERLEAVED, 9600);
	CHECK(err == 0, "capture hw_params: %s", snd_strerror(err));
	CHECK(snd_pcm_prepare(c) == 0 && snd_pcm_start(c) == 0, "capture start");

	p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	snd_pcm_hw_params_any(p, hw);
	CHECK(snd_pcm_hw_params_test_rate(p, hw, 44100, 0) < 0,
	      "notify off: the playback may choose 44100 on a 48000 cable");
	snd_pcm_close(p);

	CHECK(ctl_set(ctl, 1, SUB, "PCM Notify", 1) >= 0, "notify on");
	CHECK(snd_ctl_subscribe_events(ctl, 1) == 0, "subscribe");
	drain_events(ctl);
	p = pcm_open("p0", SND_PCM_STREAM_PLAYBACK, SND_PCM_NONBLOCK);
	err = pcm_setup(p, SND_PCM_FORMAT_S16_LE, 44100, 2, SND_PCM_ACCESS_RW_INTERLEAVED, 8820);
	CHECK(err == 0, "notify on: playback hw_params 44100: %s", snd_strerror(err));
	CHECK(snd_pcm_prepare(p) == 0 && top_up(p) > 0 && snd_pcm_start(p) == 0,
	      "playback start");
	CHECK(wait_event(ctl, 1, SUB, "PCM Slave Rate", 2000), "no Slave Rate event");
	CHECK(ctl_val(ctl, 1, SUB, "PCM Slave Rate") == 44100, "Slave Rate after notify");
	/* The capture reads what is left, then stays DRAINING with nothing. */
	end = now_s() + 2.0;
	while (now_s() < end) {
		snd_pcm_sframes_t n = snd_pcm_readi(c, buf, 4096);

		if (n < 0 && n != -EAGAIN)
			break;
		if (snd_pcm_state(c) == SND_PCM_STATE_DRAINING && n <= 0)
			break;
		sleep_ms(10);
	}
	CHECK(snd_pcm_state(c) == SND_PCM_STATE_DRAINING ||
	      snd_pcm_state(c) == SND_PCM_STATE_XRUN ||
	      snd_pcm_state(c) == SND_PCM_STATE_SETUP,
	      "capture state %s after the relock, expected DRAINING (or stopped)",
	      snd_pcm_state_name(snd_pcm_state(c)));
	snd_pcm_close(c);
	/* A capture opened now follows the new lock. */
	c = pcm_open("c1", SND_PCM_STREAM_CAPTURE, SND_PCM_NONBLOCK);
	snd_pcm_hw_params_any(c, hw);
	CHECK(snd_pcm_hw_params_test_rate(c, hw, 44100, 0) == 0 &&
	      snd_pcm_hw_params_test_rate(c, hw, 48000, 0) < 0,
	      "a new capture is not pinned to 44100");
	snd_pcm_close(c);
	snd_pcm_close(p);
	ctl_set(ctl, 1, SUB, "PCM Notify", 0);
	snd_ctl_close(ctl);
}

int main(void)
{
	int err = load_config();

	setvbuf(stdout, NULL, _IONBF, 0);
	if (err < 0) {
		fprintf(stderr, "FATAL: config: %s\n", snd_strerror(err));
		return 1;
	}
	atexit(cleanup);
	test_bad_config();
	test_pcm_info_matches_cable_view();
	test_create_on_write();
	test_invalid_segment();
	test_hostile_values();
	test_slave_params();
	test_slave_active_events();
	test_rate_shift();
	test_notify();
	snd_config_delete(cfg);
	snd_config_update_free_global();
	return check_finish();
}
