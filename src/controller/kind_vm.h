/* SPDX-License-Identifier: MIT */
/*
 * kind_vm: the store side of the VM kind (docs/VM.md, design in vm.h): the
 * steps registry.c and migration_api.c take for VMs inside their
 * transactions, and the derived status at read time. Errors as in registry.h.
 */
#ifndef GODWIT_CONTROLLER_KIND_VM_H
#define GODWIT_CONTROLLER_KIND_VM_H

#include "registry.h"

/*
 * In the create transaction of a validated VM: checks spec.image against the
 * catalog (422), the network (404), schedules spec.node (409 without a ready
 * node), creates the VM's Port and fills the VM's stored status.
 */
int vm_prepare_create(struct registry *reg, json_t *vm, int64_t rev, struct api_error *err);

/* In the delete transaction of a VM: deletes its Port (409 while it migrates). */
int vm_release_port(struct registry *reg, const json_t *vm, struct api_error *err);

/* 409 when port belongs to an existing VM (delete the VM instead). */
int vm_port_guard(struct registry *reg, const json_t *port, struct api_error *err);

/* Replaces the VM's status by the derived one (vm.h vm_status_derive). */
int vm_decorate(struct registry *reg, json_t *vm);

/*
 * In a migration's create transaction, before its port is looked up: for
 * spec.vm checks the VM (exists, migratable, running) and sets spec.port to
 * its Port; for spec.port refuses a VM's Port (the VM must be named).
 */
int vm_migration_subject(struct registry *reg, json_t *mig, struct api_error *err);

/*
 * After a migration's port changed at revision rev: the migration's VM (if
 * any) follows the port (spec.target, spec.node) and is written if it changed.
 */
int vm_follow_migration(struct registry *reg, const json_t *mig, const json_t *port, int64_t rev);

/*
 * At the controller's start: creates the Network "default" (cidr, dhcp) once
 * in the life of the store, unless a network of that name exists; after
 * that, never again (a user may delete it). cidr NULL: never create it.
 * *created tells whether it was created now.
 */
int vm_default_network(struct registry *reg, const char *cidr, bool *created,
		       struct api_error *err);

#endif
