/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * check.h - how every C test checks and reports.
 *
 * CHECK reports a failed condition and goes on; REQUIRE reports it and
 * returns from the calling (void) function.  check_fail() is defined once
 * per program: by tests/check.c for the plain tests, by tests/harness.c
 * for the PCM tests (which count per test case).  check_finish() prints
 * the closing "N passed, N failed" line and gives the exit status.
 */
#ifndef TESTS_CHECK_H
#define TESTS_CHECK_H

void check_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Checks that ran and that failed so far (plain tests; thread-safe). */
unsigned int check_failures(void);
void check_pass(void);
int check_finish(void);

#define CHECK(cond, ...)						\
	do {								\
		if (!(cond))						\
			check_fail(__FILE__, __LINE__, __VA_ARGS__);	\
		else							\
			check_pass();					\
	} while (0)

#define REQUIRE(cond, ...)						\
	do {								\
		if (!(cond)) {						\
			check_fail(__FILE__, __LINE__, __VA_ARGS__);	\
			return;						\
		}							\
		check_pass();						\
	} while (0)

#endif /* TESTS_CHECK_H */
