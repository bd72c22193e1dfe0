#!/usr/bin/env python3
"""Writes N finished Migrations into a stopped godwitd's store (bench only).

  seed_finished.py STATE_DIR N PER_PORT
Migrations done-00000.. on ports seed-0.. (PER_PORT each), phase Succeeded,
with the phases, figures and size of a real one. Written straight into
godwit.db's objects table in one transaction, at the store's current
revision and without events (as if made and compacted long ago): through the
API, 20,000 migrations would take each its create, reports and commits.
The store must have been created by godwitd (schema, cluster) and be stopped.
"""
import json
import sqlite3
import sys


def migration(i, per_port, rev, t0):
    ms = t0 + i * 1000
    phases = [{"name": n, "unix_ms": ms + k * 40} for k, n in enumerate(
        ("Pending", "TargetReady", "Replicating", "Switched", "Succeeded"))]
    return {
        "apiVersion": "godwit/v1", "kind": "Migration",
        "metadata": {"name": f"done-{i:05d}", "revision": rev, "created": rev},
        "spec": {"port": f"seed-{i // per_port}", "target": "sim-1", "timeout_s": 120,
                 "strategy": "first-frame"},
        "status": {"source": "sim-0", "phases": phases,
                   "figures": {"replicate_ms": 41.0, "switch_ms": 38.5, "blackout_ms": 12.3,
                               "first_frame_ms": 0.8, "applied_revision": rev},
                   "requested": {}, "phase": "Succeeded", "replicate_revision": rev},
    }


def main():
    state, n, per_port = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    db = sqlite3.connect(f"{state}/godwit.db")
    rev = db.execute("SELECT value FROM meta WHERE key = 'revision'").fetchone()[0]
    t0 = 1796000000000
    with db:
        db.executemany("INSERT OR REPLACE INTO objects(kind, name, body) VALUES (?, ?, ?)",
                       (("Migration", f"done-{i:05d}",
                         json.dumps(migration(i, per_port, rev, t0), separators=(",", ":")))
                        for i in range(n)))
    db.close()
    print(f"  seeded {n} finished migrations ({per_port} per port) at revision {rev}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
