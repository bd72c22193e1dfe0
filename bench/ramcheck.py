#!/usr/bin/env python3
"""Checks that one live migration is exact: guest RAM byte for byte.

   bench/ramcheck.py RUN_DIR VM SOURCE_NODE TARGET_NODE OUT.json [TIMEOUT_S]

Run it before the migration starts, with the agents started with
--vm-incoming-paused (the target QEMU then stays paused after the transfer).
It connects to both QEMUs' observer monitors (RUN_DIR/NODE/VM/qmp-watch.sock),
waits for the target's MIGRATION completed, saves both guests' RAM (QMP
pmemsave: the source is in postmigrate, the target paused, both hold the state
of the switchover), lets the target run (cont), and compares the two page by
page. Writes {"pages", "differing_pages", "first_differing": [page numbers],
"source_state", "target_state", "ram_bytes"}; exits 0 when no page differs,
1 when some do, 2 when the check could not be made.
"""
import json
import os
import socket
import sys
import tempfile
import time

PAGE = 4096


class Monitor:
    def __init__(self, path, deadline):
        self.sock = None
        while time.monotonic() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                time.sleep(0.01)
        if not self.sock:
            raise RuntimeError(f"cannot connect to {path}")
        self.buf = b""
        self.events = []
        self.next_id = 1
        self.read_msg(deadline)  # the greeting
        self.execute("qmp_capabilities", deadline=deadline)

    def read_msg(self, deadline):
        while b"\n" not in self.buf:
            self.sock.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.sock.recv(65536)
            if not chunk:
                raise RuntimeError("QMP connection closed")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def execute(self, cmd, args=None, deadline=None):
        deadline = deadline or time.monotonic() + 30
        ident = self.next_id
        self.next_id += 1
        req = {"execute": cmd, "id": ident}
        if args:
            req["arguments"] = args
        self.sock.sendall(json.dumps(req).encode() + b"\n")
        while True:
            msg = self.read_msg(deadline)
            if "event" in msg:
                self.events.append(msg)
                continue
            if msg.get("id") != ident:
                continue
            if "error" in msg:
                raise RuntimeError(f"{cmd}: {msg['error'].get('desc')}")
            return msg.get("return")

    def wait_event(self, name, status, deadline):
        while True:
            for e in self.events:
                if e["event"] == name and (status is None or e.get("data", {}).get("status") == status):
                    return e
            self.events.append(self.read_msg(deadline))


def stamp_ns(event):
    """QEMU's own timestamp of a QMP event, in unix ns."""
    t = event["timestamp"]
    return t["seconds"] * 1_000_000_000 + t["microseconds"] * 1000


def main():
    if len(sys.argv) < 6:
        print(__doc__, file=sys.stderr)
        return 2
    run_dir, vm, src, dst, out = sys.argv[1:6]
    timeout = float(sys.argv[6]) if len(sys.argv) > 6 else 120
    deadline = time.monotonic() + timeout
    result = {"vm": vm, "source": src, "target": dst}
    try:
        source = Monitor(os.path.join(run_dir, src, vm, "qmp-watch.sock"), deadline)
        target = Monitor(os.path.join(run_dir, dst, vm, "qmp-watch.sock"), deadline)
        target.wait_event("MIGRATION", "completed", deadline)
        result["source_state"] = source.execute("query-status")["status"]
        result["target_state"] = target.execute("query-status")["status"]
        size = target.execute("query-memory-size-summary")["base-memory"]
        result["ram_bytes"] = size
        with tempfile.TemporaryDirectory(prefix="ramcheck-") as tmp:
            files = {}
            for side, mon in (("source", source), ("target", target)):
                files[side] = os.path.join(tmp, side)
                mon.execute("pmemsave", {"val": 0, "size": size, "filename": files[side]})
            target.execute("cont")
            differing = []
            with open(files["source"], "rb") as a, open(files["target"], "rb") as b:
                page = 0
                while True:
                    pa, pb = a.read(PAGE), b.read(PAGE)
                    if not pa and not pb:
                        break
                    if pa != pb:
                        differing.append(page)
                    page += 1
            result["pages"] = page
            result["differing_pages"] = len(differing)
            result["first_differing"] = differing[:20]
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        result["error"] = str(e)
    with open(out + ".tmp", "w") as f:
        json.dump(result, f)
    os.rename(out + ".tmp", out)
    if "error" in result:
        print(f"ramcheck: {result['error']}", file=sys.stderr)
        return 2
    return 0 if result["differing_pages"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
