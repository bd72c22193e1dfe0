/* SPDX-License-Identifier: MIT */
#include "agent/portreport.h"

#include <time.h>
#include "lib/clock.h"
#include "lib/phases.h"

uint64_t port_mono_to_unix(uint64_t ts, uint64_t mono_now, uint64_t real_now)
{
	/* ts in the future (clocks read before the event): no negative age. */
	uint64_t age = mono_now > ts ? mono_now - ts : 0;

	return real_now > age ? real_now - age : 0;
}

void port_clocks_now(uint64_t *mono_now, uint64_t *real_now)
{
	*mono_now = (uint64_t)clock_mono_ns();
	*real_now = (uint64_t)clock_unix_ns();
}

json_t *port_report_json(const struct port_ref *refs, size_t n, port_lookup_fn lookup, void *ctx,
			 const struct port_activation *acts, size_t n_acts, uint64_t mono_now,
			 uint64_t real_now)
{
	json_t *out = json_object();

	for (size_t i = 0; out && i < n; i++) {
		struct gw_port port;
		uint64_t unix_ns;
		json_t *o;

		if (lookup(refs[i].ifindex, &port, ctx) < 0)
			continue;
		o = json_pack("{s:s, s:I}", "state",
			      port_state_name(port.state == GW_PORT_STANDBY ? PORT_STATE_STANDBY
									    : PORT_STATE_ACTIVE),
			      "ifindex", (json_int_t)refs[i].ifindex);
		if (o && port.activated_ns) {
			unix_ns = port_mono_to_unix(port.activated_ns, mono_now, real_now);
			for (size_t j = 0; j < n_acts; j++)
				if (acts[j].ifindex == refs[i].ifindex &&
				    acts[j].mono_ns == port.activated_ns)
					unix_ns = acts[j].unix_ns;
			json_object_set_new(o, "activated_unix_ns", json_integer((json_int_t)unix_ns));
			json_object_set_new(o, "activated_mono_ns",
					    json_integer((json_int_t)port.activated_ns));
		}
		if (!o || json_object_set_new(out, refs[i].name, o) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}
