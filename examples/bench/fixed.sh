#!/usr/bin/env bash
# Holds fixed rates against the minimal loopback target (examples/bench/sink)
# several times and says whether spike kept up in each run: every planned
# request sent, every 1-s window within 1% of its plan, no window flagged
# generator-bound, no errors. Prints one line per run (sent, worst window,
# generator-bound windows, lag p99, latency p50/p99, peak RSS) and a tally.
# The target is pinned to CPU 0 and spike to CPU 1 (taskset).
#
#   examples/bench/fixed.sh [SECONDS] [RUNS] [RATE…]   # default 10 s, 10 runs, 5000 10000
#   examples/bench/fixed.sh 600 1 5000                 # memory over a long run
#
# Everything stops by itself: each run lasts SECONDS plus a few.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR="${1:-10}"; RUNS="${2:-10}"; shift $(( $# > 2 ? 2 : $# )) || true
RATES=("$@"); [ ${#RATES[@]} -gt 0 ] || RATES=(5000 10000)
CONNS=64
. examples/bench/lib.sh
build_tools
start_sink 0

printf "%-6s %4s %10s %16s %6s %9s %9s %9s %9s %s\n" rate run sent "worst window" bound "lag p99" p50 p99 RSS held
for rate in "${RATES[@]}"; do
  spike_scenario "$rate" "$DUR" "$TMP/fixed.yaml"
  held=0
  for run in $(seq "$RUNS"); do
    rm -rf "$TMP/out"
    measure fixed "$TMP/spike" run "$TMP/fixed.yaml" --target "http://$ADDR" --out "$TMP/out"
    line="$(python3 - "$TMP/out/result.json" "$(tail -1 "$TMP/fixed.rss")" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
ws = r["windows"]
sent = sum(w["sent"] for w in ws); planned = r["plan"]["total_requests"]
worst = max(abs(w["sent"] - w["planned"]) / max(w["planned"], 1) for w in ws)
bound = sum(1 for w in ws if w.get("generator_bound"))
errors = sum(w.get("errors", 0) for w in ws)
lag = max(w["lag"]["p99_ms"] for w in ws)
lat = r["requests"][0]["latency"]
held = sent == planned and worst <= 0.01 and bound == 0 and errors == 0
print("%10s %15.2f%% %6d %7.2fms %7.2fms %7.2fms %6.0fMB %s" % (
    "%d/%d" % (sent, planned), 100 * worst, bound, lag, lat["p50_ms"], lat["p99_ms"],
    int(sys.argv[2]) / 1024, "yes" if held else "NO"))
PY
)"
    printf "%-6s %4s %s\n" "$rate" "$run" "$line"
    [[ "$line" == *yes ]] && held=$((held + 1))
  done
  echo "$rate req/s held in $held of $RUNS runs"
done
