#!/usr/bin/env bash
# Audit-log detection throughput and memory (issue 6's targets: at least 100,000 events/s per core
# through the full built-in rule set plus Falco's k8saudit rules; memory flat over 10 million
# events).
#
# Generates EVENTS audit events (default 200,000) from the real fixtures
# (crates/palisade-audit/tests/fixtures: a kube-apiserver v1.36 attack scenario and benign
# baseline), each with its own user, namespace and name so aggregation keeps distinct alerts, into
# one JSON-lines file; then times `palisade audit analyze` on it with the built-in rules, and with
# Falco's published rules added when FALCO_RULES points at a copy of k8s_audit_rules.yaml (it is
# not in the repository). `palisade audit analyze` is single-threaded, so events/s is per core.
# Finally streams the file REPEAT times (default 50: 10 million events) through standard input and
# compares peak memory with one pass.
#
# Environment: PALISADE (binary; default: cargo build --release), EVENTS, REPEAT, FALCO_RULES, OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
EVENTS="${EVENTS:-200000}"
REPEAT="${REPEAT:-50}"
OUT="${OUT:-$(mktemp -d /tmp/palisade-audit-bench.XXXXXX)}"
mkdir -p "$OUT"
if [ -z "${PALISADE:-}" ]; then
    cargo build --release -q -p palisade
    PALISADE="${CARGO_TARGET_DIR:-target}/release/palisade"
fi

python3 - "$EVENTS" "$OUT/events.jsonl" <<'PY'
import json, sys
total, path = int(sys.argv[1]), sys.argv[2]
templates = []
for name in ("attack-scenario.jsonl", "benign-baseline.jsonl"):
    with open(f"crates/palisade-audit/tests/fixtures/{name}") as f:
        templates += [json.loads(line) for line in f if line.strip()]
with open(path, "w") as out:
    for i in range(total):
        event = json.loads(json.dumps(templates[i % len(templates)]))
        event["auditID"] = f"{i:08x}-0000-4000-8000-000000000000"
        user = event.get("user", {})
        if isinstance(user, dict) and "username" in user and not user["username"].startswith("system:"):
            user["username"] = f"{user['username']}-{i % 997}"
        ref = event.get("objectRef")
        if isinstance(ref, dict):
            if "namespace" in ref:
                ref["namespace"] = f"{ref['namespace']}-{i % 89}"
            if "name" in ref:
                ref["name"] = f"{ref['name']}-{i % 1009}"
        out.write(json.dumps(event, separators=(",", ":")))
        out.write("\n")
PY
bytes=$(stat -c %s "$OUT/events.jsonl")
echo "generated $EVENTS events ($((bytes / 1048576)) MiB) in $OUT/events.jsonl"

# run LABEL ARGS...: prints events/s and peak RSS of `palisade audit analyze` on the file.
run() {
    local label=$1
    shift
    /usr/bin/time -f '%e %M' -o "$OUT/time" "$PALISADE" audit analyze "$OUT/events.jsonl" \
        --format json -o "$OUT/report-$label.json" "$@" 2>"$OUT/stderr-$label"
    read -r secs rss < "$OUT/time"
    local alerts
    alerts=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['alerts']))" "$OUT/report-$label.json")
    python3 -c "import sys; e,s,r,a=int(sys.argv[1]),float(sys.argv[2]),int(sys.argv[3]),sys.argv[4]; print(f'{sys.argv[5]:<28} {s:6.2f} s  {e/s:>10,.0f} events/s  peak {r/1024:6.1f} MB  {a} alerts')" \
        "$EVENTS" "$secs" "$rss" "$alerts" "$label"
}

run builtin
if [ -n "${FALCO_RULES:-}" ] && [ -f "$FALCO_RULES" ]; then
    run builtin+falco --rules "$FALCO_RULES"
else
    echo "builtin+falco: skipped (set FALCO_RULES to a copy of Falco's k8s_audit_rules.yaml)"
fi

# Memory over 10 million events: the same file streamed REPEAT times through stdin.
/usr/bin/time -f '%e %M' -o "$OUT/time-long" bash -c \
    "for i in \$(seq 1 $REPEAT); do cat '$OUT/events.jsonl'; done | '$PALISADE' audit analyze - --format jsonl -o /dev/null" \
    2>"$OUT/stderr-long"
read -r secs rss < "$OUT/time-long"
python3 -c "import sys; n=int(sys.argv[1])*int(sys.argv[2]); s=float(sys.argv[3]); print(f'{n:,} events streamed: {s:.1f} s ({n/s:,.0f} events/s), peak {int(sys.argv[4])/1024:.1f} MB')" \
    "$EVENTS" "$REPEAT" "$secs" "$rss"
