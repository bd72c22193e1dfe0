/* SPDX-License-Identifier: MIT */
/* The one place where drop reasons are counted. */
#ifndef GODWIT_BPF_LIB_DROP_H
#define GODWIT_BPF_LIB_DROP_H

#include "common.h"
#include "maps.h"

/* Counts a drop of one copy (the frame itself may still go elsewhere). */
static __always_inline void count_drop(int verdict)
{
	count((enum gw_counter)(-verdict));
}

/* Turns a program's verdict into a TC action, counting a drop reason. */
static __always_inline int finish(int verdict)
{
	if (IS_DROP(verdict)) {
		count_drop(verdict);
		return TC_ACT_SHOT;
	}
	return verdict;
}

#endif
