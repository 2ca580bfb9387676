// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * wakeup.c - the floor for any paced audio client: a process that sleeps
 * in poll() on a timerfd and wakes once per period, doing nothing else.
 *
 *   wakeup [-p PERIOD_FRAMES] [-r RATE] [-t SECONDS] [-m MODE]
 *          [-s SHM_FILE -d in|out [-f FRAME_BYTES]]
 *
 * The benchmark runs two of these (one per end) next to the loopback and
 * null runs: what the loopback costs above the null PCM, against this, is
 * what the plugin adds beyond the wake-ups every paced device needs.
 *
 * With -s, each wake-up also moves one period of FRAME_BYTES-byte frames
 * (default 4: S16 stereo) through SHM_FILE, a ring of 4 periods that both
 * processes map (created by the first, the caller removes it): -d in
 * copies a period from private memory into the ring (the playback end),
 * -d out copies one out of it (the capture end).  That is the least any
 * two-process cable does per period: wake up, copy.
 *
 * MODE says how the timer is driven, to price the plugin's choices:
 *   periodic  one periodic timerfd: poll + read per period (the floor)
 *   oneshot   poll, then re-arm the next absolute deadline: poll + settime
 *   plugin    what pcm_loop.c does per period today: poll, read the
 *             expiry, re-arm "now" (an already expired time: the timer
 *             fires again at once), then arm the next deadline
 * Prints "wakeups=N".
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static void arm_abs(int fd, uint64_t ns, uint64_t interval)
{
	struct itimerspec its = {
		.it_value = { .tv_sec = (time_t)(ns / 1000000000u),
			      .tv_nsec = (long)(ns % 1000000000u) },
		.it_interval = { .tv_sec = (time_t)(interval / 1000000000u),
				 .tv_nsec = (long)(interval % 1000000000u) },
	};

	timerfd_settime(fd, TFD_TIMER_ABSTIME, &its, NULL);
}

/* One period into (or out of) the next slot of the 4-period ring. */
static void copy_period(unsigned char *ring, unsigned char *priv, size_t bytes, size_t *slot,
			const char *dir)
{
	unsigned char *at;

	if (!ring)
		return;
	at = ring + *slot * bytes;
	if (dir[0] == 'i')
		memcpy(at, priv, bytes);
	else
		memcpy(priv, at, bytes);
	*slot = (*slot + 1) % 4;
	/* Keep the copy: the compiler must not drop it. */
	__asm__ __volatile__("" : : "r"(priv), "r"(at) : "memory");
}

int main(int argc, char **argv)
{
	unsigned long period = 64, rate = 48000, n = 0, total;
	const char *mode = "periodic", *shm = NULL, *dir = NULL;
	unsigned long frame_bytes = 4;
	unsigned char *ring = NULL, *priv = NULL;
	size_t period_bytes = 0, slot = 0;
	double seconds = 5;
	struct timespec ts;
	uint64_t step, next, exp;
	int opt, fd;

	while ((opt = getopt(argc, argv, "p:r:t:m:s:d:f:")) != -1) {
		switch (opt) {
		case 'p': period = strtoul(optarg, NULL, 0); break;
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'm': mode = optarg; break;
		case 's': shm = optarg; break;
		case 'd': dir = optarg; break;
		case 'f': frame_bytes = strtoul(optarg, NULL, 0); break;
		default:
			fprintf(stderr, "usage: wakeup [-p PERIOD] [-r RATE] [-t SECONDS] "
				"[-m periodic|oneshot|plugin] [-s SHM_FILE -d in|out [-f FRAME_BYTES]]\n");
			return 2;
		}
	}
	if (!period || !rate || seconds <= 0 || (strcmp(mode, "periodic") &&
	    strcmp(mode, "oneshot") && strcmp(mode, "plugin")) ||
	    (shm && (!dir || (strcmp(dir, "in") && strcmp(dir, "out")) || !frame_bytes))) {
		fprintf(stderr, "wakeup: bad arguments\n");
		return 2;
	}
	if (shm) {
		int sfd = open(shm, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

		period_bytes = period * frame_bytes;
		if (sfd < 0 || ftruncate(sfd, (off_t)(4 * period_bytes)) < 0) {
			perror("wakeup: shared memory");
			return 2;
		}
		ring = mmap(NULL, 4 * period_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
		close(sfd);
		priv = calloc(1, period_bytes);
		if (ring == MAP_FAILED || !priv) {
			perror("wakeup: mmap");
			return 2;
		}
		/* Something other than zero pages to copy. */
		for (size_t i = 0; i < period_bytes; i++)
			priv[i] = (unsigned char)(i * 131u + 7u);
	}
	fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (fd < 0) {
		perror("wakeup: timerfd_create");
		return 2;
	}
	step = (uint64_t)period * 1000000000u / rate;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	next = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + step;
	arm_abs(fd, next, strcmp(mode, "periodic") ? 0 : step);
	total = (unsigned long)(seconds * (double)rate / (double)period);
	while (n < total) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (poll(&pfd, 1, -1) <= 0)
			continue;
		if (!strcmp(mode, "periodic")) {
			if (read(fd, &exp, sizeof(exp)) == sizeof(exp)) {
				n += exp;
				copy_period(ring, priv, period_bytes, &slot, dir);
			}
			continue;
		}
		if (!strcmp(mode, "plugin")) {
			/* poll_revents: consume, then "still ready": fire now. */
			if (read(fd, &exp, sizeof(exp)) != sizeof(exp))
				continue;
			arm_abs(fd, 1, 0);
		}
		/* transfer: arm the moment the next period completes. */
		copy_period(ring, priv, period_bytes, &slot, dir);
		n++;
		next += step;
		arm_abs(fd, next, 0);
	}
	printf("wakeups=%lu\n", n);
	close(fd);
	return 0;
}
