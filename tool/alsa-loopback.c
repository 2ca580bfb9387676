// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * alsa-loopback - list, watch and clean up the shared segments of the
 * user-space ALSA loopback (see alsa-loopback.1, which --help prints).
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

static void cable_snapshot(struct shm_seg *seg, unsigned int cable, struct cable_info *ci)
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

static void json_cable(FILE *f, unsigned int cable, const struct cable_info *ci)
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
	fprintf(f, "}");
}

static void table_header(FILE *f)
{
	fprintf(f, "%-8s %4s %-12s %-9s %6s %3s %-6s %6s %6s %-8s %7s %-9s %6s %6s %10s %5s %s\n",
		"CARD", "SUB", "CABLE", "FORMAT", "RATE", "CH", "ACCESS", "SHIFT", "NOTIFY",
		"END", "PID", "STATE", "PERIOD", "BUFFER", "FRAMES", "XRUNS", "FILL");
}

static void table_rows(FILE *f, const struct entry *e, unsigned int cable,
		       const struct cable_info *ci, bool percent)
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
			if (percent && en->buffer_frames)
				snprintf(fill, sizeof(fill), "%llu(%llu%%)",
					 (unsigned long long)ci->fill,
					 (unsigned long long)(ci->fill * 100 / en->buffer_frames));
			else
				snprintf(fill, sizeof(fill), "%llu", (unsigned long long)ci->fill);
		} else {
			snprintf(fill, sizeof(fill), "-");
		}
		fprintf(f, "%-8s %4u %-12s %-9s %6s %3s %-6s %6u %6u %-8s %7s %-9s %6u %6u %10llu "
			"%5u %s\n", e->card, e->subdevice, cab,
			ci->locked ? format_name(ci->lock.format) : "-", ci->locked ? rate : "-",
			ci->locked ? ch : "-", !ci->locked ? "-" : ci->lock.access ? "nonint" : "inter",
			ci->ctl.rate_shift, ci->ctl.notify, end_name,
			en->attached ? pid : "-", en->attached ? state_name(en->state) : "-",
			en->period_frames, en->buffer_frames, (unsigned long long)en->frames, en->xruns, fill);
	}
}

/* One table or JSON document of every segment; 1 if one was unreadable. */
static int show(const struct opts *o, bool percent, bool compact_json)
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
		table_header(f);
	for (size_t i = 0; i < n; i++) {
		struct shm_seg seg;
		char why[768];
		struct cable_info info[SHM_CABLES];
		int err = entry_attach(o, &v[i], &seg, why, sizeof(why));

		if (!err) {
			for (unsigned int c = 0; c < SHM_CABLES; c++)
				cable_snapshot(&seg, c, &info[c]);
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
				json_cable(f, c, ci);
			} else {
				table_rows(f, &v[i], c, ci, percent);
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

/* ---- gc ------------------------------------------------------------------ */

static int cmd_gc(const struct opts *o)
{
	struct entry *v = NULL;
	size_t n = 0;
	int status = 0;

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
		case 'h':
			fputs(help_text, stdout);
			return 0;
		default:
			return usage();
		}
	}
	if (optind != argc - 1)
		return usage();
	cmd = argv[optind];
	if (!strcmp(cmd, "list"))
		return show(&o, false, false);
	if (!strcmp(cmd, "watch"))
		return cmd_watch(&o);
	if (!strcmp(cmd, "gc"))
		return cmd_gc(&o);
	fprintf(stderr, "alsa-loopback: unknown command '%s'\n", cmd);
	return usage();
}
