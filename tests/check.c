// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * check.c - check_fail() and friends for the plain (non-PCM) C tests.
 */
#include "check.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>

static atomic_uint passed, failed;

void check_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	atomic_fetch_add(&failed, 1);
}

void check_pass(void)
{
	atomic_fetch_add_explicit(&passed, 1, memory_order_relaxed);
}

unsigned int check_failures(void)
{
	return atomic_load(&failed);
}

int check_finish(void)
{
	printf("%u passed, %u failed\n", atomic_load(&passed), atomic_load(&failed));
	return atomic_load(&failed) ? 1 : 0;
}
