#!/usr/bin/env python3
"""Pauses a running guest in place, the control of the VM migration bench.

   bench/pause.py QMP_WATCH_SOCK COUNT PAUSE_MS INTERVAL_S OUT.json

COUNT times: QMP stop, PAUSE_MS later cont, then INTERVAL_S of rest. The guest
is paused as long as a migration's blackout but stays on the same QEMU (its
translated code, its caches), so the reply gap and the TCP stall around a
pause are what the guest itself needs to recover from a pause of that length.
Writes a JSON list of {"stop_unix_ns", "resume_unix_ns"} from QEMU's own
STOP/RESUME event timestamps; exits 2 when the guest could not be paused.
"""
import json
import sys
import time

from ramcheck import Monitor, stamp_ns



def main():
    if len(sys.argv) != 6:
        print(__doc__, file=sys.stderr)
        return 2
    sock, count, pause_ms, interval, out = sys.argv[1:6]
    pauses = []
    try:
        mon = Monitor(sock, time.monotonic() + 30)
        for _ in range(int(count)):
            mon.events.clear()
            mon.execute("stop")
            time.sleep(float(pause_ms) / 1000)
            mon.execute("cont")
            deadline = time.monotonic() + 10
            stop = mon.wait_event("STOP", None, deadline)
            resume = mon.wait_event("RESUME", None, deadline)
            pauses.append({"stop_unix_ns": stamp_ns(stop), "resume_unix_ns": stamp_ns(resume)})
            time.sleep(float(interval))
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print(f"pause: {e}", file=sys.stderr)
        return 2
    with open(out, "w") as f:
        json.dump(pauses, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
