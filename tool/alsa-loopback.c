// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alsa-loopback - list, watch, tap and clean up the shared segments of
 * the user-space ALSA loopback (see alsa-loopback.1, which --help prints).
 *
 * Everything shown comes from the segments (shm_layout.h).  "Attached" is
 * decided by the end's OFD lock, never by the pid written beside it: the
 * kernel drops the lock of a dead process, while the pid stays.  The
 * segment is another process's memory: every value is shown as read, but
 * nothing read from it is used as a size or an index.
 *
 * libasound is linked only for format and state names.
 */
#define _GNU_SOURCE
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#include "shm_cable.h"
#include "shm_flow.h"
#include "shm_hear.h"
#include "shm_place.h"
#include "shm_ring.h"
#include "shm_seg.h"
#include "shm_time.h"
#include "alsa-loopback-help.h"

struct opts {
	const char *dir;	/* NULL: the user's private directory */
	const char *card;	/* NULL: all */
	bool json;
	bool all;		/* list/watch: idle segments too */
	bool dry_run;
	double interval;
	long count;		/* watch: tables to print, 0 = forever */
	unsigned int device;	/* tap: 0 loop:N's cable, 1 loopcap:N's */
	double duration;	/* tap: seconds, 0 = until stopped */
};

/* A segment file found in the directory. */
struct entry {
	char card[LOOP_CARD_MAX];
	unsigned int subdevice;
	char path[512];
};

/* ---- discovery ----------------------------------------------------------- */

/* "alsa-loopback-<card>.<N>" in dir, exactly as the plugin names it. */
static bool parse_name(const char *dir, const char *name, struct entry *e)
{
	const char *dot, *p;
	unsigned long n;
	char *end;
	size_t len;

	if (strncmp(name, SHM_SEG_PREFIX, strlen(SHM_SEG_PREFIX)))
		return false;
	p = name + strlen(SHM_SEG_PREFIX);
	dot = strrchr(p, '.');
	if (!dot || dot == p || !dot[1])
		return false;
	len = (size_t)(dot - p);
	if (len >= sizeof(e->card))
		return false;
	memcpy(e->card, p, len);
	e->card[len] = 0;
	errno = 0;
	n = strtoul(dot + 1, &end, 10);
	if (errno || *end || n > LOOP_SUBDEVICE_MAX || !shm_card_valid(e->card))
		return false;
	e->subdevice = (unsigned int)n;
	/* Round trip: rejects "007" and other aliases of a real name. */
	if (shm_seg_path(e->path, sizeof(e->path), dir, e->card, e->subdevice) < 0 ||
	    strcmp(strrchr(e->path, '/') + 1, name))
		return false;
	return true;
}

static int entry_cmp(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c = strcmp(x->card, y->card);

	if (c)
		return c;
	return (x->subdevice > y->subdevice) - (x->subdevice < y->subdevice);
}

static const char *seg_dir(const struct opts *o)
{
	static char own[256];

	if (o->dir)
		return o->dir;
	if (!own[0] && shm_dir_default_path(own, sizeof(own)) < 0)
		snprintf(own, sizeof(own), "%s", SHM_DEFAULT_ROOT);
	return own;
}

/*
 * Open the segment of e as the plugins do (the directory by descriptor,
 * no symlink, a file trusted as ours or shared with us) without creating
 * it.  The tool has no 'perm' key: any segment that lets us read and
 * write it, and grants nothing else, is one we may look at and collect.
 */
static int entry_attach(const struct opts *o, const struct entry *e, struct shm_seg *seg,
			char *why, size_t why_len)
{
	struct shm_seg_config cfg = { .dir = o->dir, .card = e->card, .subdevice = e->subdevice,
				      .mode = 0666, .gid = -1 };
	int err = shm_seg_attach(seg, &cfg, why, why_len);

	if (err == -ENOENT && !why[0])
		snprintf(why, why_len, "%s is gone", e->path);
	return err;
}

/* All segment files, sorted by card key and subdevice. */
static int find_segments(const struct opts *o, struct entry **out, size_t *n_out)
{
	struct entry *v = NULL, e;
	size_t n = 0, cap = 0;
	struct dirent *de;
	DIR *d = opendir(seg_dir(o));

	if (!d && errno == ENOENT && !o->dir) {
		*out = NULL;	/* nothing ever made our private directory */
		*n_out = 0;
		return 0;
	}
	if (!d) {
		fprintf(stderr, "alsa-loopback: cannot read %s: %s\n", seg_dir(o), strerror(errno));
		return -1;
	}
	while ((de = readdir(d))) {
		if (!parse_name(o->dir, de->d_name, &e))
			continue;
		if (o->card && strcmp(o->card, e.card))
			continue;
		if (n == cap) {
			struct entry *nv;

			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				fprintf(stderr, "alsa-loopback: out of memory\n");
				return -1;
			}
			v = nv;
		}
		v[n++] = e;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), entry_cmp);
	*out = v;
	*n_out = n;
	return 0;
}

/* ---- hearing a cable, passively ------------------------------------------ */

/*
 * What a capture of the cable would hear, read through the shared layer
 * (shm_hear.h) without an end of our own: no lock is taken, no byte of
 * the segment written, so the writer and the real capture never know.
 */
#define EAR_BLOCK	1024u	/* frames heard at once */

struct ear {
	struct shm_seg *seg;
	unsigned int cable;
	struct shm_params lock;
	snd_pcm_format_t format;
	uint32_t frame_bytes;
	bool linear;		/* a level can be measured, writers can be summed */
	struct mix_format mf;
	struct shm_writer w[SHM_SLOTS];
	unsigned int nw;
	union mix_acc *acc;	/* EAR_BLOCK frames of sums */
};

/*
 * Frames a cable's ring holds clear of its writer: the writer may fill a
 * buffer of half the ring ahead of the clock, so older frames than half
 * the ring behind it may be gone.  An eighth of the ring less, for our own
 * lag and late wake-ups (an eighth of the smallest ring is 125 ms).
 */
static uint64_t ring_clear_frames(struct shm_seg *seg, unsigned int cable, uint32_t frame_bytes)
{
	uint64_t frames = shm_ring_frames(&(struct shm_ring){
		.bytes = shm_seg_ring(seg, cable, 0, false).bytes }, frame_bytes);

	return frames / LOOP_RING_PER_BUFFER - frames / 8;
}

static int ear_init(struct ear *e, struct shm_seg *seg, unsigned int cable,
		    const struct shm_params *lock)
{
	snd_pcm_format_t f = (snd_pcm_format_t)lock->format;
	int phys = lock->format <= SND_PCM_FORMAT_LAST ? snd_pcm_format_physical_width(f) : -1;

	memset(e, 0, sizeof(*e));
	if (phys <= 0 || phys % 8 || !lock->channels || lock->channels > LOOP_CHANNELS_MAX ||
	    !lock->rate)
		return -EINVAL;
	e->seg = seg;
	e->cable = cable;
	e->lock = *lock;
	e->format = f;
	e->frame_bytes = (uint32_t)phys / 8 * lock->channels;
	e->linear = snd_pcm_format_linear(f) == 1 || snd_pcm_format_float(f) == 1;
	/* As the plugin's capture describes the format to loop_mix. */
	e->mf = (struct mix_format){
		.bytes = (unsigned int)phys / 8,
		.bits = (unsigned int)snd_pcm_format_width(f),
		.is_signed = snd_pcm_format_signed(f) == 1,
		.big_endian = snd_pcm_format_big_endian(f) == 1,
		.is_float = snd_pcm_format_float(f) == 1,
	};
	e->acc = calloc((size_t)EAR_BLOCK * lock->channels, sizeof(*e->acc));
	return e->acc ? 0 : -ENOMEM;
}

static void ear_free(struct ear *e)
{
	free(e->acc);
	e->acc = NULL;
}

/* Snapshot the cable's playbacks: once per batch of ear_hear() calls. */
static void ear_load(struct ear *e)
{
	e->nw = shm_writers_load(e->seg, e->cable, e->w);
}

/* Frames [tick, tick + frames) as a capture hears them, into out (frames <= EAR_BLOCK). */
static void ear_hear(struct ear *e, uint64_t tick, uint32_t frames, uint8_t *out)
{
	struct shm_writer *heard[SHM_SLOTS];

	while (frames) {
		uint64_t chunk = frames, lost = 0;
		unsigned int n = shm_writers_at(e->w, e->nw, e->frame_bytes, tick, &chunk, heard);

		if (n == 1) {
			shm_ring_read(&heard[0]->ring, e->frame_bytes, heard[0]->q, out,
				      (uint32_t)chunk);
			lost = shm_writer_overwritten(heard[0], e->frame_bytes, chunk);
		} else if (n > 1) {
			shm_writers_mix(heard, n, e->frame_bytes, e->lock.channels, &e->mf, e->acc,
					out, (uint32_t)chunk);
		} else {
			lost = chunk;
		}
		if (lost)	/* never written, or overwritten as we copied: silence */
			snd_pcm_format_set_silence(e->format, out, (unsigned int)lost *
						   e->lock.channels);
		tick += chunk;
		out += chunk * e->frame_bytes;
		frames -= (uint32_t)chunk;
	}
}

/* The cable's grid with our rate; false if unreadable. */
static bool ear_grid(struct ear *e, struct shm_grid *g)
{
	*g = (struct shm_grid){ .rate = e->lock.rate, .shift = LOOP_SHIFT_NOMINAL };
	return shm_grid_load(shm_seg_cable(e->seg, e->cable), g) == 0;
}

/*
 * How far behind "now" we hear: a playback publishes a span it opens,
 * pauses or stops a moment after it read the clock, and a capture reads
 * its ticks a period late anyway.
 */
#define EAR_LAG_NS	(UINT64_C(5) * 1000000u)

/* ---- levels -------------------------------------------------------------- */

/* Peak and RMS over some frames, in dBFS; what "watch" shows per cable. */
struct level {
	bool valid;		/* a linear format was heard */
	uint64_t frames;
	double peak, sum_sq;	/* full scale = 1.0 */
	uint64_t samples;
	bool clip;		/* a sample at or beyond full scale */
};

/* Below this peak a cable is silent: -90 dBFS is one LSB of 16 bits. */
#define LEVEL_SILENT_DB		(-90.0)

static void level_add(struct level *lv, struct ear *e, const uint8_t *buf, uint32_t frames)
{
	size_t samples = (size_t)frames * e->lock.channels;
	double full = e->mf.is_float ? 1.0 : (double)(UINT64_C(1) << (e->mf.bits - 1));
	double top = e->mf.is_float ? 1.0 : (full - 1.0) / full;

	/* loop_mix decodes every linear layout: one sum of one writer is the sample. */
	mix_clear(e->acc, samples, &e->mf);
	mix_add(e->acc, buf, samples, &e->mf);
	for (size_t k = 0; k < samples; k++) {
		double v = e->mf.is_float ? e->acc[k].d : (double)e->acc[k].i / full;
		double a = fabs(v);

		if (!isfinite(a))
			a = 1.0;
		if (a > lv->peak)
			lv->peak = a;
		if (a >= top)
			lv->clip = true;
		lv->sum_sq += a * a;
	}
	lv->samples += samples;
	lv->frames += frames;
	lv->valid = true;
}

/* What the cable carried over the last window_s seconds before now. */
static void cable_level(struct shm_seg *seg, unsigned int cable, const struct shm_params *lock,
			double window_s, struct level *lv)
{
	struct ear e;
	struct shm_grid g;
	uint64_t end, begin, frames, cap;
	uint8_t *buf;

	memset(lv, 0, sizeof(*lv));
	if (lock->clock != SHM_CLOCK_REALTIME || ear_init(&e, seg, cable, lock) < 0)
		return;
	if (!e.linear || !ear_grid(&e, &g) || !(buf = malloc((size_t)EAR_BLOCK * e.frame_bytes))) {
		ear_free(&e);
		return;
	}
	end = shm_grid_tick(&g, shm_now_ns() - EAR_LAG_NS);
	frames = (uint64_t)(window_s * lock->rate);
	/* No more than a ring holds clear of its writer, nothing before the grid began. */
	cap = ring_clear_frames(seg, cable, e.frame_bytes);
	if (frames > cap)
		frames = cap;
	if (frames > end - g.base_tick)
		frames = end - g.base_tick;
	begin = end - frames;
	ear_load(&e);
	while (begin < end) {
		uint32_t n = end - begin < EAR_BLOCK ? (uint32_t)(end - begin) : EAR_BLOCK;

		ear_hear(&e, begin, n, buf);
		level_add(lv, &e, buf, n);
		begin += n;
	}
	free(buf);
	ear_free(&e);
}

static double level_db(double v)
{
	return v > 0 ? 20.0 * log10(v) : -INFINITY;
}

static double level_rms(const struct level *lv)
{
	return lv->samples ? sqrt(lv->sum_sq / (double)lv->samples) : 0.0;
}

static bool level_silent(const struct level *lv)
{
	return level_db(lv->peak) < LEVEL_SILENT_DB;
}

/* ---- snapshot of a segment ----------------------------------------------- */

struct cable_info {
	bool locked;
	struct shm_params lock;
	struct shm_controls ctl;
	bool has_fill;
	uint64_t fill;
	/* Per role: the first attached place (slot 0 if none), then all of them. */
	struct shm_end_info end[SHM_ROLES];
	unsigned int slot[SHM_ROLES];
	struct shm_end_info place[SHM_ROLES][SHM_SLOTS];
	unsigned int nplaces[SHM_ROLES];
	struct level level;	/* watch: what the cable carried over the interval */
};

/* Frames written but not yet played by a playback, if it is running now. */
static bool playback_fill(struct shm_seg *seg, unsigned int cable, unsigned int slot,
			  uint32_t rate, uint64_t *fill)
{
	struct shm_ring r = shm_seg_ring(seg, cable, slot, shm_cable_play_shared(seg, cable));
	struct shm_grid g = { .rate = rate, .shift = LOOP_SHIFT_NOMINAL };
	struct shm_timeline tl;
	uint64_t pos, run, written;

	if (!rate || shm_grid_load(shm_seg_cable(seg, cable), &g) < 0 ||
	    shm_timeline_load(r.slot, &tl) < 0)
		return false;
	if (!shm_timeline_pos(&tl, shm_grid_tick(&g, shm_now_ns()), &pos, &run))
		return false;
	written = shm_ring_written(&r);
	*fill = written > pos ? written - pos : 0;
	return true;
}

static void cable_snapshot(struct shm_seg *seg, unsigned int cable, struct cable_info *ci,
			   double level_s)
{
	memset(ci, 0, sizeof(*ci));
	ci->locked = shm_cable_locked(seg, cable, &ci->lock);
	shm_controls_read(seg, cable, &ci->ctl);
	if (!ci->ctl.slave.rate)	/* no playback yet: snd-aloop's defaults */
		ci->ctl.slave = (struct shm_params){ .format = SND_PCM_FORMAT_S16_LE,
			.rate = LOOP_SLAVE_RATE_DEFAULT, .channels = LOOP_SLAVE_CHANNELS_DEFAULT };
	for (unsigned int r = 0; r < SHM_ROLES; r++) {
		bool found = false;

		for (unsigned int k = 0; k < SHM_SLOTS; k++) {
			struct shm_place pl = { .cable = cable, .role = r, .slot = k };
			struct shm_end_info info;

			shm_end_info(seg, &pl, &info);
			if (k == 0 || (info.attached && !found)) {
				ci->end[r] = info;
				ci->slot[r] = k;
			}
			found |= info.attached;
			if (info.attached)
				ci->place[r][ci->nplaces[r]++] = info;
		}
	}
	if (ci->locked && ci->end[SHM_ROLE_PLAY].attached &&
	    ci->end[SHM_ROLE_PLAY].state == SND_PCM_STATE_RUNNING)
		ci->has_fill = playback_fill(seg, cable, ci->slot[SHM_ROLE_PLAY], ci->lock.rate,
					     &ci->fill);
	if (ci->locked && level_s > 0)
		cable_level(seg, cable, &ci->lock, level_s, &ci->level);
}

/*
 * An end attached, or a control a user changed: what the last one out
 * keeps.  Anything else was left by a crash (list --all, gc).
 */
static bool in_use(const struct cable_info info[SHM_CABLES])
{
	for (unsigned int c = 0; c < SHM_CABLES; c++) {
		if (info[c].ctl.notify || info[c].ctl.rate_shift != LOOP_SHIFT_NOMINAL)
			return true;
		for (unsigned int r = 0; r < SHM_ROLES; r++)
			if (info[c].nplaces[r])
				return true;
	}
	return false;
}

static const char *format_name(uint32_t f)
{
	const char *name = f <= SND_PCM_FORMAT_LAST ? snd_pcm_format_name((snd_pcm_format_t)f)
						    : NULL;

	return name ? name : "?";
}

static const char *state_name(uint32_t s)
{
	const char *name = s <= SND_PCM_STATE_LAST ? snd_pcm_state_name((snd_pcm_state_t)s)
						   : NULL;

	return name ? name : "?";
}

static const char *pcm_of_device(unsigned int device)
{
	return device ? "loopcap" : "loop";
}

/* ---- output -------------------------------------------------------------- */

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void json_end(FILE *f, const struct shm_end_info *e)
{
	fprintf(f, "{\"attached\": %s, ", e->attached ? "true" : "false");
	if (e->attached)
		fprintf(f, "\"pid\": %u, \"state\": \"%s\", ", e->pid, state_name(e->state));
	else
		fprintf(f, "\"pid\": null, \"state\": null, ");
	fprintf(f, "\"period_frames\": %u, \"buffer_frames\": %u, \"frames\": %llu, "
		"\"xruns\": %u}", e->period_frames, e->buffer_frames, (unsigned long long)e->frames, e->xruns);
}

/* A level in dBFS, or null for no sample above zero. */
static void json_db(FILE *f, double v)
{
	if (v > 0)
		fprintf(f, "%.2f", level_db(v));
	else
		fprintf(f, "null");
}

static void json_level(FILE *f, const struct level *lv)
{
	if (!lv->valid) {
		fprintf(f, ", \"level\": null");
		return;
	}
	fprintf(f, ", \"level\": {\"frames\": %llu, \"peak_dbfs\": ", (unsigned long long)lv->frames);
	json_db(f, lv->peak);
	fprintf(f, ", \"rms_dbfs\": ");
	json_db(f, level_rms(lv));
	fprintf(f, ", \"silence\": %s, \"clip\": %s}", level_silent(lv) ? "true" : "false",
		lv->clip ? "true" : "false");
}

static void json_cable(FILE *f, unsigned int cable, const struct cable_info *ci, bool watch)
{
	fprintf(f, "{\"cable\": %u, \"playback\": \"%s\", \"capture\": \"%s\", \"locked\": %s, ",
		cable, pcm_of_device(cable), pcm_of_device(cable ^ 1u),
		ci->locked ? "true" : "false");
	if (ci->locked)
		fprintf(f, "\"format\": \"%s\", \"rate\": %u, \"channels\": %u, \"access\": \"%s\", ",
			format_name(ci->lock.format), ci->lock.rate, ci->lock.channels,
			ci->lock.access ? "non-interleaved" : "interleaved");
	else
		fprintf(f, "\"format\": null, \"rate\": null, \"channels\": null, "
			"\"access\": null, ");
	fprintf(f, "\"rate_shift\": %u, \"notify\": %s, \"slave_active\": %s, "
		"\"slave_format\": \"%s\", \"slave_rate\": %u, \"slave_channels\": %u, "
		"\"slave_access\": \"%s\", ", ci->ctl.rate_shift, ci->ctl.notify ? "true" : "false",
		ci->ctl.active ? "true" : "false", format_name(ci->ctl.slave.format), ci->ctl.slave.rate,
		ci->ctl.slave.channels, ci->ctl.slave.access ? "non-interleaved" : "interleaved");
	if (ci->has_fill)
		fprintf(f, "\"fill_frames\": %llu, ", (unsigned long long)ci->fill);
	else
		fprintf(f, "\"fill_frames\": null, ");
	fprintf(f, "\"ends\": {\"playback\": ");
	json_end(f, &ci->end[SHM_ROLE_PLAY]);
	fprintf(f, ", \"capture\": ");
	json_end(f, &ci->end[SHM_ROLE_CAP]);
	fprintf(f, "}");
	/* Every attached opener: one per exclusive end, up to 16 per shared end. */
	for (unsigned int r = 0; r < SHM_ROLES; r++) {
		fprintf(f, ", \"%s\": {\"shared\": %s, \"openers\": [",
			r == SHM_ROLE_PLAY ? "playbacks" : "captures",
			ci->end[r].shared ? "true" : "false");
		for (unsigned int i = 0; i < ci->nplaces[r]; i++) {
			fprintf(f, "%s", i ? ", " : "");
			json_end(f, &ci->place[r][i]);
		}
		fprintf(f, "]}");
	}
	if (watch)
		json_level(f, &ci->level);
	fprintf(f, "}");
}

static void table_header(FILE *f, bool watch)
{
	fprintf(f, "%-8s %4s %-12s %-9s %6s %3s %-6s %6s %6s %-8s %7s %-9s %6s %6s %10s %5s %s",
		"CARD", "SUB", "CABLE", "FORMAT", "RATE", "CH", "ACCESS", "SHIFT", "NOTIFY",
		"END", "PID", "STATE", "PERIOD", "BUFFER", "FRAMES", "XRUNS", "FILL");
	if (watch)	/* after FILL: the columns before keep their places */
		fprintf(f, " %6s %6s %s", "PEAK", "RMS", "LEVEL");
	fputc('\n', f);
}

/* The watch's level columns of a cable's first row: dBFS, or "-" without one. */
static void table_level(FILE *f, const struct level *lv)
{
	char peak[16], rms[16];

	if (!lv->valid) {
		fprintf(f, " %6s %6s %s", "-", "-", "-");
		return;
	}
	snprintf(peak, sizeof(peak), "%.1f", level_db(lv->peak));
	snprintf(rms, sizeof(rms), "%.1f", level_db(level_rms(lv)));
	fprintf(f, " %6s %6s %s", peak, rms, lv->clip ? "clip" : level_silent(lv) ? "silence" :
		"ok");
}

static void table_rows(FILE *f, const struct entry *e, unsigned int cable,
		       const struct cable_info *ci, bool watch)
{
	char cab[16], rate[16], ch[16], pid[16], fill[40];

	snprintf(cab, sizeof(cab), "%s>%s", pcm_of_device(cable), pcm_of_device(cable ^ 1u));
	snprintf(rate, sizeof(rate), "%u", ci->lock.rate);
	snprintf(ch, sizeof(ch), "%u", ci->lock.channels);
	for (unsigned int row = 0; row < SHM_ROLES * SHM_SLOTS; row++) {
		unsigned int r = row / SHM_SLOTS, i = row % SHM_SLOTS;
		const struct shm_end_info *en = i ? &ci->place[r][i] : &ci->end[r];
		char end_name[24];

		/* Row 0 of a role: as ever; then the other openers of a shared end. */
		if (i && (i >= ci->nplaces[r] || !ci->end[r].shared))
			continue;
		snprintf(end_name, sizeof(end_name), "%s%s", r == SHM_ROLE_PLAY ? "playback" :
			 "capture", i ? "+" : "");
		snprintf(pid, sizeof(pid), "%u", en->pid);
		if (r == SHM_ROLE_PLAY && !i && ci->has_fill) {
			if (watch && en->buffer_frames)
				snprintf(fill, sizeof(fill), "%llu(%llu%%)",
					 (unsigned long long)ci->fill,
					 (unsigned long long)(ci->fill * 100 / en->buffer_frames));
			else
				snprintf(fill, sizeof(fill), "%llu", (unsigned long long)ci->fill);
		} else {
			snprintf(fill, sizeof(fill), "-");
		}
		fprintf(f, "%-8s %4u %-12s %-9s %6s %3s %-6s %6u %6u %-8s %7s %-9s %6u %6u %10llu "
			"%5u %s", e->card, e->subdevice, cab,
			ci->locked ? format_name(ci->lock.format) : "-", ci->locked ? rate : "-",
			ci->locked ? ch : "-", !ci->locked ? "-" : ci->lock.access ? "nonint" : "inter",
			ci->ctl.rate_shift, ci->ctl.notify, end_name,
			en->attached ? pid : "-", en->attached ? state_name(en->state) : "-",
			en->period_frames, en->buffer_frames, (unsigned long long)en->frames, en->xruns, fill);
		/* The level is the cable's: on its first row. */
		if (watch && !row)
			table_level(f, &ci->level);
		else if (watch)
			fprintf(f, " %6s %6s %s", "-", "-", "-");
		fputc('\n', f);
	}
}

/* One table or JSON document of every segment; 1 if one was unreadable. */
static int show(const struct opts *o, bool watch, bool compact_json)
{
	struct entry *v = NULL;
	size_t n = 0;
	int status = 0;
	FILE *f = stdout;

	if (find_segments(o, &v, &n) < 0)
		return 1;
	if (o->json)
		fprintf(f, "{\"segments\": [");
	else
		table_header(f, watch);
	for (size_t i = 0; i < n; i++) {
		struct shm_seg seg;
		char why[768];
		struct cable_info info[SHM_CABLES];
		int err = entry_attach(o, &v[i], &seg, why, sizeof(why));

		if (!err) {
			for (unsigned int c = 0; c < SHM_CABLES; c++)
				cable_snapshot(&seg, c, &info[c], watch ? o->interval : 0);
			if (!o->all && !in_use(info)) {
				shm_seg_close(&seg);
				continue;
			}
		}
		if (o->json) {
			fprintf(f, "%s%s{\"path\": ", i ? "," : "", compact_json ? "" : "\n  ");
			json_str(f, v[i].path);
			fprintf(f, ", \"card\": ");
			json_str(f, v[i].card);
			fprintf(f, ", \"subdevice\": %u, ", v[i].subdevice);
		}
		if (err < 0) {
			status = 1;
			if (o->json) {
				fprintf(f, "\"error\": ");
				json_str(f, why);
				fprintf(f, "}");
			} else {
				fprintf(stderr, "alsa-loopback: %s\n", why);
			}
			continue;
		}
		if (o->json)
			fprintf(f, "\"cables\": [");
		for (unsigned int c = 0; c < SHM_CABLES; c++) {
			struct cable_info *ci = &info[c];

			if (o->json) {
				fprintf(f, "%s%s", c ? "," : "", compact_json ? "" : "\n    ");
				json_cable(f, c, ci, watch);
			} else {
				table_rows(f, &v[i], c, ci, watch);
			}
		}
		if (o->json)
			fprintf(f, "]}");
		shm_seg_close(&seg);
	}
	if (o->json)
		fprintf(f, "%s]}\n", compact_json || !n ? "" : "\n");
	free(v);
	fflush(f);
	return status;
}

static int cmd_watch(const struct opts *o)
{
	bool tty = isatty(STDOUT_FILENO);
	int status = 0;

	for (long k = 0; !o->count || k < o->count; k++) {
		if (k) {
			struct timespec ts;

			ts.tv_sec = (time_t)o->interval;
			ts.tv_nsec = (long)((o->interval - (double)ts.tv_sec) * 1e9);
			nanosleep(&ts, NULL);
		}
		if (tty && !o->json)
			fputs("\033[H\033[2J", stdout);
		if (!o->json) {
			time_t now = time(NULL);
			char stamp[64];

			strftime(stamp, sizeof(stamp), "%F %T", localtime(&now));
			printf("alsa-loopback watch: %s, every %gs\n", stamp, o->interval);
		}
		status |= show(o, true, true);
		if (!o->json && !tty)
			putchar('\n');
		fflush(stdout);
	}
	return status;
}

/* ---- tap ----------------------------------------------------------------- */

/*
 * How the cable's format goes into a WAV file.  WAV integer PCM is
 * unsigned at 8 bits, signed little-endian above, its value in the top
 * bits of whole bytes: other layouts are converted losslessly (24 bits in
 * 4 bytes packed into 3, 18 and 20 bits scaled to 24, unsigned and
 * big-endian made signed little-endian); floats are byte-swapped if
 * big-endian; mu-law and A-law keep their bytes under their own tags.
 */
struct wav_out {
	uint16_t tag;		/* 1 PCM, 3 IEEE float, 6 A-law, 7 mu-law */
	unsigned int bytes;	/* per sample in the file */
	bool copy;		/* the cable's bytes are already WAV's */
};

#define WAV_PCM		1u
#define WAV_FLOAT	3u
#define WAV_ALAW	6u
#define WAV_MULAW	7u
#define WAV_HEADER_MAX	58u

static void wav_choose(const struct ear *e, struct wav_out *w)
{
	const struct mix_format *m = &e->mf;

	*w = (struct wav_out){ .tag = WAV_PCM, .bytes = m->bytes };
	if (e->format == SND_PCM_FORMAT_MU_LAW || e->format == SND_PCM_FORMAT_A_LAW) {
		w->tag = e->format == SND_PCM_FORMAT_MU_LAW ? WAV_MULAW : WAV_ALAW;
		w->copy = true;
	} else if (m->is_float) {
		w->tag = WAV_FLOAT;
		w->copy = !m->big_endian;
	} else {
		w->bytes = (m->bits + 7) / 8;
		w->copy = w->bytes == m->bytes && w->bytes * 8 == m->bits && !m->big_endian &&
			  m->is_signed == (w->bytes > 1);
	}
}

/* Rewrite samples in place as w says (the output is never longer); returns the bytes. */
static size_t wav_convert(const struct ear *e, const struct wav_out *w, uint8_t *buf,
			  size_t samples)
{
	const struct mix_format *m = &e->mf;
	unsigned int shift = w->bytes * 8 - m->bits;
	/* Integers are 8..32 bits; a FLOAT64's 64 must not shift (UBSan). */
	uint64_t mask = m->bits >= 64 ? UINT64_MAX : (UINT64_C(1) << m->bits) - 1;
	uint64_t sign = UINT64_C(1) << ((m->bits - 1) & 63);
	uint8_t *out = buf, *start = buf;

	if (w->copy)
		return samples * m->bytes;
	for (size_t k = 0; k < samples; k++, buf += m->bytes) {
		uint64_t v = 0;

		for (unsigned int b = 0; b < m->bytes; b++)
			v |= (uint64_t)buf[m->big_endian ? m->bytes - 1 - b : b] << (8 * b);
		if (!m->is_float) {
			/* Two's complement from the significant bits, then to the top. */
			v &= mask;
			v = m->is_signed ? (v ^ sign) - sign : v - sign;
			v <<= shift;
			if (w->bytes == 1)
				v += 0x80;	/* WAV's 8 bits are unsigned */
		}
		for (unsigned int b = 0; b < w->bytes; b++)
			*out++ = (uint8_t)(v >> (8 * b));
	}
	return (size_t)(out - start);
}

static uint8_t *put_le(uint8_t *p, uint64_t v, unsigned int bytes)
{
	for (unsigned int b = 0; b < bytes; b++)
		*p++ = (uint8_t)(v >> (8 * b));
	return p;
}

/* The header for data_bytes of audio; returns its length. */
static size_t wav_header(uint8_t *h, const struct ear *e, const struct wav_out *w,
			 uint32_t data_bytes)
{
	unsigned int align = w->bytes * e->lock.channels;
	bool ext = w->tag != WAV_PCM;	/* non-PCM: cbSize and a fact chunk */
	size_t len = ext ? 58 : 44;
	uint8_t *p = h;

	memcpy(p, "RIFF", 4);
	p = put_le(p + 4, (uint64_t)data_bytes + len - 8, 4);
	memcpy(p, "WAVEfmt ", 8);
	p = put_le(p + 8, ext ? 18 : 16, 4);
	p = put_le(p, w->tag, 2);
	p = put_le(p, e->lock.channels, 2);
	p = put_le(p, e->lock.rate, 4);
	p = put_le(p, (uint64_t)e->lock.rate * align, 4);
	p = put_le(p, align, 2);
	p = put_le(p, w->bytes * 8, 2);
	if (ext) {
		p = put_le(p, 0, 2);
		memcpy(p, "fact", 4);
		p = put_le(p + 4, 4, 4);
		p = put_le(p, data_bytes / align, 4);
	}
	memcpy(p, "data", 4);
	put_le(p + 4, data_bytes, 4);
	return len;
}

static int write_all(int fd, const uint8_t *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static volatile sig_atomic_t tap_stop;

static void tap_signal(int sig)
{
	(void)sig;
	tap_stop = 1;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);	/* a signal cuts it short: the caller looks at tap_stop */
}

/* How often the tap wakes up to copy what was played since. */
#define TAP_WAKE_MS	20u

/* Hear [*t, end) into fd; false once the duration is reached or on a write error. */
static bool tap_copy(struct ear *e, const struct wav_out *w, uint8_t *buf, int fd, uint64_t *t,
		     uint64_t end, uint64_t *frames, uint64_t max_frames, int *err)
{
	ear_load(e);
	while (*t < end) {
		uint64_t n = end - *t;

		if (n > EAR_BLOCK)
			n = EAR_BLOCK;
		if (n > max_frames - *frames)
			n = max_frames - *frames;
		if (!n)
			return false;
		ear_hear(e, *t, (uint32_t)n, buf);
		*err = write_all(fd, buf, wav_convert(e, w, buf, (size_t)n * e->lock.channels));
		if (*err)
			return false;
		*t += n;
		*frames += n;
	}
	return *frames < max_frames;
}

static int cmd_tap(const struct opts *o, const char *sub, const char *file)
{
	const char *card = o->card ? o->card : LOOP_CARD_DEFAULT;
	struct shm_seg seg = { .fd = -1 };
	struct shm_params lock, now_lock;
	struct sigaction sa = { .sa_handler = tap_signal };
	struct wav_out w;
	struct shm_grid g;
	struct ear e;
	uint8_t hdr[WAV_HEADER_MAX], *buf = NULL;
	uint64_t t, end, frames = 0, max_frames = UINT64_MAX, dropped = 0, cap, data_max;
	unsigned long n;
	char why[768], *endp;
	bool attached = false, said = false, more = true;
	const char *stopped = "stopped";
	int fd = -1, err = 0, status = 1;
	struct stat st;
	size_t hlen;
	off_t hdr_off;
	bool patch;

	errno = 0;
	n = strtoul(sub, &endp, 10);
	if (errno || *endp || !*sub || n > LOOP_SUBDEVICE_MAX) {
		fprintf(stderr, "alsa-loopback: tap: subdevice '%s': 0..%u\n", sub,
			LOOP_SUBDEVICE_MAX);
		return 2;
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);	/* a reader that went away: EPIPE, a clean end */

	/* Wait for the cable to carry a format: its segment, then its lock. */
	for (;;) {
		struct shm_seg_config cfg = { .dir = o->dir, .card = card,
					      .subdevice = (unsigned int)n, .mode = 0666,
					      .gid = -1 };

		if (tap_stop) {
			fprintf(stderr, "alsa-loopback: tap: nothing played into %s:%lu (card %s); "
				"no file written\n", pcm_of_device(o->device), n, card);
			goto out;
		}
		if (!attached) {
			err = shm_seg_attach(&seg, &cfg, why, sizeof(why));
			if (err < 0 && err != -ENOENT && err != -ESTALE) {
				fprintf(stderr, "alsa-loopback: tap: %s\n", why);
				goto out;
			}
			attached = !err;
		}
		/* Removed by its last user: the next stream makes a new one. */
		if (attached && !shm_seg_linked(&seg)) {
			shm_seg_close(&seg);
			attached = false;
			continue;
		}
		if (attached && shm_cable_locked(&seg, o->device, &lock))
			break;
		if (!said)
			fprintf(stderr, "alsa-loopback: tap: waiting for a stream on %s:%lu "
				"(card %s)\n", pcm_of_device(o->device), n, card);
		said = true;
		sleep_ms(50);
	}
	if (lock.clock != SHM_CLOCK_REALTIME) {
		fprintf(stderr, "alsa-loopback: tap: %s:%lu is a lossless cable: its capture, "
			"not a clock, paces it, so a tap cannot tell what was heard when\n",
			pcm_of_device(o->device), n);
		goto out;
	}
	if (ear_init(&e, &seg, o->device, &lock) < 0) {
		fprintf(stderr, "alsa-loopback: tap: %s:%lu: cannot read format %s, %u Hz, %u "
			"channels\n", pcm_of_device(o->device), n, format_name(lock.format),
			lock.rate, lock.channels);
		goto out;
	}
	wav_choose(&e, &w);
	buf = malloc((size_t)EAR_BLOCK * e.frame_bytes);
	if (!buf) {
		fprintf(stderr, "alsa-loopback: tap: out of memory\n");
		goto out_ear;
	}
	fd = strcmp(file, "-") ? open(file, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666) :
	     STDOUT_FILENO;
	if (fd < 0) {
		fprintf(stderr, "alsa-loopback: tap: cannot write %s: %s\n", file,
			strerror(errno));
		goto out_ear;
	}
	/*
	 * The largest sizes WAV readers take, as arecord and sox write to a
	 * pipe: a reader stops at the end of the stream, and a tap killed
	 * with -9 leaves a file they still read.  A file is patched at the end.
	 */
	data_max = (UINT32_C(0x7fffffff) - WAV_HEADER_MAX) / (w.bytes * lock.channels) *
		   (w.bytes * lock.channels);
	hlen = wav_header(hdr, &e, &w, (uint32_t)data_max);
	/*
	 * A regular file we can seek back in gets its real sizes at the end:
	 * not one opened for appending (">>": pwrite would append).
	 */
	hdr_off = lseek(fd, 0, SEEK_CUR);
	patch = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && hdr_off >= 0 &&
		!(fcntl(fd, F_GETFL) & O_APPEND);
	err = write_all(fd, hdr, hlen);
	if (err)
		goto write_error;
	if (o->duration > 0)
		max_frames = (uint64_t)(o->duration * lock.rate + 0.5);
	/* A file: up to what a RIFF size can say. */
	if (patch && (UINT32_MAX - hlen) / (w.bytes * lock.channels) < max_frames)
		max_frames = (UINT32_MAX - hlen) / (w.bytes * lock.channels);
	/* What a ring holds clear of its writer: older frames are gone. */
	cap = ring_clear_frames(&seg, o->device, e.frame_bytes);
	while (!ear_grid(&e, &g) && !tap_stop)
		sleep_ms(1);
	t = shm_grid_tick(&g, shm_now_ns() - EAR_LAG_NS);
	fprintf(stderr, "alsa-loopback: tap: %s:%lu (card %s): %s, %u Hz, %u channels\n",
		pcm_of_device(o->device), n, card, format_name(lock.format), lock.rate,
		lock.channels);
	while (more && !tap_stop) {
		sleep_ms(TAP_WAKE_MS);
		if (!ear_grid(&e, &g))
			continue;
		end = shm_grid_tick(&g, shm_now_ns() - EAR_LAG_NS);
		if (end < t) {		/* the grid restarted: a new lock */
			t = end;
			continue;
		}
		if (end - t > cap) {	/* we were stopped for longer than the ring holds */
			dropped += end - t - cap;
			t = end - cap;
		}
		more = tap_copy(&e, &w, buf, fd, &t, end, &frames, max_frames, &err);
		if (err)
			goto write_error;
		if (more && !(shm_cable_locked(&seg, o->device, &now_lock) &&
			      shm_params_match(&now_lock, &lock))) {
			/* Nobody left, or another format: hear the stream's last frames. */
			tap_copy(&e, &w, buf, fd, &t, shm_grid_tick(&g, shm_now_ns()), &frames,
				 max_frames, &err);
			if (err)
				goto write_error;
			stopped = "the cable was released or changed its format";
			more = false;
		}
	}
	if (!more && frames >= max_frames)
		stopped = "duration reached";
	/* A file gets its real sizes. */
	if (patch) {
		hlen = wav_header(hdr, &e, &w, (uint32_t)(frames * w.bytes * lock.channels));
		if (pwrite(fd, hdr, hlen, hdr_off) != (ssize_t)hlen) {
			err = -errno;
			goto write_error;
		}
	}
	fprintf(stderr, "alsa-loopback: tap: %llu frames (%.3f s), %llu lost while the tap was "
		"stopped; %s\n", (unsigned long long)frames, (double)frames / lock.rate,
		(unsigned long long)dropped, stopped);
	status = 0;
	goto out_fd;
write_error:
	if (err == -EPIPE) {	/* the reader is gone: a normal end for a pipe */
		status = 0;
	} else {
		fprintf(stderr, "alsa-loopback: tap: cannot write %s: %s\n", file,
			strerror(-err));
	}
out_fd:
	if (fd >= 0 && fd != STDOUT_FILENO && close(fd) < 0 && !status) {
		fprintf(stderr, "alsa-loopback: tap: cannot write %s: %s\n", file,
			strerror(errno));
		status = 1;
	}
out_ear:
	free(buf);
	ear_free(&e);
out:
	if (attached)
		shm_seg_close(&seg);
	return status;
}

/* ---- gc ------------------------------------------------------------------ */

/* What a creation killed between create and publish left: "<name>.new-<pid>-<n>". */
static int gc_temps(const struct opts *o)
{
	struct shm_dir d = { .fd = -1 };
	enum shm_fault fault;
	struct dirent *de;
	char why[512], mine[LOOP_CARD_MAX + 32];
	int status = 0;
	DIR *dir;

	/* Never made our private directory: nothing to clean, nothing to create. */
	if (!o->dir && access(seg_dir(o), F_OK) < 0)
		return 0;
	if (shm_dir_open(&d, o->dir, &fault, why, sizeof(why)) < 0)
		return 0;	/* find_segments says why */
	dir = fdopendir(dup(d.fd));
	snprintf(mine, sizeof(mine), SHM_SEG_PREFIX "%s.", o->card ? o->card : "");
	while (dir && (de = readdir(dir))) {
		int err;

		if (o->card && strncmp(de->d_name, mine, strlen(mine)))
			continue;	/* --card: that card key's only */
		err = shm_file_remove_stale_temp(&d, de->d_name, o->dry_run);

		if (err > 0)
			printf("%s %s/%s\n", o->dry_run ? "would remove" : "removed", d.path,
			       de->d_name);
		else if (err < 0 && err != -ENOENT) {
			fprintf(stderr, "alsa-loopback: cannot remove %s/%s: %s\n", d.path,
				de->d_name, strerror(-err));
			status = 1;
		}
	}
	if (dir)
		closedir(dir);
	shm_dir_close(&d);
	return status;
}

static int cmd_gc(const struct opts *o)
{
	struct entry *v = NULL;
	size_t n = 0;
	int status = gc_temps(o);

	if (find_segments(o, &v, &n) < 0)
		return 1;
	for (size_t i = 0; i < n; i++) {
		struct shm_seg seg;
		char why[768];
		bool held = false;
		int err;

		err = entry_attach(o, &v[i], &seg, why, sizeof(why));
		if (err < 0) {
			/* Not ours (or another version, or planted): never removed. */
			fprintf(stderr, "alsa-loopback: kept %s\n", why);
			continue;
		}
		/*
		 * The admin lock orders us with every attach: an end either
		 * holds its lock before we look, or finds the file unlinked
		 * after taking the lock (and then makes a new segment).
		 */
		err = shm_seg_admin_lock(&seg);
		if (err < 0) {
			fprintf(stderr, "alsa-loopback: kept %s: admin lock busy\n", v[i].path);
			shm_seg_close(&seg);
			continue;
		}
		for (unsigned int c = 0; c < SHM_CABLES; c++)
			for (unsigned int r = 0; r < SHM_ROLES; r++)
				held |= shm_seg_end_held(&seg, c, r);
		if (!held) {
			/* Removed by descriptor: a name swapped since our look is kept. */
			err = o->dry_run ? 0 : shm_seg_remove(&seg);
			if (err == 0) {
				printf("%s %s\n", o->dry_run ? "would remove" : "removed", v[i].path);
			} else if (err != -ESTALE) {
				fprintf(stderr, "alsa-loopback: cannot remove %s: %s\n", v[i].path,
					strerror(-err));
				status = 1;
			}
		}
		shm_seg_admin_unlock(&seg);
		shm_seg_close(&seg);
	}
	free(v);
	fflush(stdout);
	return status;
}

/* ---- main ---------------------------------------------------------------- */

static int usage(void)
{
	fprintf(stderr, "usage: alsa-loopback [--dir DIR] [--card KEY] "
		"list|watch|gc [--all] [--json] [--interval S] [--count N] [--dry-run]\n"
		"       alsa-loopback [--dir DIR] [--card KEY] tap [--device D] [--duration S] "
		"N FILE\n"
		"       alsa-loopback --help\n");
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "card", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "all", no_argument, NULL, 'a' },
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'n' },
		{ "dry-run", no_argument, NULL, 'D' },
		{ "device", required_argument, NULL, 'e' },
		{ "duration", required_argument, NULL, 'u' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { .interval = 1.0 };
	const char *cmd;
	char *end;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'd':
			o.dir = optarg;
			break;
		case 'c':
			if (!shm_card_valid(optarg)) {
				fprintf(stderr, "alsa-loopback: --card: '%s' is not a card key\n",
					optarg);
				return 2;
			}
			o.card = optarg;
			break;
		case 'j':
			o.json = true;
			break;
		case 'a':
			o.all = true;
			break;
		case 'i':
			o.interval = strtod(optarg, &end);
			if (*end || !isfinite(o.interval) || o.interval < 0.01 ||
			    o.interval > 3600) {
				fprintf(stderr, "alsa-loopback: --interval: 0.01..3600 seconds\n");
				return 2;
			}
			break;
		case 'n':
			o.count = strtol(optarg, &end, 10);
			if (*end || o.count < 1) {
				fprintf(stderr, "alsa-loopback: --count: a positive integer\n");
				return 2;
			}
			break;
		case 'D':
			o.dry_run = true;
			break;
		case 'e':
			if (strcmp(optarg, "0") && strcmp(optarg, "1")) {
				fprintf(stderr, "alsa-loopback: --device: 0 or 1\n");
				return 2;
			}
			o.device = (unsigned int)(optarg[0] - '0');
			break;
		case 'u':
			o.duration = strtod(optarg, &end);
			if (*end || !isfinite(o.duration) || o.duration <= 0 || o.duration > 1e7) {
				fprintf(stderr, "alsa-loopback: --duration: a positive number of "
					"seconds\n");
				return 2;
			}
			break;
		case 'h':
			fputs(help_text, stdout);
			return 0;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	cmd = argv[optind];
	if (!strcmp(cmd, "tap"))
		return optind == argc - 3 ? cmd_tap(&o, argv[optind + 1], argv[optind + 2]) :
		       usage();
	if (optind != argc - 1)
		return usage();
	if (!strcmp(cmd, "list"))
		return show(&o, false, false);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(&o);
	if (!strcmp(cmd, "gc"))
		return cmd_gc(&o);
	fprintf(stderr, "alsa-loopback: unknown command '%s'\n", cmd);
	return usage();
}
