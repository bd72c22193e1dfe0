/* SPDX-License-Identifier: MIT */
/*
 * Common definitions of the godwit tc programs.
 *
 * Verdicts: helpers return an int that is either a TC action (>= 0) or a
 * drop reason encoded as DROP(reason) (< 0). Every drop counter index is
 * > 0, so the two never overlap; the entry programs turn a negative verdict
 * into TC_ACT_SHOT in exactly one place (finish()), which counts the reason.
 */
#ifndef GODWIT_BPF_LIB_COMMON_H
#define GODWIT_BPF_LIB_COMMON_H

#include <stdbool.h>
#include <linux/bpf.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "bpf/abi.h"

#define DROP(reason)	 (-(int)(reason))
#define IS_DROP(verdict) ((verdict) < 0)

/* The first drop counter must be > 0 for DROP() to be negative. */
GW_STATIC_ASSERT(GW_CNT_DROP_MALFORMED > 0, "drop reasons must be positive");

#endif
