// SPDX-License-Identifier: MIT
/*
 * pskterm: the TLS side of an agent's stream service (lib/pskpipe.h) in
 * front of a test's fake one, which then speaks the plain line protocol as
 * before (lib/streamproto.h).
 *   pskterm LISTEN_IP:PORT BACKEND_IP:PORT SECRET_FILE [READY_FILE]
 * Each connection: the server's handshake with the secret in SECRET_FILE
 * (any identity), a connection to BACKEND, and the bytes relayed both ways
 * with their half-closes. READY_FILE is made once it listens. Runs until
 * killed.
 */
#include "lib/addr.h"
#include "lib/pskpipe.h"
#include "lib/stream.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static struct sockaddr_in backend;
static char secret[1024];

static int parse_addr(const char *text, struct sockaddr_in *sa)
{
	uint16_t port;
	uint32_t ip;

	if (addr_ipv4_port_parse(text, &ip, &port) < 0)
		return -EINVAL;
	*sa = (struct sockaddr_in){
	    .sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = htonl(ip)};
	return 0;
}

static void *serve(void *data)
{
	int tcp = (int)(intptr_t)data, plain = -1, back;
	char err[256];

	if (pskpipe_server(tcp, NULL, secret, &plain, err, sizeof(err)) < 0) {
		fprintf(stderr, "pskterm: %s\n", err);
		return NULL;
	}
	back = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (back < 0 || connect(back, (struct sockaddr *)&backend, sizeof(backend)) < 0)
		fprintf(stderr, "pskterm: cannot reach the backend: %s\n", strerror(errno));
	else
		stream_relay(plain, back);
	if (back >= 0)
		close(back);
	close(plain);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sockaddr_in listen_sa;
	int one = 1, fd, sfd;
	ssize_t n;

	if (argc < 4 || parse_addr(argv[1], &listen_sa) < 0 || parse_addr(argv[2], &backend) < 0) {
		fprintf(stderr, "usage: pskterm LISTEN_IP:PORT BACKEND_IP:PORT SECRET_FILE [READY_FILE]\n");
		return 2;
	}
	sfd = open(argv[3], O_RDONLY | O_CLOEXEC);
	n = sfd < 0 ? -1 : read(sfd, secret, sizeof(secret) - 1);
	if (n <= 0) {
		fprintf(stderr, "pskterm: cannot read %s\n", argv[3]);
		return 1;
	}
	secret[strcspn(secret, "\r\n")] = '\0';
	close(sfd);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&listen_sa, sizeof(listen_sa)) < 0 ||
	    listen(fd, 256) < 0) {
		fprintf(stderr, "pskterm: cannot listen on %s: %s\n", argv[1], strerror(errno));
		return 1;
	}
	if (argc > 4)
		close(open(argv[4], O_WRONLY | O_CREAT | O_CLOEXEC, 0644));
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		pthread_t t;

		if (c < 0)
			continue;
		if (pthread_create(&t, NULL, serve, (void *)(intptr_t)c) != 0)
			close(c);
		else
			pthread_detach(t);
	}
}
