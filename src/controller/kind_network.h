/* SPDX-License-Identifier: MIT */
/* kind_network: the Network kind's row (kind.h) and the network "default". */
#ifndef GODWIT_CONTROLLER_KIND_NETWORK_H
#define GODWIT_CONTROLLER_KIND_NETWORK_H

#include "kind.h"

/*
 * In t: creates the Network "default" (cidr, dhcp, VNI 1 when free) unless
 * the store remembers having done it once or a network of that name exists;
 * remembers it (registry_default_network). *created: whether it was created.
 */
int network_create_default(struct txn *t, const char *cidr, bool *created, struct api_error *err);

#endif
