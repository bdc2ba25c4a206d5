#!/usr/bin/env bash
# The floor under bench/sensor.sh's open-read figure: how much of the sensor's added wall time on
# an open storm is the kernel's cost of running *any* eBPF program on sys_exit_openat, rather
# than what the sensor's program does there.
#
# Builds a second palisade whose open program returns at once (PALISADE_BPF_DEFINES=
# -DPALISADE_BENCH_EMPTY_OPEN; everything else, every other tracepoint included, as shipped), then
# runs the open-read storm RUNS times each, interleaved: without a sensor, with the real sensor,
# with the empty-open sensor. Medians and added wall time. Needs root. No peer figure: it measures
# the kernel, not a tool.
#
# Environment: RUNS (9), OPS (200000), OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS="${RUNS:-9}"
OPS="${OPS:-200000}"
OUT="${OUT:-$(mktemp -d /tmp/palisade-sensor-floor.XXXXXX)}"
die() { echo "sensor-floor.sh: $*" >&2; exit 2; }
[ "$(id -u)" = 0 ] || die "the sensor loads eBPF programs: run as root"
TARGET="${CARGO_TARGET_DIR:-target}"

# The empty-open build first (the same target directory: only palisade-sensor and what links it
# are rebuilt), then the real one, which leaves the tree's binary as shipped.
PALISADE_BPF_DEFINES=-DPALISADE_BENCH_EMPTY_OPEN cargo build --release -q -p palisade
cp "$TARGET/release/palisade" "$OUT/palisade-empty-open"
cargo build --release -q -p palisade
cargo build --release -q -p palisade-sensor --example storm
REAL="$TARGET/release/palisade" EMPTY="$OUT/palisade-empty-open" STORM="$TARGET/release/examples/storm"

SENSOR_PID=""
cleanup() { if [ -n "$SENSOR_PID" ]; then kill -TERM "$SENSOR_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT

storm_seconds() { "$STORM" open-read "$OPS" 2>/dev/null | sed -E 's/.*seconds=([0-9.]+).*/\1/'; }
# with BINARY: the storm's seconds with that sensor attached.
with() {
    "$1" sensor run -o /dev/null --state-dir "$OUT/state" --duration 600 2>"$OUT/sensor.err" &
    SENSOR_PID=$!
    for _ in $(seq 1 600); do
        grep -q "palisade sensor running on node" "$OUT/sensor.err" && break
        kill -0 "$SENSOR_PID" 2>/dev/null || { cat "$OUT/sensor.err" >&2; die "the sensor exited"; }
        sleep 0.1
    done
    storm_seconds
    kill -TERM "$SENSOR_PID"; wait "$SENSOR_PID" || true; SENSOR_PID=""
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), kernel $(uname -r)"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
"$STORM" open-read $((OPS / 10)) >/dev/null 2>&1
NONE="" REALS="" EMPTIES=""
for rep in $(seq 1 "$RUNS"); do
    NONE+="$(storm_seconds) "
    if ((rep % 2)); then REALS+="$(with "$REAL") "; EMPTIES+="$(with "$EMPTY") "
    else EMPTIES+="$(with "$EMPTY") "; REALS+="$(with "$REAL") "; fi
done
echo "$NONE | $REALS | $EMPTIES" > "$OUT/runs.txt"
python3 - "$OPS" "$NONE" "$REALS" "$EMPTIES" <<'PY'
import statistics, sys
ops = int(sys.argv[1])
none, real, empty = ([float(x) for x in a.split()] for a in sys.argv[2:5])
base = statistics.median(none)
print(f"| open-read storm, {ops:,} ops | median wall | added | per operation |")
print("| --- | ---: | ---: | ---: |")
print(f"| no sensor | {base:.3f} s | | {base / ops * 1e9:.0f} ns |")
for label, runs in (("sensor as shipped", real), ("sensor, open program empty (the floor)", empty)):
    m = statistics.median(runs)
    print(f"| {label} | {m:.3f} s | {(m - base) / base * 100:+.1f}% | +{(m - base) / ops * 1e9:.0f} ns |")
PY
echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
