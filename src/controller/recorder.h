/* SPDX-License-Identifier: MIT */
/*
 * recorder: the cluster's Events (kind Event, GET /v1/events, `godwit get
 * events`), what the controller saw change, as Kubernetes records them.
 *
 * Design
 * - A worker round every RECORDER_PERIOD_MS compares what a reader of the API
 *   sees now with what the round before saw, and writes one Event per change,
 *   all of a round in one transaction:
 *     Migration: every phase it enters (reason Migration<Phase>; Failed and
 *       Aborted are Warnings with the migration's error), read from the
 *       store's change log (store.h events), so no phase is missed however
 *       quickly one follows another and finished migrations cost nothing;
 *     VM: a phase change (reason = the phase, with the node and the reason
 *       the status gives) and a guest reset (guest_resets grew: Warning
 *       GuestReset) — computed at read (vm.h), so listed each round;
 *     Node: ready or not (NodeReady / Warning NodeNotReady), also computed.
 * - The first round only learns: a controller (re)started tells nothing twice
 *   and nothing it did not see happen. A change log compacted past the
 *   round's position re-learns the migrations from a list, silently.
 * - Pure comparison (recorder_diff_*) apart from the thread, for unit tests.
 * - Kept: the newest RECORDER_KEEP Events; a round that finds more than
 *   RECORDER_KEEP + RECORDER_SLACK deletes the oldest (names ev-<revision>-<n>
 *   sort by time). Memory: one small entry per VM, node and stored
 *   migration.
 */
#ifndef GODWIT_CONTROLLER_RECORDER_H
#define GODWIT_CONTROLLER_RECORDER_H

#include <jansson.h>
#include <stdint.h>

#include "registry.h"

#define RECORDER_PERIOD_MS 500
#define RECORDER_KEEP	   1000
#define RECORDER_SLACK	   100

struct recorder;

/* Starts the worker (its first round 0 ms after). */
int recorder_start(struct registry *reg, struct recorder **out);
void recorder_stop(struct recorder *rec); /* accepts NULL */

/*
 * One comparison: item is the object as read now, *seen what was remembered
 * of it (a small JSON object, NULL when unseen; replaced). Each event is
 * appended to events as {"object":{kind,name}, type, reason, message, node}.
 * learn: remember only (the first round).
 */
int recorder_diff_vm(const json_t *item, json_t **seen, bool learn, json_t *events);
int recorder_diff_node(const json_t *item, json_t **seen, bool learn, json_t *events);
/* A migration as written by one change (seen: the phase last seen). */
int recorder_diff_migration(const json_t *item, json_t **seen, bool learn, json_t *events);

#endif
