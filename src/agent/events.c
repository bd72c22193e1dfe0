/* SPDX-License-Identifier: MIT */
#include "agent/events.h"

#include <bpf/libbpf.h>
#include <errno.h>
#include <stdlib.h>

#include "lib/log.h"

struct events {
	struct ring_buffer *rb;
	events_activation_fn on_activation;
	void *ctx;
};

static int on_sample(void *data, void *sample, size_t size)
{
	struct events *ev = data;
	const struct gw_event *e = sample;

	if (size < sizeof(*e)) {
		log_warn("datapath event of %zu bytes ignored (expected %zu)", size, sizeof(*e));
		return 0;
	}
	if (e->type == GW_EV_ACTIVATED && ev->on_activation)
		ev->on_activation(e, ev->ctx);
	else if (e->type != GW_EV_ACTIVATED)
		log_debug("datapath event type %u ignored", e->type);
	return 0;
}

int events_open(struct datapath *dp, events_activation_fn on_activation, void *ctx,
		struct events **out)
{
	struct events *ev = calloc(1, sizeof(*ev));

	if (!ev)
		return -ENOMEM;
	ev->on_activation = on_activation;
	ev->ctx = ctx;
	ev->rb = ring_buffer__new(datapath_map_fd(dp, DP_MAP_EVENTS), on_sample, ev, NULL);
	if (!ev->rb) {
		int r = -errno;

		free(ev);
		return r ? r : -EINVAL;
	}
	*out = ev;
	return 0;
}

void events_close(struct events *ev)
{
	if (!ev)
		return;
	ring_buffer__free(ev->rb);
	free(ev);
}

int events_fd(const struct events *ev)
{
	return ring_buffer__epoll_fd(ev->rb);
}

int events_consume(struct events *ev)
{
	int r = ring_buffer__consume(ev->rb);

	return r < 0 ? r : 0;
}
