#!/usr/bin/env bash
# Load benchmark of `palisade admission serve` with 20 policies, side by side with its no-policy
# floor (the same server, answering allow with nothing loaded).
#
# Usage:  bench/admission/run.sh
# Environment:
#   RATE=1000             open-loop target rate (requests/s) for the latency run
#   DURATION=10           measured seconds per run
#   WARMUP=2              unmeasured seconds before each run
#   OPEN_CONNECTIONS=16   keep-alive connections in the open-loop run
#   MAX_CONNECTIONS=32    keep-alive connections in the closed-loop (max throughput) run
#   LOADGEN_THREADS=1     tokio worker threads of the load generator
#   PORT=18443            first port; the floor server uses PORT+1
#   CARGO_TARGET_DIR      honoured by both release builds
#   PALISADE=PATH         use this palisade binary and skip its build
#   LOADGEN=PATH          use this load generator binary and skip its build
#   PROFILE=1             also `perf record --call-graph dwarf` the policy server during its max-throughput run
#                         (report written to $PERF_OUT, default /tmp/palisade-admission.perf.txt)
#
# The load generator (bench/admission/loadgen) runs on the same 2 cores as the server, over TLS on
# loopback; by default it takes one thread so the server keeps most of the machine. Latency in the
# open-loop run is measured from each request's scheduled time, so queueing shows up in p99.
#
# Targets (issue 3, "Speed"), reported, not enforced: p99 < 5 ms at 1,000 req/s, >= 5,000 req/s
# sustained, throughput >= half of the no-policy floor, peak RSS < 100 MB.
#
# Exit status: 0 when every run completed (whatever the verdicts), 3 when a prerequisite is
# missing, 4 when a server or the load generator failed.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
rate="${RATE:-1000}"
duration="${DURATION:-10}"
warmup="${WARMUP:-2}"
open_connections="${OPEN_CONNECTIONS:-16}"
max_connections="${MAX_CONNECTIONS:-32}"
loadgen_threads="${LOADGEN_THREADS:-1}"
port="${PORT:-18443}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"

die() {
    local status="$1"
    shift
    echo "run.sh: $*" >&2
    exit "$status"
}

for tool in openssl awk; do
    command -v "$tool" >/dev/null || die 3 "\`$tool\` is required (Debian: apt-get install $tool)"
done
if [[ "${PROFILE:-0}" == 1 ]] && ! command -v perf >/dev/null; then
    die 3 "PROFILE=1 needs perf (Debian: apt-get install linux-perf)"
fi

if [[ -n "${PALISADE:-}" ]]; then
    palisade="$PALISADE"
else
    command -v cargo >/dev/null || die 3 "cargo is required to build palisade (or set PALISADE=path)"
    echo "building palisade (release)..." >&2
    (cd "$root" && cargo build --release -p palisade --quiet) || die 4 "palisade build failed"
    palisade="$target_dir/release/palisade"
fi
if [[ -n "${LOADGEN:-}" ]]; then
    loadgen="$LOADGEN"
else
    command -v cargo >/dev/null || die 3 "cargo is required to build the load generator (or set LOADGEN=path)"
    echo "building the load generator (release)..." >&2
    (cd "$here/loadgen" && CARGO_TARGET_DIR="$target_dir" cargo build --release --quiet) \
        || die 4 "load generator build failed"
    loadgen="$target_dir/release/palisade-admission-loadgen"
fi
[[ -x "$palisade" ]] || die 3 "no palisade binary at $palisade"
[[ -x "$loadgen" ]] || die 3 "no load generator binary at $loadgen"

work="$(mktemp -d -t palisade-admbench.XXXXXX)"
server_pid=""
cleanup() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    rm -rf "$work"
}
trap cleanup EXIT

# A throwaway CA and a serving certificate for 127.0.0.1, as the kube-apiserver would trust them
# through the webhook's caBundle.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=palisade-bench-ca" -keyout "$work/ca.key" -out "$work/ca.pem" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=palisade-admission.bench.svc" -keyout "$work/tls.key" -out "$work/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:palisade-admission.bench.svc\nextendedKeyUsage=serverAuth\n' \
    >"$work/ext.cnf"
openssl x509 -req -in "$work/tls.csr" -CA "$work/ca.pem" -CAkey "$work/ca.key" -CAcreateserial \
    -days 2 -extfile "$work/ext.cnf" -out "$work/tls.crt" 2>/dev/null

# The 20 policies: 7 built-in checks as admission rules (config), 7 Gatekeeper constraints (Rego),
# 6 ValidatingAdmissionPolicies with bindings (CEL). The floor gets an empty policy directory.
mkdir -p "$work/policies" "$work/none"
cp "$here/policies/"*.yaml "$work/policies/"
cp "$here/admission-config.yaml" "$work/config.yaml"
printf '{}\n' >"$work/empty-config.yaml"

# Sanity check of what is benchmarked: the policy set must load and judge the review.
"$palisade" checks list >/dev/null 2>&1 || die 4 "\`$palisade checks list\` failed"

# field JSON KEY: a number from the load generator's one-line JSON result.
field() {
    sed -n "s/.*\"$2\":\\([^,}]*\\).*/\\1/p" <<<"$1"
}

# start_server NAME PORT ARGS...: starts the server, waits until /healthz answers over TLS.
start_server() {
    local name="$1" listen_port="$2"
    shift 2
    "$palisade" admission serve --listen "127.0.0.1:$listen_port" \
        --tls-cert "$work/tls.crt" --tls-key "$work/tls.key" \
        --decision-log "$work/$name.decisions.jsonl" "$@" \
        >"$work/$name.out" 2>"$work/$name.err" &
    server_pid=$!
    local tries=0
    until curl -sf --cacert "$work/ca.pem" "https://127.0.0.1:$listen_port/healthz" >/dev/null 2>&1; do
        tries=$((tries + 1))
        if ! kill -0 "$server_pid" 2>/dev/null || ((tries > 200)); then
            echo "--- $name server stderr:" >&2
            tail -n 20 "$work/$name.err" >&2 || true
            die 4 "the $name server did not come up on port $listen_port"
        fi
        sleep 0.05
    done
}

stop_server() {
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
}

# rss_peak_mb: the running server's peak resident set (VmHWM), in MB.
rss_peak_mb() {
    awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$server_pid/status"
}

load() {
    local label="$1" listen_port="$2" target_rate="$3" connections="$4"
    "$loadgen" --url "https://127.0.0.1:$listen_port/validate" --ca "$work/ca.pem" \
        --connections "$connections" --rate "$target_rate" --duration "$duration" \
        --warmup "$warmup" --threads "$loadgen_threads" --label "$label" --json \
        || die 4 "the load generator failed against $label"
}

# bench NAME PORT ARGS...: both runs against one server; sets R_<NAME>_* results.
bench() {
    local name="$1" listen_port="$2"
    shift 2
    start_server "$name" "$listen_port" "$@"
    local idle_rss
    idle_rss="$(rss_peak_mb)"
    local out_open out_max
    out_open="$(load "$name @ $rate req/s" "$listen_port" "$rate" "$open_connections")"
    echo "$out_open" | grep -v '^{' >&2
    local perf_pid=""
    if [[ "${PROFILE:-0}" == 1 && "$name" == policies ]]; then
        perf record --call-graph dwarf -F 250 -o "$work/perf.data" -p "$server_pid" -- sleep "$((warmup + duration))" \
            >/dev/null 2>&1 &
        perf_pid=$!
    fi
    out_max="$(load "$name @ max" "$listen_port" 0 "$max_connections")"
    echo "$out_max" | grep -v '^{' >&2
    if [[ -n "$perf_pid" ]]; then
        wait "$perf_pid" || true
        {
            echo "# self time"
            perf report -i "$work/perf.data" --no-children --percent-limit 1 --stdio -g none
            echo "# inclusive time"
            perf report -i "$work/perf.data" --children --percent-limit 2 --stdio -g none
        } >"${PERF_OUT:-/tmp/palisade-admission.perf.txt}" 2>/dev/null || true
        echo "perf report: ${PERF_OUT:-/tmp/palisade-admission.perf.txt}" >&2
    fi
    local json_open json_max
    json_open="$(grep '^{' <<<"$out_open")"
    json_max="$(grep '^{' <<<"$out_max")"
    local rss
    rss="$(rss_peak_mb)"
    stop_server
    printf -v "R_${name}_idle_rss" '%s' "$idle_rss"
    printf -v "R_${name}_rss" '%s' "$rss"
    for key in rate p50_ms p90_ms p99_ms max_ms errors denied warned; do
        printf -v "R_${name}_open_$key" '%s' "$(field "$json_open" "$key")"
        printf -v "R_${name}_max_$key" '%s' "$(field "$json_max" "$key")"
    done
}

echo "palisade: $palisade ($("$palisade" --version 2>/dev/null || echo unknown version))" >&2
echo "machine: $(nproc) cores, $(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)" >&2
bench policies "$port" --config "$work/config.yaml" --policies "$work/policies"
bench floor "$((port + 1))" --config "$work/empty-config.yaml" --policies "$work/none"

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0) print "n/a"; else printf "%.2f", a / b }'; }
row() { printf '| %-34s | %14s | %14s | %7s |\n' "$1" "$2" "$3" "$4"; }

echo
echo "AdmissionReview: Deployment CREATE (bench/admission/loadgen/deployment-review.json)"
row "measure" "20 policies" "no policies" "ratio"
row "----------------------------------" "--------------" "--------------" "-------"
for key in rate p50_ms p90_ms p99_ms max_ms errors; do
    a="R_policies_open_$key"
    b="R_floor_open_$key"
    row "$rate req/s open loop: $key" "${!a}" "${!b}" "$(ratio "${!a}" "${!b}")"
done
for key in rate p50_ms p99_ms errors; do
    a="R_policies_max_$key"
    b="R_floor_max_$key"
    row "max ($max_connections conns): $key" "${!a}" "${!b}" "$(ratio "${!a}" "${!b}")"
done
row "answers denied / warned (max run)" "$R_policies_max_denied / $R_policies_max_warned" \
    "$R_floor_max_denied / $R_floor_max_warned" ""
row "RSS after start (MB)" "$R_policies_idle_rss" "$R_floor_idle_rss" \
    "$(ratio "$R_policies_idle_rss" "$R_floor_idle_rss")"
row "peak RSS, VmHWM (MB)" "$R_policies_rss" "$R_floor_rss" "$(ratio "$R_policies_rss" "$R_floor_rss")"

verdict() {
    if awk "BEGIN { exit !($2) }"; then echo "PASS  $1"; else echo "MISS  $1"; fi
}
echo
verdict "p99 < 5 ms at $rate req/s with 20 policies (p99 $R_policies_open_p99_ms ms, achieved $R_policies_open_rate req/s)" \
    "$R_policies_open_p99_ms + 0 < 5 && $R_policies_open_rate + 0 >= 0.98 * $rate && $R_policies_open_errors + 0 == 0"
verdict ">= 5,000 req/s sustained with 20 policies ($R_policies_max_rate req/s)" \
    "$R_policies_max_rate + 0 >= 5000 && $R_policies_max_errors + 0 == 0"
verdict "throughput >= half the no-policy floor ($R_policies_max_rate / $R_floor_max_rate = $(ratio "$R_policies_max_rate" "$R_floor_max_rate"))" \
    "$R_policies_max_rate + 0 >= 0.5 * $R_floor_max_rate"
verdict "peak RSS < 100 MB with 20 policies ($R_policies_rss MB)" "$R_policies_rss + 0 < 100"
