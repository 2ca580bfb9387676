// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * spawn.c - run commands side by side and report what they cost.
 *
 *   spawn [-e ERRFILE] [-s SECONDS] -- CMD ARGS... [::: CMD ARGS...]...
 *
 * Starts every command at once (no shell in between, so nothing but the
 * clients themselves is measured), waits for all of them and prints one
 * line on stdout:
 *
 *   n=2 failed=0 cpu_us=123456 maxrss_kb=7000 wall_us=20012345
 *
 * cpu_us is user+sys of all the commands (wait4's rusage, so it includes
 * their own children), maxrss_kb the sum of their peak resident sizes.  A
 * command that exits non-zero or dies of a signal counts as failed and is
 * named on stderr; spawn itself exits 1 then.  With -e, the commands'
 * stderr goes to ERRFILE (appended), so the caller can count xrun messages.
 * With -s, each command starts SECONDS after the one before it (a capture
 * that must be running before the playback starts).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t tv_us(struct timeval tv)
{
	return (uint64_t)tv.tv_sec * 1000000u + (uint64_t)tv.tv_usec;
}

int main(int argc, char **argv)
{
	const char *errfile = NULL;
	double stagger = 0;
	uint64_t cpu = 0, rss = 0, t0;
	unsigned int n = 0, failed = 0, left;
	pid_t *pids;
	char **names;
	int i, errfd = -1;

	for (i = 1; i < argc && strcmp(argv[i], "--"); i++) {
		if (!strcmp(argv[i], "-e") && i + 1 < argc) {
			errfile = argv[++i];
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			stagger = strtod(argv[++i], NULL);
		} else {
			fprintf(stderr, "usage: spawn [-e ERRFILE] [-s SECONDS] -- CMD... [::: CMD...]...\n");
			return 2;
		}
	}
	if (i >= argc - 1) {
		fprintf(stderr, "spawn: no command\n");
		return 2;
	}
	if (errfile) {
		errfd = open(errfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
		if (errfd < 0) {
			fprintf(stderr, "spawn: %s: %s\n", errfile, strerror(errno));
			return 2;
		}
	}
	pids = calloc((size_t)argc, sizeof(*pids));
	names = calloc((size_t)argc, sizeof(*names));
	if (!pids || !names)
		return 2;

	t0 = now_us();
	for (i++; i < argc; i++) {
		int first = i;
		pid_t pid;

		while (i < argc && strcmp(argv[i], ":::"))
			i++;
		argv[i < argc ? i : argc] = NULL;	/* argv[argc] is NULL anyway */
		if (i == first)
			continue;
		if (n && stagger > 0) {
			struct timespec ts = { .tv_sec = (time_t)stagger,
					       .tv_nsec = (long)((stagger - (double)(time_t)stagger) * 1e9) };

			while (nanosleep(&ts, &ts) && errno == EINTR)
				;
		}
		pid = fork();
		if (pid < 0) {
			fprintf(stderr, "spawn: fork: %s\n", strerror(errno));
			/* Let the ones already started finish, then fail. */
			failed++;
			break;
		}
		if (pid == 0) {
			if (errfd >= 0)
				dup2(errfd, 2);
			execvp(argv[first], &argv[first]);
			fprintf(stderr, "spawn: %s: %s\n", argv[first], strerror(errno));
			_exit(127);
		}
		pids[n] = pid;
		names[n] = argv[first];
		n++;
	}

	for (left = n; left; left--) {
		struct rusage ru;
		int status;
		pid_t pid = wait4(-1, &status, 0, &ru);

		if (pid < 0) {
			if (errno == EINTR) {
				left++;
				continue;
			}
			fprintf(stderr, "spawn: wait4: %s\n", strerror(errno));
			return 2;
		}
		cpu += tv_us(ru.ru_utime) + tv_us(ru.ru_stime);
		rss += (uint64_t)ru.ru_maxrss;
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			const char *name = "?";

			for (unsigned int k = 0; k < n; k++)
				if (pids[k] == pid)
					name = names[k];
			failed++;
			if (WIFSIGNALED(status))
				fprintf(stderr, "spawn: %s (pid %d) killed by signal %d\n", name,
					(int)pid, WTERMSIG(status));
			else
				fprintf(stderr, "spawn: %s (pid %d) exited with %d\n", name,
					(int)pid, WEXITSTATUS(status));
		}
	}
	printf("n=%u failed=%u cpu_us=%llu maxrss_kb=%llu wall_us=%llu\n", n, failed,
	       (unsigned long long)cpu, (unsigned long long)rss,
	       (unsigned long long)(now_us() - t0));
	free(pids);
	free(names);
	return failed ? 1 : 0;
}
