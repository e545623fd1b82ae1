# Shared by compare.sh and fixed.sh; sourced, not run, from the repository
# root. Expects CONNS; makes TMP (a scratch folder, removed on exit, with the
# sink stopped) and sets SINK_PID and ADDR.

TMP="$(mktemp -d)"

PIN_T="" ; PIN_G=""
if command -v taskset >/dev/null && [ "$(nproc)" -ge 2 ]; then PIN_T="taskset -c 0"; PIN_G="taskset -c 1"; fi
SINK_PID=""

build_tools() {
  echo "building the target and spike…" >&2
  go build -o "$TMP/sink" ./examples/bench/sink
  go build -o "$TMP/spike" ./cmd/spike
}

start_sink() { # $1: sleep per request
  stop_sink
  $PIN_T "$TMP/sink" -addr 127.0.0.1:0 -sleep "$1" >"$TMP/sink.out" 2>&1 &
  SINK_PID=$!
  for _ in $(seq 50); do [ -s "$TMP/sink.out" ] && break; sleep 0.1; done
  ADDR="$(head -1 "$TMP/sink.out" | grep -oE '127\.0\.0\.1:[0-9]+')"
}

# stop_sink stops the sink and waits for it; a sink that slept has printed
# its own waits as the last line of $TMP/sink.out.
stop_sink() {
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; wait "$SINK_PID" 2>/dev/null || true; fi
  SINK_PID=""
}

# sink_waits: the median and p99 wait a stopped sink reported.
sink_waits() { tail -1 "$TMP/sink.out" | grep -oE 'p50 [0-9.]+ms p99 [0-9.]+ms' || echo "not reported"; }

# measure NAME CMD…: runs CMD pinned to the generator core, keeps its output
# in $TMP/NAME.out and its peak RSS (kB) in $TMP/NAME.rss.
measure() {
  local name="$1"; shift
  /usr/bin/time -f "%M" -o "$TMP/$name.rss" $PIN_G "$@" >"$TMP/$name.out" 2>&1 || true
}

spike_scenario() { # $1 rate, $2 seconds, $3 file
  cat >"$3" <<YAML
name: bench
baseline: 1
stages: [{hold: {rate: $1, duration: ${2}s}}]
requests: [{url: /}]
options: {connections: $CONNS, timeout: 5s}
YAML
}

cleanup() { stop_sink; rm -rf "$TMP"; }
trap cleanup EXIT
