# Percentiles of the benchmarks (jq module: `jq -L bench 'include "stats"; ...'`).
# pct: nearest rank below ((n - 1) * q); r3: rounded to 3 decimals (µs of a ms figure).
def pct($xs; $q): ($xs | sort) as $s | if ($s | length) == 0 then null
  else $s[((($s | length) - 1) * $q) | floor] end;
def r3: if . == null then null else (. * 1000 | round) / 1000 end;
def dist($xs): {p50: (pct($xs; 0.5) | r3), p99: (pct($xs; 0.99) | r3), max: ($xs | max | r3)};

# The figures a client sees around a guest's pause from $s to $r (unix ms):
# the windows start 200 ms before the stop and end 500 ms after the resume, so
# that a pause's windows never overlap the next one's (a second apart).
# $replies: sorted reply times (ms); $stalls: the probe's TCP stalls.
def reply_gap($replies; $s; $r): [$replies[] | select(. >= $s - 200 and . <= $r + 500)] as $x
  | [range(1; $x | length) | $x[.] - $x[. - 1]] | max // null;
def tcp_stall($stalls; $s; $r):
  [$stalls[] | select(.start_unix_ms >= $s - 200 and .start_unix_ms <= $r + 500) | .length_ms] | max // 0;
def lost_around($windows; $s; $r):
  [$windows[] | select(.end_unix_ms >= $s - 20 and .start_unix_ms <= $r + 1000) | .lost] | add // 0;
# How long after the resume at $r the first reply came (ms; null if none within 2 s).
def first_reply($replies; $r): [$replies[] | select(. >= $r and . <= $r + 2000)] | min // null
  | if . == null then null else . - $r end;
