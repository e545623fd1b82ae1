#!/usr/bin/env bash
# Measures spike's generator side by side with wrk and vegeta's CLI on this
# machine, loopback only:
#   1. ceiling: each generator as fast as it can with 64 connections against
#      a minimal keep-alive target (examples/bench/sink);
#   2. latency overhead: 1,000 req/s against the same target answering after
#      10 ms, spike against vegeta. The target measures its own waits and
#      their median is printed next to each generator's: on a virtual
#      machine an idle CPU wakes late, so a "10 ms" wait takes a little more.
# The target is pinned to CPU 0 and each generator to CPU 1 (taskset).
#
#   examples/bench/compare.sh [SECONDS]     # default 10 s per measurement
#
# Missing tools are installed (wrk from Debian, vegeta with go install) or
# skipped with a message. Everything stops by itself.
set -euo pipefail
cd "$(dirname "$0")/../.."
DUR="${1:-10}"
CONNS=64
. examples/bench/lib.sh
build_tools

export PATH="$PATH:$(go env GOPATH)/bin"
if ! command -v wrk >/dev/null; then
  (apt-get install -y -qq wrk >/dev/null 2>&1 || (apt-get update -qq && apt-get install -y -qq wrk >/dev/null 2>&1)) || echo "wrk not available: skipped" >&2
fi
if ! command -v vegeta >/dev/null; then
  go install github.com/tsenart/vegeta/v12@v12.13.0 >/dev/null 2>&1 || echo "vegeta not available: skipped" >&2
fi

ms() { awk -v v="$1" 'BEGIN { printf "%.2f", v }'; }

# spike_figures DIR: prints "req/s p50ms p99ms" from a result.json (sent per
# second over the windows; latency measured from the intended send time).
spike_figures() {
  python3 - "$1/result.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
sent = sum(w["sent"] for w in r["windows"])
span = r["windows"][-1]["end_ms"] / 1e3
lat = r["requests"][0]["latency"]
print("%.0f %.2f %.2f" % (sent / span, lat["p50_ms"], lat["p99_ms"]))
PY
}

printf "\n== 1. ceiling: %s s each, %d connections, target on CPU 0, generator on CPU 1\n" "$DUR" "$CONNS"
start_sink 0
declare -A RPS P50 P99 RSS
if command -v wrk >/dev/null; then
  measure wrk wrk -t1 -c"$CONNS" -d"${DUR}s" --latency "http://$ADDR/"
  RPS[wrk]="$(awk '/Requests\/sec/ {printf "%.0f", $2}' "$TMP/wrk.out")"
  P50[wrk]="$(awk '$1=="50%" {print $2}' "$TMP/wrk.out")"; P99[wrk]="$(awk '$1=="99%" {print $2}' "$TMP/wrk.out")"
  RSS[wrk]="$(tail -1 "$TMP/wrk.rss")"
fi
if command -v vegeta >/dev/null; then
  echo "GET http://$ADDR/" >"$TMP/targets"
  measure vegeta sh -c "vegeta attack -rate=0 -max-workers=$CONNS -duration=${DUR}s -targets=$TMP/targets | vegeta report"
  RPS[vegeta]="$(grep '^Requests' "$TMP/vegeta.out" | awk '{print $(NF-1)}' | tr -d ',' | xargs printf "%.0f")"
  P50[vegeta]="$(grep '^Latencies' "$TMP/vegeta.out" | awk '{print $(NF-4)}' | tr -d ',')"
  P99[vegeta]="$(grep '^Latencies' "$TMP/vegeta.out" | awk '{print $(NF-1)}' | tr -d ',')"
  RSS[vegeta]="$(tail -1 "$TMP/vegeta.rss")"
fi
spike_scenario 1000000 "$DUR" "$TMP/max.yaml"
measure spike "$TMP/spike" run "$TMP/max.yaml" --target "http://$ADDR" --out "$TMP/spike-max"
read -r r p50 p99 < <(spike_figures "$TMP/spike-max")
RPS[spike]="$r"; P50[spike]="${p50}ms*"; P99[spike]="${p99}ms*"; RSS[spike]="$(tail -1 "$TMP/spike.rss")"

printf "%-8s %10s %12s %12s %12s\n" generator "req/s" p50 p99 "peak RSS"
for g in wrk vegeta spike; do
  [ -n "${RPS[$g]:-}" ] || continue
  printf "%-8s %10s %12s %12s %9s MB\n" "$g" "${RPS[$g]}" "${P50[$g]}" "${P99[$g]}" "$(( ${RSS[$g]:-0} / 1024 ))"
done
[ -n "${RPS[wrk]:-}" ] && awk -v s="${RPS[spike]}" -v w="${RPS[wrk]}" 'BEGIN { printf "spike/wrk    %.2f\n", s / w }'
[ -n "${RPS[vegeta]:-}" ] && awk -v s="${RPS[spike]}" -v v="${RPS[vegeta]}" 'BEGIN { printf "spike/vegeta %.2f\n", s / v }'
echo "* spike measures latency from each request's intended send time; at its ceiling the plan is"
echo "  never met, so its latency there is queueing in the generator, not the target's."

printf "\n== 2. latency overhead: 1000 req/s, target answers after 10 ms\n"
if command -v vegeta >/dev/null; then
  start_sink 10ms
  echo "GET http://$ADDR/" >"$TMP/targets"
  measure vegeta10 sh -c "vegeta attack -rate=1000 -duration=${DUR}s -targets=$TMP/targets | vegeta report"
  stop_sink
  printf "%-8s p50 %s  p99 %s  (the target's own wait: %s)\n" vegeta \
    "$(grep '^Latencies' "$TMP/vegeta10.out" | awk '{print $(NF-4)}' | tr -d ',')" \
    "$(grep '^Latencies' "$TMP/vegeta10.out" | awk '{print $(NF-1)}' | tr -d ',')" "$(sink_waits)"
fi
start_sink 10ms
spike_scenario 1000 "$DUR" "$TMP/k.yaml"
measure spike10 "$TMP/spike" run "$TMP/k.yaml" --target "http://$ADDR" --out "$TMP/spike-10"
read -r r p50 p99 < <(spike_figures "$TMP/spike-10")
stop_sink
printf "%-8s p50 %sms  p99 %sms  (sent %s req/s; the target's own wait: %s)\n" spike "$p50" "$p99" "$r" "$(sink_waits)"
