"""Compares Palisade's and syft's CycloneDX SBOMs of the same images, and Palisade's against the
package managers' own listings (bench/sbom/make-images.sh writes them to truth/).

usage: compare.py OUT_DIR TRUTH_DIR IMAGE...
Reads OUT_DIR/{palisade,syft}-<image>-oci.json, writes OUT_DIR/diff-<image>.txt and prints a
summary per image and package type.
"""
import collections
import json
import os
import sys
from urllib.parse import unquote


def purl_key(purl):
    """(type, namespace/name, version) of a purl, qualifiers dropped."""
    if not purl or not purl.startswith("pkg:"):
        return None
    body = purl[4:].split("#", 1)[0].split("?", 1)[0]
    kind, _, rest = body.partition("/")
    name, _, version = rest.rpartition("@")
    if not name:
        name, version = rest, ""
    if kind == "deb" or kind == "apk" or kind == "rpm":
        name = name.split("/", 1)[-1]  # drop the distro namespace: syft and palisade differ
    if kind == "pypi":
        name = name.lower().replace("_", "-")
    return kind, unquote(name), unquote(version)


def components(path):
    with open(path) as f:
        bom = json.load(f)
    out = {}
    for component in bom.get("components", []):
        key = purl_key(component.get("purl"))
        if key is None:
            continue
        props = {p.get("name"): p.get("value") for p in component.get("properties", [])}
        location = props.get("palisade:package:location") or props.get("syft:location:0:path") or ""
        out.setdefault(key, []).append(location)
    return out


def main():
    out_dir, truth_dir, images = sys.argv[1], sys.argv[2], sys.argv[3:]
    for image in images:
        pal_file = os.path.join(out_dir, f"palisade-{image}-oci.json")
        syft_file = os.path.join(out_dir, f"syft-{image}-oci.json")
        if not (os.path.exists(pal_file) and os.path.exists(syft_file)):
            continue
        pal, syft = components(pal_file), components(syft_file)
        by_type = collections.defaultdict(lambda: [0, 0, 0, 0])
        for key in set(pal) | set(syft):
            row = by_type[key[0]]
            row[0] += key in pal
            row[1] += key in syft
            row[2] += key in pal and key not in syft
            row[3] += key in syft and key not in pal
        print(f"\n{image}: distinct (type, name, version) — palisade {len(pal)}, syft {len(syft)}")
        print("| type | palisade | syft | only palisade | only syft |")
        print("| ---- | -------: | ---: | ------------: | --------: |")
        for kind, (p, s, op, os_) in sorted(by_type.items()):
            print(f"| {kind} | {p} | {s} | {op} | {os_} |")
        with open(os.path.join(out_dir, f"diff-{image}.txt"), "w") as f:
            for label, mine, other in (("only palisade", pal, syft), ("only syft", syft, pal)):
                f.write(f"## {label}\n")
                for key in sorted(set(mine) - set(other)):
                    f.write(f"{key[0]} {key[1]} {key[2]}  {', '.join(sorted(set(mine[key])))}\n")
        if image == "apps" and os.path.isdir(truth_dir):
            truth(pal, truth_dir)


def read_truth(path, parse):
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return {parse(line) for line in f if line.strip()}


def truth(pal, truth_dir):
    dpkg = read_truth(os.path.join(truth_dir, "dpkg.txt"), lambda l: tuple(l.split()[:2]))
    pip = read_truth(os.path.join(truth_dir, "pip.txt"),
                     lambda l: (l.strip().split("==")[0].lower().replace("_", "-"), l.strip().split("==")[1]))
    npm = read_truth(os.path.join(truth_dir, "npm.txt"), lambda l: tuple(l.split()[:2]))
    mine = {
        "deb": {(n, v) for (k, n, v) in pal if k == "deb"},
        "pypi": {(n, v) for (k, n, v), locs in pal.items() if k == "pypi" and any(l.startswith("/app/venv/") for l in locs)},
        "npm": {(n, v) for (k, n, v), locs in pal.items() if k == "npm" and any(l.startswith("/app/node/node_modules/") for l in locs)},
    }
    print("\nground truth (apps image): palisade vs the package managers")
    for label, expected, found in (("dpkg-query -W", dpkg, mine["deb"]), ("pip list (/app/venv)", pip, mine["pypi"]), ("npm ls --all (/app/node)", npm, mine["npm"])):
        if expected is None:
            print(f"- {label}: no listing")
            continue
        missing, extra = expected - found, found - expected
        verdict = "EXACT" if not missing and not extra else "DIFFERS"
        print(f"- {label}: {len(expected)} expected, {len(found)} found — {verdict}"
              + (f"; missing {sorted(missing)[:10]}" if missing else "")
              + (f"; extra {sorted(extra)[:10]}" if extra else ""))


if __name__ == "__main__":
    main()
