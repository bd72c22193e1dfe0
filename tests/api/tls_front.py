#!/usr/bin/env python3
"""A TLS front for a plain-HTTP godwitd in the API tests: kubectl sends no
bearer token over plain HTTP (kubernetes/kubectl#744), so until godwitd's TCP
listener speaks TLS itself the kubectl test talks to this.
  tls_front.py CERT KEY UPSTREAM_PORT PORT_FILE
Listens on 127.0.0.1 (a free port, written to PORT_FILE) and relays each
connection to 127.0.0.1:UPSTREAM_PORT."""
import socket
import ssl
import sys
import threading

cert, key, upstream, port_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 0))
ls.listen(64)
with open(port_file + ".tmp", "w") as f:
    f.write(str(ls.getsockname()[1]))
import os
os.rename(port_file + ".tmp", port_file)


def pump(a, b):
    try:
        while True:
            data = a.recv(65536)
            if not data:
                break
            b.sendall(data)
    except OSError:
        pass
    for s in (a, b):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def serve(c):
    try:
        t = ctx.wrap_socket(c, server_side=True)
    except (ssl.SSLError, OSError):
        c.close()
        return
    u = socket.create_connection(("127.0.0.1", upstream))
    threading.Thread(target=pump, args=(t, u), daemon=True).start()
    pump(u, t)


while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
