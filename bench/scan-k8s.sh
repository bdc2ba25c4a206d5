#!/usr/bin/env bash
# Side-by-side benchmark of `palisade scan k8s` and Checkov (`--framework kubernetes`) on the same
# generated corpus of mixed Kubernetes objects (bench/gen-corpus.py, 10,000 objects by default).
#
# Usage:  bench/scan-k8s.sh [CORPUS_DIR]
#   CORPUS_DIR        scan this directory instead of generating a corpus into a temporary one
# Environment:
#   OBJECTS=10000     size of the generated corpus
#   RUNS=5            timed palisade runs (best and median are reported; Checkov runs once)
#   CARGO_TARGET_DIR  honoured by the release build; the binary is $CARGO_TARGET_DIR/release/palisade
#   PALISADE=PATH     use this binary and skip the build
#   CHECKOV=PATH      use this checkov executable
#   SKIP_CHECKOV=1    palisade only (the ratio is then not computed)
#
# Checkov: the script uses bench/.venv/bin/checkov when it exists, else `checkov` on PATH. The venv
# is how it was installed for docs/benchmarks.md (bench/.gitignore keeps it out of git):
#     python3 -m venv bench/.venv && bench/.venv/bin/pip install checkov
# A system-wide `pip install checkov` works as well.
#
# Checkov is run with --skip-download in addition to the flags of the issue: without it, Checkov
# first tries to fetch guideline metadata from the Prisma Cloud API, which measures the network,
# not the scan. Skipping it can only make Checkov faster, so the ratio is conservative.
#
# Wall time and peak RSS come from GNU time (`/usr/bin/time -f '%e %M'`, Debian package `time`).
# For Checkov, which forks worker processes, %M is the peak RSS of the largest single process
# (getrusage semantics), not the sum over workers, so its memory figure is a lower bound.
#
# Exit status: 0 when both tools ran (targets are reported, not enforced), 3 when a prerequisite is
# missing, 4 when a tool failed.

set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
objects="${OBJECTS:-10000}"
runs="${RUNS:-5}"

die() {
    local status="$1"
    shift
    printf 'scan-k8s.sh: %s\n' "$*" >&2
    exit "$status"
}

# --- prerequisites, checked before the (slow) build so a missing tool fails fast -------------

[[ $# -eq 0 || -d "$1" ]] || die 3 "corpus $1 is not a directory (checkov -d needs one)"
[[ -x /usr/bin/time ]] || die 3 "GNU time is missing: install it with 'apt-get install time'"
command -v python3 >/dev/null || die 3 "python3 is missing (needed by gen-corpus.py)"

checkov=""
if [[ "${SKIP_CHECKOV:-0}" != 1 ]]; then
    if [[ -n "${CHECKOV:-}" ]]; then
        checkov="$CHECKOV"
    elif [[ -x "$here/.venv/bin/checkov" ]]; then
        checkov="$here/.venv/bin/checkov"
    elif command -v checkov >/dev/null; then
        checkov="$(command -v checkov)"
    fi
    if [[ -z "$checkov" ]] || ! "$checkov" --version >/dev/null 2>&1; then
        die 3 "checkov not found or not runnable. Install it with
    python3 -m venv $here/.venv && $here/.venv/bin/pip install checkov
or system-wide with 'pip install checkov', or run with SKIP_CHECKOV=1 for palisade alone."
    fi
fi

if [[ -n "${PALISADE:-}" ]]; then
    palisade="$PALISADE"
else
    command -v cargo >/dev/null || die 3 "cargo is missing: install Rust (https://rustup.rs) or set PALISADE=/path/to/palisade"
    echo "building palisade (release)..." >&2
    (cd "$root" && cargo build --release -p palisade --quiet) || die 4 "cargo build --release -p palisade failed"
    target_dir="${CARGO_TARGET_DIR:-$root/target}"
    [[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
    palisade="$target_dir/release/palisade"
fi
[[ -x "$palisade" ]] || die 3 "palisade binary not found at $palisade"

work="$(mktemp -d "${TMPDIR:-/tmp}/palisade-bench.XXXXXX")"
trap 'rm -rf "$work"' EXIT

if [[ $# -ge 1 ]]; then
    corpus="$1"
    objects="?"
else
    corpus="$work/corpus"
    python3 "$here/gen-corpus.py" --objects "$objects" --out "$corpus" 2>"$work/gen.log" \
        || die 4 "gen-corpus.py failed: $(cat "$work/gen.log")"
fi

# --- helpers ----------------------------------------------------------------------------------

# Runs a command under GNU time; prints "wall_s peak_rss_kb cpu_s exit_status" (cpu = user + sys,
# which depends less than wall time on what else the machine is doing). GNU time prepends a
# "Command exited with non-zero status" line when the command fails, hence `tail -n 1`.
timed() {
    local out="$1"
    shift
    local status=0
    /usr/bin/time -f '%e %M %U %S' -o "$out.time" "$@" >"$out.stdout" 2>"$out.stderr" || status=$?
    tail -n 1 "$out.time" | awk -v status="$status" '{ printf "%s %s %.2f %s\n", $1, $2, $3 + $4, status }'
}

# Findings in a palisade JSON report (`.summary.total`, else the length of `.findings`) and the
# objects it assessed (`.summary.objects.assessed`).
palisade_findings() {
    python3 - "$1" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
summary = report.get("summary") or {}
total = summary.get("total")
assessed = (summary.get("objects") or {}).get("assessed", "?")
print(total if isinstance(total, int) else len(report.get("findings") or []), assessed)
EOF
}

# Failed checks and resources in a Checkov JSON report (one object, or a list of them when
# several runners answered).
checkov_counts() {
    python3 - "$1" <<'EOF'
import json, sys
data = json.load(open(sys.argv[1]))
reports = data if isinstance(data, list) else [data]
failed = sum((r.get("summary") or {}).get("failed", 0) for r in reports)
resources = sum((r.get("summary") or {}).get("resource_count", 0) for r in reports)
print(failed, resources)
EOF
}

# --- palisade ---------------------------------------------------------------------------------

# One untimed run that keeps the report, to count findings and to warm the page cache, so the
# timed runs measure the scanner rather than the first read from disk.
status=0
"$palisade" scan k8s "$corpus" --format json --output "$work/palisade.json" 2>"$work/palisade.stderr" || status=$?
if [[ $status -ge 2 ]]; then
    die 4 "palisade exited with $status: $(head -c 2000 "$work/palisade.stderr")"
fi
read -r palisade_found palisade_objects < <(palisade_findings "$work/palisade.json")

walls=()
cpus=()
peak_kb=0
for ((i = 1; i <= runs; i++)); do
    read -r wall rss cpu status < <(timed "$work/palisade.$i" "$palisade" scan k8s "$corpus" --format json --output /dev/null)
    [[ $status -lt 2 ]] || die 4 "palisade exited with $status: $(head -c 2000 "$work/palisade.$i.stderr")"
    walls+=("$wall")
    cpus+=("$cpu")
    ((rss > peak_kb)) && peak_kb=$rss
    echo "palisade run $i: ${wall}s wall, ${cpu}s cpu, $((rss / 1024)) MB" >&2
done
read -r p_best p_median < <(printf '%s\n' "${walls[@]}" | sort -g | awk '
    { v[NR] = $1 }
    END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2; printf "%.2f %.2f\n", v[1], m }')
p_cpu="$(printf '%s\n' "${cpus[@]}" | sort -g | head -n 1)"
p_mb=$(awk -v kb="$peak_kb" 'BEGIN { printf "%.1f", kb / 1024 }')

# --- checkov ----------------------------------------------------------------------------------

c_wall="" c_cpu="" c_mb="" c_found="" c_resources=""
if [[ -n "$checkov" ]]; then
    echo "running checkov once (slow)..." >&2
    read -r c_wall c_kb c_cpu status < <(timed "$work/checkov" "$checkov" -d "$corpus" --framework kubernetes \
        -o json --quiet --compact --skip-download)
    # Checkov exits 1 when checks fail, which is the expected outcome here.
    [[ $status -lt 2 ]] || die 4 "checkov exited with $status: $(tail -c 2000 "$work/checkov.stderr")"
    read -r c_found c_resources < <(checkov_counts "$work/checkov.stdout")
    c_mb=$(awk -v kb="$c_kb" 'BEGIN { printf "%.1f", kb / 1024 }')
fi

# --- report -----------------------------------------------------------------------------------

cpu_model="$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)"
mem_total="$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo
echo "date:     $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "machine:  $(nproc) CPUs ($cpu_model), $mem_total RAM, Linux $(uname -r)"
revision="$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -z "$(git -C "$root" status --porcelain --untracked-files=no 2>/dev/null)" ]] || revision="$revision + uncommitted changes"
echo "palisade: $("$palisade" --version 2>/dev/null || echo unknown) ($palisade), source $revision"
[[ -n "$checkov" ]] && echo "checkov:  $("$checkov" --version 2>/dev/null) ($checkov)"
echo "load:     $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min load average before the report)"
echo "corpus:   $corpus ($objects objects, $(du -sh "$corpus" | cut -f1))"
echo
row='| %-8s | %-7s | %-24s | %-10s | %-11s | %-8s |\n'
# shellcheck disable=SC2059 # the format is the table layout, shared by every row
printf "$row" tool objects "wall s (best / median)" "cpu s" "peak RSS MB" findings
printf '|%s|%s|%s|%s|%s|%s|\n' ---------- --------- -------------------------- ------------ ------------- ----------
# shellcheck disable=SC2059
printf "$row" palisade "$palisade_objects" "$p_best / $p_median ($runs runs)" "$p_cpu" "$p_mb" "$palisade_found"
if [[ -n "$checkov" ]]; then
    # shellcheck disable=SC2059
    printf "$row" checkov "$c_resources" "$c_wall (1 run)" "$c_cpu" "$c_mb" "$c_found"
fi
echo
echo "cpu s:    user + sys; palisade: lowest of the runs"
echo "findings: palisade = .summary.total of its JSON report; checkov = summary.failed (failed checks);"
echo "objects:  palisade = .summary.objects.assessed; checkov = summary.resource_count (Checkov counts"
echo "          some pod templates again as Pod resources, hence more than the corpus holds)."

awk -v m="$p_median" -v mb="$p_mb" -v c="$c_wall" -v cmb="$c_mb" 'BEGIN {
    printf "\ntargets (palisade median run):\n"
    printf "  wall time < 1 s:      %.2f s   %s\n", m, (m < 1 ? "met" : "MISSED")
    printf "  peak RSS < 200 MB:    %.1f MB  %s\n", mb, (mb < 200 ? "met" : "MISSED")
    if (c != "") {
        # GNU time resolves 10 ms; a 0.00 s median is bounded by that resolution.
        floor = (m > 0) ? "" : ">="
        r = c / ((m > 0) ? m : 0.01)
        printf "  >= 50x Checkov:       %s%.0fx (Checkov %.2f s / palisade %.2f s)  %s\n", floor, r, c, m, (r >= 50 ? "met" : "MISSED")
        if (mb > 0) printf "  memory ratio:         %.1fx (Checkov %.1f MB / palisade %.1f MB)\n", cmb / mb, cmb, mb
    }
}'
