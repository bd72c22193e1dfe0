#!/usr/bin/env python3
"""Simulated agents against one godwitd (issue 13's control-plane bench).

Each simulated agent does what godwit-agent does on the API, over its own
source address (127.1.x.y, as real nodes have one address each):
registers its Node (PUT /v1/nodes/NAME), lists every kind, watches from the
lists' revision (GET /v1/watch?since=R, one JSON event per line) and sends a
heartbeat every 2 s on a keep-alive connection (PUT /v1/nodes/NAME/status).
No datapath, no VMs. SIM_SKIP_LIST=kind,... leaves kinds unlisted
(bench/control_plane.sh with BENCH_FINISHED). The driver then makes CHANGES changes (a Port created)
and measures when every agent's watch stream delivered each one.

  agents_sim.py PORT TOKEN AGENTS CHANGES OUT.json CA.crt
(The API's TCP port is HTTPS: CA.crt is the controller's STATE/tls/ca.crt.)
Prints progress to stderr; OUT.json: propagation (ms, every agent x change),
heartbeat round trips (ms), node readiness, failures.
"""
import asyncio
import json
import ssl
import os
import sys
import time

HEARTBEAT_S = 2.0


def now_ms():
    return time.monotonic() * 1000.0


def dist(values):
    if not values:
        return None
    v = sorted(values)

    def pct(p):
        return round(v[min(len(v) - 1, int(p / 100.0 * len(v)))], 3)

    return {"n": len(v), "p50": pct(50), "p99": pct(99), "max": round(v[-1], 3)}


TLS = None  # the ssl context of the cluster CA (main)


class Conn:
    """One keep-alive HTTP/1.1 connection from a given source address."""

    def __init__(self, port, token, source):
        self.port, self.token, self.source = port, token, source
        self.reader = self.writer = None

    async def open(self):  # HTTPS, verified with the cluster CA, as godwit-agent
        self.reader, self.writer = await asyncio.open_connection(
            "127.0.0.1", self.port, local_addr=(self.source, 0), ssl=TLS,
            server_hostname="127.0.0.1")

    async def request(self, method, path, body=None):
        data = b"" if body is None else json.dumps(body).encode()
        head = (f"{method} {path} HTTP/1.1\r\nHost: godwit\r\n"
                f"Authorization: Bearer {self.token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n")
        self.writer.write(head.encode() + data)
        await self.writer.drain()
        status, headers = await self.read_head()
        if headers.get("transfer-encoding") == "chunked":
            body = b""
            while True:
                chunk = await self.read_chunk()
                if chunk is None:
                    break
                body += chunk
        else:
            body = await self.reader.readexactly(int(headers.get("content-length", "0")))
        return status, json.loads(body) if body else None

    async def read_head(self):
        line = await self.reader.readline()
        if not line:
            raise ConnectionError("closed by the server")
        status = int(line.split()[1])
        headers = {}
        while True:
            line = (await self.reader.readline()).decode().strip()
            if not line:
                return status, headers
            k, _, v = line.partition(":")
            headers[k.strip().lower()] = v.strip().lower()

    async def read_chunk(self):
        size = int((await self.reader.readline()).split(b";")[0], 16)
        if size == 0:
            await self.reader.readline()
            return None
        data = await self.reader.readexactly(size)
        await self.reader.readline()
        return data

    def close(self):
        if self.writer:
            self.writer.close()


class Agent:
    def __init__(self, i, port, token, seen):
        self.name = f"sim-{i}"
        self.source = f"127.1.{i // 250}.{i % 250 + 1}"
        self.underlay = f"198.18.{i // 250}.{i % 250 + 1}"  # RFC 2544: stored, never routed
        self.port, self.token, self.seen = port, token, seen
        self.revision = 0
        self.heartbeats = []
        self.failures = []
        self.watching = asyncio.Event()

    async def run(self, stop):
        try:
            api = Conn(self.port, self.token, self.source)
            await api.open()
            st, _ = await api.request("PUT", f"/v1/nodes/{self.name}", {
                "apiVersion": "godwit/v1", "kind": "Node",
                "metadata": {"name": self.name}, "spec": {"underlay_ip": self.underlay}})
            if st not in (200, 201):
                raise RuntimeError(f"register: HTTP {st}")
            revs = []
            skip = os.environ.get("SIM_SKIP_LIST", "").split(",")
            for kind in ("networks", "ports", "nodes", "vms", "migrations"):
                if kind in skip:
                    continue
                st, body = await api.request("GET", f"/v1/{kind}")
                if st != 200:
                    raise RuntimeError(f"list {kind}: HTTP {st}")
                revs.append(body["revision"])
            self.revision = min(revs)
            watch = asyncio.ensure_future(self.watch(stop))
            beat = asyncio.ensure_future(self.heartbeat(api, stop))
            await asyncio.gather(watch, beat)
        except Exception as e:  # noqa: BLE001 - every failure is a figure
            self.failures.append(f"{self.name}: {e}")
            self.watching.set()

    async def watch(self, stop):
        conn = Conn(self.port, self.token, self.source)
        await conn.open()
        conn.writer.write((f"GET /v1/watch?since={self.revision} HTTP/1.1\r\nHost: godwit\r\n"
                           f"Authorization: Bearer {self.token}\r\n\r\n").encode())
        await conn.writer.drain()
        st, _ = await conn.read_head()
        if st != 200:
            raise RuntimeError(f"watch: HTTP {st}")
        self.watching.set()
        buf = b""
        while not stop.is_set():
            chunk = await conn.read_chunk()
            if chunk is None:
                raise RuntimeError("watch stream ended")
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                if not line.strip():
                    continue
                ev = json.loads(line)
                obj = ev.get("object") or {}
                name = (obj.get("metadata") or {}).get("name", "")
                if ev.get("type") == "ADDED" and name.startswith("bench-"):
                    self.seen.setdefault(name, []).append(now_ms())
        conn.close()

    async def heartbeat(self, api, stop):
        while not stop.is_set():
            t0 = now_ms()
            st, _ = await api.request("PUT", f"/v1/nodes/{self.name}/status",
                                      {"applied_revision": self.revision, "counters": {}})
            if st != 200:
                raise RuntimeError(f"heartbeat: HTTP {st}")
            self.heartbeats.append((t0, now_ms() - t0))
            try:
                await asyncio.wait_for(stop.wait(), HEARTBEAT_S)
            except asyncio.TimeoutError:
                pass


async def main():
    global TLS
    port, token, n, changes, out = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                    int(sys.argv[4]), sys.argv[5])
    TLS = ssl.create_default_context(cafile=sys.argv[6])
    seen, stop = {}, asyncio.Event()
    agents = [Agent(i, port, token, seen) for i in range(n)]
    tasks = []
    t_start = now_ms()
    for a in agents:  # a gentle ramp, as nodes of a cluster join
        tasks.append(asyncio.ensure_future(a.run(stop)))
        await asyncio.sleep(0.002)
    await asyncio.gather(*(a.watching.wait() for a in agents))
    t_joined = now_ms()
    print(f"  agents: {n} registered, listed and watching in "
          f"{(now_ms() - t_start) / 1000:.1f} s", file=sys.stderr)
    await asyncio.sleep(2 * HEARTBEAT_S)
    driver = Conn(port, token, "127.0.0.1")
    await driver.open()
    st, nodes = await driver.request("GET", "/v1/nodes")
    ready_before = sum(1 for x in nodes["items"] if (x.get("status") or {}).get("ready"))
    propagation, incomplete, made = [], 0, {}
    for k in range(changes):
        name = f"bench-{k}"
        made[name] = now_ms()
        st, _ = await driver.request("POST", "/v1/ports", {
            "apiVersion": "godwit/v1", "kind": "Port", "metadata": {"name": name},
            "spec": {"network": "default", "locations": ["sim-0"]}})
        if st != 201:
            raise SystemExit(f"create port {name}: HTTP {st}")
        deadline = now_ms() + 5000
        while len(seen.get(name, [])) < n - len([a for a in agents if a.failures]) and \
                now_ms() < deadline:
            await asyncio.sleep(0.005)
        times = seen.get(name, [])
        incomplete += n - len(times)
        propagation += [t - made[name] for t in times]
        await asyncio.sleep(0.5)
    st, nodes = await driver.request("GET", "/v1/nodes")
    ready_after = sum(1 for x in nodes["items"] if (x.get("status") or {}).get("ready"))
    stop.set()
    for t in tasks:
        t.cancel()
    beats = [rtt for a in agents for t, rtt in a.heartbeats if t >= t_joined]
    joining = [rtt for a in agents for t, rtt in a.heartbeats if t < t_joined]
    failures = [f for a in agents for f in a.failures]
    result = {"agents": n, "changes": changes, "ready_before": ready_before,
              "ready_after": ready_after, "propagation_ms": dist(propagation),
              "deliveries_missing": incomplete, "heartbeat_rtt_ms": dist(beats),
              "heartbeat_rtt_while_joining_ms": dist(joining),
              "join_s": round((t_joined - t_start) / 1000, 1),
              "failures": len(failures), "failure_examples": failures[:5]}
    json.dump(result, open(out, "w"), indent=1)
    print(f"  result: {json.dumps(result)}", file=sys.stderr)


if __name__ == "__main__":
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    asyncio.run(main())
