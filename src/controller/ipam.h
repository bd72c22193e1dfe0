/* SPDX-License-Identifier: MIT */
/*
 * ipam: hands out the unique numbers of the fabric, inside a store
 * transaction, from store allocation pools (store.h):
 * - IPv4 per network (pool "ipv4/<network>"), keyed by owner: inside the
 *   CIDR, never the network, broadcast or gateway address; round-robin from a
 *   persisted cursor so that a just-released address is not reused at once;
 *   an owner whose released address is still free gets it back.
 * - MAC (pool "mac", owner key "<network>/<owner>"): 0a:58 + 4 bytes, unique
 *   across all ports, round-robin, sticky per owner like IPv4.
 * - VNI (pool "vni", owner the network): the lowest free from 100.
 * - Port device names (pool "ifname"): "gw" + 10 hex chars of a hash of the
 *   port name, perturbed on collision.
 * Client mistakes return -EINVAL with err filled (409/400/507); other
 * negative errno values are store failures.
 */
#ifndef GODWIT_CONTROLLER_IPAM_H
#define GODWIT_CONTROLLER_IPAM_H

#include "api_objects.h"
#include "store.h"

#include <stdint.h>

#define IPAM_VNI_FIRST	100
#define IPAM_MAC_PREFIX 0x0a5800000000ULL

struct ipam_network {
	const char *name;
	uint32_t net;
	unsigned len;
	uint32_t gateway;
};

/* From a normalised Network object. */
int ipam_network_from_object(const json_t *network, struct ipam_network *out);

/* requested: NULL to allocate. */
int ipam_ipv4_acquire(struct store *s, const struct ipam_network *n, const char *owner,
		      const char *requested, uint32_t *addr, struct api_error *err);
int ipam_ipv4_release(struct store *s, const char *network, uint32_t addr, const char *owner);

int ipam_mac_acquire(struct store *s, const char *network, const char *owner, const char *requested,
		     uint64_t *mac, struct api_error *err);
int ipam_mac_release(struct store *s, const char *network, uint64_t mac, const char *owner);

/* requested: 0 to allocate. */
int ipam_vni_acquire(struct store *s, const char *network, int64_t requested, uint32_t *vni,
		     struct api_error *err);
int ipam_vni_release(struct store *s, const char *network, uint32_t vni);

int ipam_ifname_acquire(struct store *s, const char *port, char ifname[16], struct api_error *err);
int ipam_ifname_release(struct store *s, const char *port, const char *ifname);

/* Whether any address of the network is held (i.e. it has ports). */
int ipam_network_in_use(struct store *s, const char *network, bool *in_use);
/* Forgets the network's pool (on network delete). */
int ipam_network_drop(struct store *s, const char *network);

#endif
