/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer: what the agents read about a migration from outside: the
 * target's incoming_uri (from the controller, migsock_parse_uri) and QEMU's
 * query-migrate answer (vm_outgoing_from_json), and a Migration's
 * status.transport (migtls_key_of, the same JSON text). The input is split
 * at the first newline: a URI, then a JSON text. A parsed URI must print back
 * as the same address and port; a parsed answer must leave bounded strings;
 * a transport gives a key of SECRET_HEX_LEN hex digits or none.
 */
#include "agent/migsock.h"
#include "agent/vm_internal.h"
#include "lib/migtls.h"

#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void check_uri(const char *uri)
{
	struct sockaddr_in sa;
	char ip[INET_ADDRSTRLEN], back[64];

	if (migsock_parse_uri(uri, &sa) < 0)
		return;
	if (sa.sin_family != AF_INET || sa.sin_port == 0 ||
	    !inet_ntop(AF_INET, &sa.sin_addr, ip, sizeof(ip)))
		abort();
	snprintf(back, sizeof(back), "tcp:%s:%u", ip, ntohs(sa.sin_port));
	if (migsock_parse_uri(back, &sa) < 0)
		abort();
}

static void check_transport(const json_t *t)
{
	char key[SECRET_HEX_LEN + 1];

	if (migtls_key_of(t, MIGTLS_ROLE_TARGET, "a stream secret", key) < 0)
		return;
	if (strlen(key) != SECRET_HEX_LEN || strspn(key, "0123456789abcdef") != SECRET_HEX_LEN)
		abort();
}

static void check_answer(const char *text, size_t len)
{
	struct vm_outgoing out;
	json_t *info = json_loadb(text, len, 0, NULL);

	memset(&out, 0, sizeof(out));
	vm_outgoing_from_json(info, &out);
	if (strnlen(out.status, sizeof(out.status)) == sizeof(out.status) ||
	    strnlen(out.error, sizeof(out.error)) == sizeof(out.error))
		abort();
	check_transport(info);
	json_decref(info);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nl = memchr(data, '\n', size);
	size_t ulen = nl ? (size_t)(nl - data) : size;
	char *uri = malloc(ulen + 1);

	if (!uri)
		return 0;
	memcpy(uri, data, ulen);
	uri[ulen] = '\0';
	check_uri(uri);
	free(uri);
	if (nl)
		check_answer((const char *)nl + 1, size - ulen - 1);
	return 0;
}
