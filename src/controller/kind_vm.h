/* SPDX-License-Identifier: MIT */
/*
 * kind_vm: the VM kind's row (kind.h; design in vm.h): its spec rules, its
 * Port created and deleted in the VM's transactions, the derived status at
 * read time; and what the Port and Migration kinds ask of VMs.
 */
#ifndef GODWIT_CONTROLLER_KIND_VM_H
#define GODWIT_CONTROLLER_KIND_VM_H

#include "kind.h"

/* A client's delete of port: 409 when it belongs to an existing VM (delete the VM instead). */
int vm_port_guard(struct txn *t, const json_t *port, struct api_error *err);

/*
 * In a migration's create transaction, before its port is looked up: for
 * spec.vm checks the VM (exists, migratable, running) and sets spec.port to
 * its Port; for spec.port refuses a VM's Port (the VM must be named).
 */
int vm_migration_subject(struct txn *t, json_t *mig, struct api_error *err);

/*
 * After a migration changed its port: the migration's VM (if any) follows the
 * port (spec.target, spec.node). *out: the VM to write (at t's revision), or
 * NULL when it did not change.
 */
int vm_follow_migration(struct txn *t, const json_t *mig, const json_t *port, json_t **out);

#endif
