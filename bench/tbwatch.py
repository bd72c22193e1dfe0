#!/usr/bin/env python3
"""Counts the code TCG translates in a guest's first moments after a resume.

   bench/tbwatch.py QMP_WATCH_SOCK SECONDS OUT.json [PAUSE_MS]

Polls HMP `info jit` (TCG's translation-block count) every 5 ms for SECONDS
and records QEMU's RESUME event. With PAUSE_MS the guest is first paused in
place (QMP stop, cont PAUSE_MS later) on this QEMU; without it the socket is
the incoming QEMU of a migration started by the caller. Writes
{"resume_unix_ns", "samples": [[unix_ns, tb_count], ...]}: a migrated guest
restarts with an empty translation cache, so the count climbs after RESUME
while the guest's first replies are late; a guest paused in place keeps its
translated code. Exits 2 on any QMP failure.
"""
import json
import re
import sys
import time

from ramcheck import Monitor, stamp_ns

TB_COUNT = re.compile(r"TB count\s+(\d+)")



def tb_count(mon):
    text = mon.execute("human-monitor-command", {"command-line": "info jit"})
    m = TB_COUNT.search(text if isinstance(text, str) else "")
    if not m:
        raise RuntimeError("info jit: no TB count (not a TCG guest?)")
    return int(m.group(1))


def main():
    if len(sys.argv) not in (4, 5):
        print(__doc__, file=sys.stderr)
        return 2
    sock, seconds, out = sys.argv[1], float(sys.argv[2]), sys.argv[3]
    samples = []
    resume = None
    try:
        mon = Monitor(sock, time.monotonic() + 120)
        if len(sys.argv) == 5:
            samples.append([time.time_ns(), tb_count(mon)])
            mon.execute("stop")
            time.sleep(float(sys.argv[4]) / 1000)
            mon.execute("cont")
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            samples.append([time.time_ns(), tb_count(mon)])
            if resume is None:
                ev = [e for e in mon.events if e.get("event") == "RESUME"]
                resume = stamp_ns(ev[0]) if ev else None
            time.sleep(0.005)
    except (RuntimeError, OSError, ValueError, KeyError) as e:
        print(f"tbwatch: {e}", file=sys.stderr)
        return 2
    with open(out, "w") as f:
        json.dump({"resume_unix_ns": resume, "samples": samples}, f)
    return 0


if __name__ == "__main__":
    sys.exit(main())
