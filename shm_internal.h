/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * shm_internal.h - what the shared layer's files (shm_*.c) share with
 * each other and nobody else.  Never included outside the layer.
 */
#ifndef SHM_INTERNAL_H
#define SHM_INTERNAL_H

#include <stdatomic.h>

#include "shm_ring.h"

#endif /* SHM_INTERNAL_H */
