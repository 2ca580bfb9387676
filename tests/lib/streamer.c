// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * streamer.c - a player and a recorder that stream a self-identifying
 * pattern through a loopback cable, for the reliability tests.
 *
 *   streamer play -D pcm [options]    play the pattern (S16_LE)
 *   streamer rec  -D pcm [options]    record and verify it
 *   streamer gen  -n frames           write the pattern, raw, to stdout
 *   streamer verify -e frames         verify raw S16_LE from stdin
 *   streamer open -D pcm [-C]         open + hw_params, report, exit
 *
 * Pattern.  Frame n is never all zero (silence), and says which frame it
 * is: with 2+ channels channel 0 holds n & 0xffff and channel 1 holds
 * 0x8000 | seed << 8 | (n >> 16) & 0xff, further channels a hash of both;
 * mono holds 0x8000 | (n & 0x7fff).  The recorder cuts what it hears into
 * runs of consecutive frames; a run may start at the beginning, after
 * silence, at frame 0 (a new player) or after a discontinuity of our own
 * (pause, xrun, restart).  Anything else, and any frame that is not the
 * pattern, is counted as bad.  -Z: hearing any pattern at all is a failure
 * (a capture that must hear only silence).
 *
 * The player and recorder print what they are doing ("opened", "started",
 * "paused", "draining", "hwp", ...) on stdout, line-buffered, so a script
 * can kill them at a chosen moment; SIGTERM/SIGINT end them cleanly with a
 * "summary" line.  Exit: 0 good, 1 bad data, 2 open/setup failed, 3 a call
 * failed; with -T S a run still going after S seconds dies of SIGALRM (142),
 * which the scripts count as a hang.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <alsa/asoundlib.h>

#define MAX_CH 32

struct opts {
	const char *mode;
	const char *dev;
	unsigned int rate, channels, seed, latency_us;
	uint64_t frames;	/* play: how many (0 = forever); gen: how many */
	uint64_t expect;	/* rec/verify: a complete run 0..expect-1 */
	bool silence;		/* rec/verify: expect no pattern at all (-Z) */
	double duration;	/* rec: seconds (0 = until expect or signal) */
	const char *phase;	/* write pause drain hwp random cycle read */
	unsigned int cycles;
	bool capture;		/* open: capture stream */
	bool go_signal;		/* play: wait for SIGUSR1 after hw_params */
	uint64_t rnd;
	unsigned int watchdog;	/* seconds; SIGALRM kills a hung run (exit 142) */
};

static volatile sig_atomic_t stop_flag, go_flag;

static void on_stop(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void on_go(int sig)
{
	(void)sig;
	go_flag = 1;
}

static uint64_t rnd_next(uint64_t *s)
{
	/* xorshift64*: enough to pick sizes and moments. */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * UINT64_C(2685821657736338717);
}

static unsigned int rnd_below(uint64_t *s, unsigned int n)
{
	return n ? (unsigned int)(rnd_next(s) % n) : 0;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* ---- pattern ------------------------------------------------------------- */

static void pattern_frame(int16_t *f, unsigned int ch, unsigned int seed, uint64_t n)
{
	if (ch == 1) {
		f[0] = (int16_t)(0x8000u | (n & 0x7fffu));
		return;
	}
	f[0] = (int16_t)(n & 0xffffu);
	f[1] = (int16_t)(0x8000u | (seed & 0x7fu) << 8 | ((n >> 16) & 0xffu));
	for (unsigned int c = 2; c < ch; c++)
		f[c] = (int16_t)((n * 31u + c * 0x1357u + seed) & 0xffffu);
}

/* The frame number modulo this is all a frame can tell. */
static uint64_t pattern_modulus(unsigned int ch)
{
	return ch == 1 ? 0x8000u : 0x1000000u;
}

/* Decode a frame; false if it is not any frame of the pattern. */
static bool pattern_decode(const int16_t *f, unsigned int ch, unsigned int seed, uint64_t *n)
{
	int16_t want[MAX_CH];

	if (ch == 1) {
		if (!((uint16_t)f[0] & 0x8000u))
			return false;
		*n = (uint16_t)f[0] & 0x7fffu;
	} else {
		*n = (uint16_t)f[0] | (uint64_t)((uint16_t)f[1] & 0xffu) << 16;
	}
	pattern_frame(want, ch, seed, *n);
	return !memcmp(want, f, ch * sizeof(*f));
}

struct verifier {
	unsigned int ch, seed;
	uint64_t expect;
	bool silence;
	uint64_t frames, silent, pattern, bad, runs, breaks;
	bool in_run, complete;
	uint64_t next_n, run_start, run_len;
	uint64_t first_bad;	/* frame index of the first bad frame */
};

static void ver_init(struct verifier *v, unsigned int ch, unsigned int seed, uint64_t expect)
{
	memset(v, 0, sizeof(*v));
	v->ch = ch;
	v->seed = seed;
	v->expect = expect;
	v->first_bad = UINT64_MAX;
}

/* A discontinuity we caused ourselves (pause, xrun, restart). */
static void ver_break(struct verifier *v)
{
	v->in_run = false;
	v->breaks++;
}

static void ver_bad(struct verifier *v)
{
	if (v->first_bad == UINT64_MAX)
		v->first_bad = v->frames;
	v->bad++;
}

static void ver_frames(struct verifier *v, const int16_t *buf, uint64_t count)
{
	uint64_t mod = pattern_modulus(v->ch);

	for (uint64_t i = 0; i < count; i++, v->frames++) {
		const int16_t *f = buf + i * v->ch;
		bool silent = true;
		uint64_t n;

		for (unsigned int c = 0; c < v->ch; c++)
			silent &= f[c] == 0;
		if (silent) {
			v->silent++;
			v->in_run = false;
			continue;
		}
		if (!pattern_decode(f, v->ch, v->seed, &n)) {
			ver_bad(v);
			v->in_run = false;
			continue;
		}
		v->pattern++;
		if (v->in_run && n == v->next_n % mod) {
			v->run_len++;
			v->next_n++;
		} else {
			/* A run starts at the start, after silence or at frame 0. */
			if (v->in_run && n != 0)
				ver_bad(v);
			v->runs++;
			v->in_run = true;
			v->run_start = n;
			v->run_len = 1;
			v->next_n = n + 1;
		}
		if (v->expect && v->run_start == 0) {
			if (v->run_len == v->expect)
				v->complete = true;
			else if (v->run_len > v->expect)
				ver_bad(v);	/* more than was played */
		}
	}
}

static bool ver_ok(const struct verifier *v)
{
	return !v->bad && (!v->expect || v->complete) && !(v->silence && v->pattern);
}

static void ver_print(const struct verifier *v, const char *who)
{
	printf("summary %s: frames=%llu silent=%llu pattern=%llu runs=%llu breaks=%llu "
	       "bad=%llu", who, (unsigned long long)v->frames, (unsigned long long)v->silent,
	       (unsigned long long)v->pattern, (unsigned long long)v->runs,
	       (unsigned long long)v->breaks, (unsigned long long)v->bad);
	if (v->bad)
		printf(" first_bad_at=%llu", (unsigned long long)v->first_bad);
	if (v->expect)
		printf(" expect=%llu complete=%d", (unsigned long long)v->expect, v->complete);
}

/* ---- ALSA ---------------------------------------------------------------- */

static int pcm_setup(const struct opts *o, snd_pcm_stream_t stream, snd_pcm_t **pcm)
{
	int err = snd_pcm_open(pcm, o->dev, stream, 0);

	if (err < 0) {
		fprintf(stderr, "streamer: open %s: %s\n", o->dev, snd_strerror(err));
		return err;
	}
	err = snd_pcm_set_params(*pcm, SND_PCM_FORMAT_S16_LE, SND_PCM_ACCESS_RW_INTERLEAVED,
				 o->channels, o->rate, 0, o->latency_us);
	if (err < 0) {
		fprintf(stderr, "streamer: hw_params %s: %s\n", o->dev, snd_strerror(err));
		snd_pcm_close(*pcm);
		*pcm = NULL;
	}
	return err;
}

/* Count entries of /proc/self/fd and lines of /proc/self/maps. */
static void count_resources(unsigned int *fds, unsigned int *maps)
{
	DIR *d = opendir("/proc/self/fd");
	FILE *f = fopen("/proc/self/maps", "r");
	struct dirent *e;
	int ch;

	*fds = *maps = 0;
	if (d) {
		while ((e = readdir(d)))
			*fds += e->d_name[0] != '.';
		closedir(d);
		(*fds)--;	/* the directory's own fd */
	}
	if (f) {
		while ((ch = fgetc(f)) != EOF)
			*maps += ch == '\n';
		fclose(f);
	}
}

static void print_cpu(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	printf(" cpu=%.3f", (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

/* ---- player ---------------------------------------------------------------- */

struct player {
	const struct opts *o;
	snd_pcm_t *pcm;
	uint64_t n;		/* next pattern frame */
	uint64_t written, xruns;
	int16_t *buf;
	snd_pcm_uframes_t chunk;
};

/* Write count pattern frames; false on a fatal error or stop. */
static bool play_frames(struct player *p, snd_pcm_uframes_t count)
{
	const struct opts *o = p->o;
	snd_pcm_sframes_t r = 0;

	while (count && !stop_flag) {
		snd_pcm_uframes_t k = count < p->chunk ? count : p->chunk;

		if (o->frames && p->n + k > o->frames)
			k = (snd_pcm_uframes_t)(o->frames - p->n);
		if (!k)
			return true;
		for (snd_pcm_uframes_t i = 0; i < k; i++)
			pattern_frame(p->buf + i * o->channels, o->channels, o->seed, p->n + i);
		r = snd_pcm_writei(p->pcm, p->buf, k);
		if (r == -EINTR)
			continue;
		if (r == -EPIPE || r == -ESTRPIPE) {
			p->xruns++;
			fprintf(stderr, "streamer: underrun\n");
			if ((r = snd_pcm_prepare(p->pcm)) < 0)
				goto fail;
			continue;
		}
		if (r < 0)
			goto fail;
		p->n += (uint64_t)r;
		p->written += (uint64_t)r;
		count -= (snd_pcm_uframes_t)r;
	}
	return !stop_flag;
fail:
	fprintf(stderr, "streamer: write: %s\n", snd_strerror((int)r));
	return false;
}

static int do_drain(struct player *p)
{
	int err;

	printf("draining\n");
	err = snd_pcm_drain(p->pcm);
	if (err == -EINTR || stop_flag)
		return 0;
	return err;
}

/* Pause for ms, then resume; -errno on failure. */
static int pause_for(snd_pcm_t *pcm, unsigned int ms)
{
	int err = snd_pcm_pause(pcm, 1);

	if (err < 0)
		return err;
	printf("paused\n");
	sleep_ms(ms);
	return snd_pcm_pause(pcm, 0);
}

static int run_play(struct opts *o)
{
	struct player p = { .o = o };
	double t0;
	int err = 0, rc = 0;

	if (!strcmp(o->phase, "hwp")) {
		/* Open, configure, close as fast as we can: kills land mid-way. */
		printf("hwp\n");
		for (unsigned int i = 0; !stop_flag && (!o->cycles || i < o->cycles); i++) {
			err = pcm_setup(o, SND_PCM_STREAM_PLAYBACK, &p.pcm);
			if (err < 0)
				return 2;
			snd_pcm_close(p.pcm);
		}
		printf("summary play: hwp done\n");
		return 0;
	}
	if (pcm_setup(o, SND_PCM_STREAM_PLAYBACK, &p.pcm) < 0)
		return 2;
	printf("opened\n");
	if (o->go_signal) {
		/* Wait (bounded) until the script has its recorder running. */
		for (int i = 0; i < 20000 && !go_flag && !stop_flag; i++)
			sleep_ms(1);
		if (!go_flag) {
			fprintf(stderr, "streamer: no SIGUSR1 within 20 s\n");
			snd_pcm_close(p.pcm);
			return 3;
		}
	}
	p.chunk = 1024;
	p.buf = calloc(p.chunk, o->channels * sizeof(int16_t));
	t0 = now_s();
	printf("started\n");
	if (!strcmp(o->phase, "write")) {
		while (!stop_flag && (!o->frames || p.n < o->frames))
			if (!play_frames(&p, o->frames ? o->frames - p.n : p.chunk))
				break;
		if (!stop_flag)
			err = do_drain(&p);
	} else if (!strcmp(o->phase, "pause")) {
		/* Fill the buffer, run a moment, then stay paused. */
		if (play_frames(&p, o->rate / 2) && snd_pcm_pause(p.pcm, 1) == 0) {
			printf("paused\n");
			while (!stop_flag)
				sleep_ms(10);
		}
	} else if (!strcmp(o->phase, "drain")) {
		/* Drain a full buffer again and again. */
		while (!stop_flag && play_frames(&p, o->rate * o->latency_us / 1000000u)) {
			if ((err = do_drain(&p)) < 0 || stop_flag)
				break;
			if ((err = snd_pcm_prepare(p.pcm)) < 0)
				break;
			p.n = 0;	/* a new stream */
		}
	} else if (!strcmp(o->phase, "random")) {
		while (!stop_flag) {
			unsigned int dice = rnd_below(&o->rnd, 100);

			if (!play_frames(&p, 1 + rnd_below(&o->rnd, 3 * (unsigned int)p.chunk)))
				break;
			if (dice < 4 && snd_pcm_state(p.pcm) != SND_PCM_STATE_RUNNING) {
				/* Not started yet (start threshold): nothing to pause. */
			} else if (dice < 4) {
				if ((err = pause_for(p.pcm, rnd_below(&o->rnd, 200))) < 0)
					break;
				printf("running\n");
			} else if (dice < 6) {
				/* Drop or drain: the next stream starts again at 0. */
				err = dice == 4 ? snd_pcm_drop(p.pcm) : do_drain(&p);
				if (err < 0 || stop_flag || (err = snd_pcm_prepare(p.pcm)) < 0)
					break;
				p.n = 0;
				printf("running\n");
			}
		}
	} else {
		fprintf(stderr, "streamer: unknown play phase %s\n", o->phase);
		rc = 3;
	}
	if (err < 0) {
		fprintf(stderr, "streamer: play: %s\n", snd_strerror(err));
		rc = 3;
	}
	printf("summary play: written=%llu xruns=%llu elapsed=%.3f", (unsigned long long)p.written,
	       (unsigned long long)p.xruns, now_s() - t0);
	print_cpu();
	printf("\n");
	snd_pcm_close(p.pcm);
	free(p.buf);
	return rc;
}

/* ---- recorder -------------------------------------------------------------- */

static int run_rec(struct opts *o)
{
	struct verifier v;
	snd_pcm_t *pcm = NULL;
	snd_pcm_uframes_t chunk = 1024;
	int16_t *buf = calloc(chunk * 3, o->channels * sizeof(int16_t));
	uint64_t xruns = 0, tail = 0;
	unsigned int fds0 = 0, maps0 = 0, fds1, maps1, cycle = 0;
	double t0 = now_s(), deadline;
	int err = 0, rc = 0;
	bool is_cycle = !strcmp(o->phase, "cycle");

	ver_init(&v, o->channels, o->seed, o->expect);
	v.silence = o->silence;
	if (!strcmp(o->phase, "hwp")) {
		printf("hwp\n");
		for (unsigned int i = 0; !stop_flag && (!o->cycles || i < o->cycles); i++) {
			if (pcm_setup(o, SND_PCM_STREAM_CAPTURE, &pcm) < 0)
				return 2;
			snd_pcm_close(pcm);
		}
		printf("summary rec: hwp done\n");
		return 0;
	}
again:
	if (pcm_setup(o, SND_PCM_STREAM_CAPTURE, &pcm) < 0) {
		free(buf);
		return 2;
	}
	printf("opened\n");
	if ((err = snd_pcm_start(pcm)) < 0)
		goto out;
	printf("started\n");
	t0 = now_s();
	deadline = o->duration > 0 ? t0 + o->duration : 0;
	while (!stop_flag && (!deadline || now_s() < deadline)) {
		snd_pcm_uframes_t want = chunk;
		snd_pcm_sframes_t r;

		if (!strcmp(o->phase, "random")) {
			unsigned int dice = rnd_below(&o->rnd, 100);

			want = 1 + rnd_below(&o->rnd, 3 * (unsigned int)chunk);
			if (dice < 3 && snd_pcm_state(pcm) != SND_PCM_STATE_RUNNING) {
				/* Mid-recovery: nothing to pause. */
			} else if (dice < 3) {
				if ((err = pause_for(pcm, rnd_below(&o->rnd, 200))) < 0)
					break;
				ver_break(&v);
				printf("running\n");
			} else if (dice < 5) {
				/* Drop and start over: we lose what we did not read. */
				if ((err = snd_pcm_drop(pcm)) < 0 || (err = snd_pcm_prepare(pcm)) < 0 ||
				    (err = snd_pcm_start(pcm)) < 0)
					break;
				ver_break(&v);
				printf("running\n");
			}
		} else if (!strcmp(o->phase, "pause") && v.frames >= o->rate / 2) {
			if ((err = snd_pcm_pause(pcm, 1)) < 0)
				break;
			printf("paused\n");
			while (!stop_flag)
				sleep_ms(10);
			break;
		}
		r = snd_pcm_readi(pcm, buf, want);
		if (r == -EINTR)
			continue;
		if (r == -EPIPE || r == -ESTRPIPE) {
			xruns++;
			fprintf(stderr, "streamer: overrun\n");
			ver_break(&v);
			if ((err = snd_pcm_prepare(pcm)) < 0 || (err = snd_pcm_start(pcm)) < 0)
				break;
			continue;
		}
		if (r < 0) {
			err = (int)r;
			break;
		}
		ver_frames(&v, buf, (uint64_t)r);
		/* Once complete, listen a little longer for anything extra. */
		if (v.complete && !is_cycle && (tail += (uint64_t)r) >= o->rate / 10)
			break;
		if (is_cycle && v.frames >= o->rate / 5) {
			/*
			 * Cycle: reopen again and again, as a long-lived client
			 * would; our fds and mappings must not grow.
			 */
			snd_pcm_close(pcm);
			pcm = NULL;
			if (++cycle == 1)
				count_resources(&fds0, &maps0);
			if (cycle < o->cycles && !stop_flag) {
				ver_break(&v);
				v.frames = 0;
				goto again;
			}
			break;
		}
	}
out:
	if (err < 0) {
		fprintf(stderr, "streamer: capture: %s\n", snd_strerror(err));
		rc = 3;
	}
	if (pcm)
		snd_pcm_close(pcm);
	pcm = NULL;
	ver_print(&v, "rec");
	printf(" xruns=%llu elapsed=%.3f", (unsigned long long)xruns, now_s() - t0);
	if (is_cycle) {
		count_resources(&fds1, &maps1);
		printf(" cycles=%u fds=%u->%u maps=%u->%u", cycle, fds0, fds1, maps0, maps1);
		if (cycle > 1 && (fds1 != fds0 || maps1 != maps0))
			rc = rc ? rc : 1;
	}
	print_cpu();
	printf("\n");
	if (pcm)
		snd_pcm_close(pcm);
	free(buf);
	if (!rc && !ver_ok(&v))
		rc = 1;
	return rc;
}

/* ---- offline ------------------------------------------------------------- */

static int run_gen(const struct opts *o)
{
	int16_t f[MAX_CH * 256];

	for (uint64_t n = 0; n < o->frames;) {
		unsigned int k = o->frames - n < 256 ? (unsigned int)(o->frames - n) : 256;

		for (unsigned int i = 0; i < k; i++)
			pattern_frame(f + i * o->channels, o->channels, o->seed, n + i);
		if (fwrite(f, o->channels * sizeof(int16_t), k, stdout) != k)
			return 3;
		n += k;
	}
	return fflush(stdout) ? 3 : 0;
}

static int run_verify(const struct opts *o)
{
	struct verifier v;
	int16_t f[MAX_CH * 256];
	size_t k;

	ver_init(&v, o->channels, o->seed, o->expect);
	v.silence = o->silence;
	while ((k = fread(f, o->channels * sizeof(int16_t), 256, stdin)) > 0)
		ver_frames(&v, f, k);
	ver_print(&v, "verify");
	print_cpu();
	printf("\n");
	return ver_ok(&v) ? 0 : 1;
}

static int run_open(const struct opts *o)
{
	snd_pcm_t *pcm;
	int err = pcm_setup(o, o->capture ? SND_PCM_STREAM_CAPTURE : SND_PCM_STREAM_PLAYBACK,
			    &pcm);

	if (err < 0) {
		printf("open: error %d (%s)\n", -err, strerror(-err));
		return 2;
	}
	printf("open: ok\n");
	snd_pcm_close(pcm);
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: streamer play|rec|gen|verify|open [-D pcm] [-r rate] "
		"[-c channels] [-s seed] [-L latency_us] [-n frames] [-e expect_frames] "
		"[-d seconds] [-M phase] [-N cycles] [-C] [-g] [-R rand_seed] [-T watchdog_s] [-Z]\n");
	exit(3);
}

int main(int argc, char **argv)
{
	struct opts o = {
		.rate = 48000, .channels = 2, .seed = 1, .latency_us = 400000,
		.phase = NULL, .rnd = (uint64_t)getpid() * 0x9e3779b97f4a7c15u ^ (uint64_t)time(NULL),
	};
	struct sigaction sa = { .sa_handler = on_stop };
	int opt, rc = 3;

	if (argc < 2)
		usage();
	o.mode = argv[1];
	optind = 2;
	while ((opt = getopt(argc, argv, "D:r:c:s:L:n:e:d:M:N:CgR:T:Z")) != -1) {
		switch (opt) {
		case 'D': o.dev = optarg; break;
		case 'r': o.rate = (unsigned int)atoi(optarg); break;
		case 'c': o.channels = (unsigned int)atoi(optarg); break;
		case 's': o.seed = (unsigned int)atoi(optarg); break;
		case 'L': o.latency_us = (unsigned int)atoi(optarg); break;
		case 'n': o.frames = strtoull(optarg, NULL, 0); break;
		case 'e': o.expect = strtoull(optarg, NULL, 0); break;
		case 'd': o.duration = atof(optarg); break;
		case 'M': o.phase = optarg; break;
		case 'N': o.cycles = (unsigned int)atoi(optarg); break;
		case 'C': o.capture = true; break;
		case 'g': o.go_signal = true; break;
		case 'R': o.rnd = strtoull(optarg, NULL, 0) | 1; break;
		case 'Z': o.silence = true; break;
		case 'T': o.watchdog = (unsigned int)atoi(optarg); break;
		default: usage();
		}
	}
	if (!o.channels || o.channels > MAX_CH || !o.rate)
		usage();
	if (!o.rnd)
		o.rnd = 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	/* No SA_RESTART: a blocking read or write returns -EINTR at once. */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sa.sa_handler = on_go;
	sigaction(SIGUSR1, &sa, NULL);
	/* Default action: a run that hangs dies of SIGALRM, visibly. */
	if (o.watchdog)
		alarm(o.watchdog);

	if (!strcmp(o.mode, "gen"))
		return run_gen(&o);
	if (!strcmp(o.mode, "verify"))
		return run_verify(&o);
	if (!o.dev)
		usage();
	if (!strcmp(o.mode, "open"))
		rc = run_open(&o);
	else if (!strcmp(o.mode, "play"))
		rc = run_play((o.phase = o.phase ? o.phase : "write", &o));
	else if (!strcmp(o.mode, "rec"))
		rc = run_rec((o.phase = o.phase ? o.phase : "read", &o));
	else
		usage();
	snd_config_update_free_global();
	return rc;
}
