// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * wakeup.c - the floor for any paced audio client: a process that sleeps
 * in poll() on a timerfd and wakes once per period, doing nothing else.
 *
 *   wakeup [-p PERIOD_FRAMES] [-r RATE] [-t SECONDS] [-m MODE]
 *
 * The benchmark runs two of these (one per end) next to the loopback and
 * null runs: what the loopback costs above the null PCM, against this, is
 * what the plugin adds beyond the wake-ups every paced device needs.
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
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

int main(int argc, char **argv)
{
	unsigned long period = 64, rate = 48000, n = 0, total;
	const char *mode = "periodic";
	double seconds = 5;
	struct timespec ts;
	uint64_t step, next, exp;
	int opt, fd;

	while ((opt = getopt(argc, argv, "p:r:t:m:")) != -1) {
		switch (opt) {
		case 'p': period = strtoul(optarg, NULL, 0); break;
		case 'r': rate = strtoul(optarg, NULL, 0); break;
		case 't': seconds = strtod(optarg, NULL); break;
		case 'm': mode = optarg; break;
		default:
			fprintf(stderr, "usage: wakeup [-p PERIOD] [-r RATE] [-t SECONDS] "
				"[-m periodic|oneshot|plugin]\n");
			return 2;
		}
	}
	if (!period || !rate || seconds <= 0 || (strcmp(mode, "periodic") &&
	    strcmp(mode, "oneshot") && strcmp(mode, "plugin"))) {
		fprintf(stderr, "wakeup: bad arguments\n");
		return 2;
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
			if (read(fd, &exp, sizeof(exp)) == sizeof(exp))
				n += exp;
			continue;
		}
		if (!strcmp(mode, "plugin")) {
			/* poll_revents: consume, then "still ready": fire now. */
			if (read(fd, &exp, sizeof(exp)) != sizeof(exp))
				continue;
			arm_abs(fd, 1, 0);
		}
		/* transfer: arm the moment the next period completes. */
		n++;
		next += step;
		arm_abs(fd, next, 0);
	}
	printf("wakeups=%lu\n", n);
	close(fd);
	return 0;
}
