// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * test-race.c - two ends racing through hw_params never make a mixed lock.
 *
 * Two long-lived child processes, one per end of a cable, open their end,
 * wait at a barrier, and then call snd_pcm_hw_params() at the same moment
 * with parameters drawn at random from two sets.  Each round the parent
 * checks the outcome against the only consistent ones:
 *   - the same parameters: both succeed;
 *   - different ones: exactly one succeeds, the other gets -EINVAL;
 *   - the segment's lock holds exactly the winner's parameters.
 * Then both close, which frees the cable for the next round.
 */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "shm_layout.h"

#define ROUNDS 1000

static const struct {
	snd_pcm_format_t format;
	unsigned int rate, channels;
} choices[2] = {
	{ SND_PCM_FORMAT_S16_LE, 48000, 2 },
	{ SND_PCM_FORMAT_S32_LE, 44100, 1 },
};

/* What a child reports after its hw_params. */
struct report {
	int err;
	int choice;
};

/* One end: loop on commands from the parent ('o'pen, 'h'w_params, 'c'lose). */
static void child(unsigned int sub, unsigned int dev, snd_pcm_stream_t stream, int cmd_fd,
		  int rep_fd, unsigned int seed)
{
	snd_pcm_t *pcm = NULL;
	char cmd;

	srand(seed);
	while (read(cmd_fd, &cmd, 1) == 1) {
		struct report r = { 0, -1 };

		if (cmd == 'o') {
			r.err = h_open_end(&pcm, h_card, sub, dev, stream, 0);
		} else if (cmd == 'h') {
			struct h_params p;

			r.choice = rand() & 1;
			h_params_init(&p, choices[r.choice].format, choices[r.choice].rate,
				      choices[r.choice].channels, 100);
			r.err = h_setup(pcm, &p);
		} else if (cmd == 'c') {
			r.err = snd_pcm_close(pcm);
			pcm = NULL;
		}
		if (write(rep_fd, &r, sizeof(r)) != sizeof(r))
			break;
	}
	snd_config_update_free_global();
	_exit(0);
}

struct end {
	pid_t pid;
	int cmd_fd, rep_fd;
};

static struct report ask(struct end *e, char cmd)
{
	struct report r = { -EIO, -1 };

	if (write(e->cmd_fd, &cmd, 1) != 1 || read(e->rep_fd, &r, sizeof(r)) != sizeof(r))
		r.err = -EIO;
	return r;
}

static void start_end(struct end *e, unsigned int sub, unsigned int dev,
		      snd_pcm_stream_t stream, unsigned int seed)
{
	int cmd[2], rep[2];

	REQUIRE(pipe(cmd) == 0 && pipe(rep) == 0, "pipe: %s", strerror(errno));
	e->pid = fork();
	REQUIRE(e->pid >= 0, "fork: %s", strerror(errno));
	if (!e->pid) {
		close(cmd[1]);
		close(rep[0]);
		child(sub, dev, stream, cmd[0], rep[1], seed);
	}
	close(cmd[0]);
	close(rep[1]);
	e->cmd_fd = cmd[1];
	e->rep_fd = rep[0];
}

static void stop_end(struct end *e)
{
	close(e->cmd_fd);
	close(e->rep_fd);
	/* The other child inherited our pipe ends: EOF may never come. */
	kill(e->pid, SIGTERM);
	waitpid(e->pid, NULL, 0);
}

static void test_race(void)
{
	unsigned int sub = h_subdev();
	struct end play, cap;
	unsigned int mixed = 0, both = 0, one = 0;
	struct shm_header *hdr = NULL;
	char path[256];

	/* dev 0 playback and dev 1 capture: the two ends of cable 0. */
	start_end(&play, sub, 0, SND_PCM_STREAM_PLAYBACK, 1);
	start_end(&cap, sub, 1, SND_PCM_STREAM_CAPTURE, 2);
	h_seg_path(path, sizeof(path), h_card, sub);
	for (unsigned int round = 0; round < ROUNDS && !h_test_failed; round++) {
		struct report rp, rc;
		char go = 'h';

		rp = ask(&play, 'o');
		rc = ask(&cap, 'o');
		REQUIRE(!rp.err && !rc.err, "round %u: open: %s / %s", round,
			snd_strerror(rp.err), snd_strerror(rc.err));
		/* Each round's segment is new: the last one out removed the last. */
		{
			int fd = open(path, O_RDONLY);

			REQUIRE(fd >= 0, "%s: %s", path, strerror(errno));
			hdr = mmap(NULL, SHM_SEGMENT_BYTES, PROT_READ, MAP_SHARED, fd, 0);
			close(fd);
			REQUIRE(hdr != MAP_FAILED, "mmap: %s", strerror(errno));
		}
		/* Both commands out before either answer is read: a real race. */
		REQUIRE(write(play.cmd_fd, &go, 1) == 1 && write(cap.cmd_fd, &go, 1) == 1,
			"write: %s", strerror(errno));
		REQUIRE(read(play.rep_fd, &rp, sizeof(rp)) == sizeof(rp) &&
			read(cap.rep_fd, &rc, sizeof(rc)) == sizeof(rc), "read reports");

		const struct shm_cable *c = &hdr->cable[0];
		int winner = !rp.err ? rp.choice : !rc.err ? rc.choice : -1;

		if (rp.choice == rc.choice) {
			CHECK(!rp.err && !rc.err, "round %u: same parameters, yet %s / %s", round,
			      snd_strerror(rp.err), snd_strerror(rc.err));
			both++;
		} else {
			CHECK(!rp.err != !rc.err, "round %u: different parameters, results %s / %s",
			      round, snd_strerror(rp.err), snd_strerror(rc.err));
			CHECK(rp.err == -EINVAL || rc.err == -EINVAL, "round %u: loser got %s / %s",
			      round, snd_strerror(rp.err), snd_strerror(rc.err));
			one++;
		}
		if (winner >= 0 && (atomic_load(&c->format) != (unsigned int)choices[winner].format ||
				    atomic_load(&c->rate) != choices[winner].rate ||
				    atomic_load(&c->channels) != choices[winner].channels ||
				    !atomic_load(&c->locked))) {
			mixed++;
			CHECK(0, "round %u: lock is %u/%u/%u, winner set %d", round,
			      atomic_load(&c->format), atomic_load(&c->rate),
			      atomic_load(&c->channels), choices[winner].format);
		}
		munmap(hdr, SHM_SEGMENT_BYTES);
		hdr = NULL;
		rp = ask(&play, 'c');
		rc = ask(&cap, 'c');
		CHECK(!rp.err && !rc.err, "round %u: close", round);
	}
	h_note("%u rounds: %u both configured, %u one refused, %u mixed locks",
	       both + one, both, one, mixed);
	CHECK(both + one == ROUNDS, "only %u rounds ran", both + one);
	CHECK(both && one, "the random draw never raced both ways");
	if (hdr)
		munmap(hdr, SHM_SEGMENT_BYTES);
	stop_end(&play);
	stop_end(&cap);
}

int main(int argc, char **argv)
{
	(void)argc;
	h_init(argv[0]);
	h_run("race: 1000 simultaneous hw_params never mix the lock", test_race, 120);
	return h_finish();
}
