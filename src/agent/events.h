/* SPDX-License-Identifier: MIT */
/*
 * events: reads the datapath's ring buffer (gw_events) from the main loop.
 * Every GW_EV_ACTIVATED goes to the on_activation hook (main.c: logged and
 * reported to the controller at once).
 */
#ifndef GODWIT_AGENT_EVENTS_H
#define GODWIT_AGENT_EVENTS_H

#include "agent/datapath.h"

struct events;

typedef void (*events_activation_fn)(const struct gw_event *ev, void *ctx);

int events_open(struct datapath *dp, events_activation_fn on_activation, void *ctx,
		struct events **out);
void events_close(struct events *ev); /* accepts NULL */
int events_fd(const struct events *ev);  /* pollable */
int events_consume(struct events *ev);   /* handles what is queued; never blocks */

#endif
