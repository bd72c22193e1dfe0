# Percentiles of the benchmarks (jq module: `jq -L bench 'include "stats"; ...'`).
# pct: nearest rank below ((n - 1) * q); r3: rounded to 3 decimals (µs of a ms figure).
def pct($xs; $q): ($xs | sort) as $s | if ($s | length) == 0 then null
  else $s[((($s | length) - 1) * $q) | floor] end;
def r3: if . == null then null else (. * 1000 | round) / 1000 end;
def dist($xs): {p50: (pct($xs; 0.5) | r3), p99: (pct($xs; 0.99) | r3), max: ($xs | max | r3)};
