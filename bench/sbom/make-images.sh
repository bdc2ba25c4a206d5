#!/usr/bin/env bash
# Builds the images bench/sbom.sh and the ground-truth comparison read, as OCI layouts:
#
#   $OUT/minbase   Debian 12 `debootstrap --variant=minbase` root file system, one layer
#   $OUT/apps      minbase + a layer with Python (pip, in /app/venv), Node (npm, in /app/node),
#                  Java jars (Debian's libcommons-lang3-java) and Go binaries (Debian's
#                  docker-registry), installed with the real package managers in a chroot
#   $OUT/big       apps + generated layers of incompressible files (BIG_GB, default 2)
#   $OUT/thin      apps + one small layer (a configuration file): an application release on a
#                  shared base, for the layer-cache measurement
#
# and writes the package managers' own listings next to them ($OUT/truth/{dpkg,pip,npm}.txt).
# Needs root, debootstrap and umoci (Debian packages), and network access to the Debian, PyPI
# and npm registries. Idempotent: an existing image is kept (delete $OUT to rebuild).
set -euo pipefail
OUT="${OUT:-/work/bench-data/images}"
ROOTFS="${ROOTFS:-/work/bench-data/minbase}"
BIG_GB="${BIG_GB:-2}"
PIP_PACKAGES="${PIP_PACKAGES:-flask requests pyyaml cryptography jinja2}"
NPM_PACKAGES="${NPM_PACKAGES:-express lodash axios}"

die() { echo "make-images: $*" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || die "needs root (chroot, debootstrap)"
for tool in debootstrap umoci; do
    command -v "$tool" >/dev/null || die "missing $tool (apt-get install $tool)"
done
mkdir -p "$OUT/truth"

if [ ! -x "$ROOTFS/usr/bin/dpkg" ]; then
    echo "debootstrap --variant=minbase bookworm $ROOTFS" >&2
    debootstrap --variant=minbase bookworm "$ROOTFS" http://deb.debian.org/debian >/dev/null
fi

# `npm ls --all --json` of /app/node flattened to "name version" lines (every installed package
# once, the application itself excluded).
npm_truth() {
    chroot "$1" bash -c 'cd /app/node && npm ls --all --json' | python3 -c '
import json, sys
seen = set()
def walk(deps):
    for name, info in (deps or {}).items():
        if "version" in info:
            seen.add((name, info["version"]))
        walk(info.get("dependencies"))
walk(json.load(sys.stdin).get("dependencies"))
for name, version in sorted(seen):
    print(name, version)'
}

# umoci wants a bundle it unpacked itself; repack then records exactly the differences as a layer.
new_image() { # layout tag rootfs-to-copy
    local layout=$1 tag=$2 src=$3 bundle
    umoci init --layout "$layout"
    umoci new --image "$layout:$tag"
    bundle="$(mktemp -d)"
    umoci unpack --image "$layout:$tag" "$bundle/b" >/dev/null
    cp -a "$src/." "$bundle/b/rootfs/"
    umoci repack --image "$layout:$tag" "$bundle/b"
    rm -rf "$bundle"
}

if [ ! -f "$OUT/minbase/index.json" ]; then
    echo "image minbase" >&2
    new_image "$OUT/minbase" latest "$ROOTFS"
fi

if [ ! -f "$OUT/apps/index.json" ]; then
    echo "image apps (chroot installs: apt, pip, npm)" >&2
    work="$(mktemp -d)"
    rm -rf "$OUT/apps.tmp"
    cp -a "$OUT/minbase" "$OUT/apps.tmp"
    umoci unpack --image "$OUT/apps.tmp:latest" "$work/b" >/dev/null
    root="$work/b/rootfs"
    cp /etc/resolv.conf "$root/etc/resolv.conf"
    mount -t proc proc "$root/proc"
    trap 'umount "$root/proc" 2>/dev/null || true' EXIT
    chroot "$root" /usr/bin/env DEBIAN_FRONTEND=noninteractive bash -c "
        apt-get update -qq &&
        apt-get install -y -qq --no-install-recommends python3 python3-venv python3-yaml \
            nodejs npm libcommons-lang3-java docker-registry ca-certificates >/dev/null &&
        apt-get clean && rm -rf /var/lib/apt/lists/*"
    # PyPI and npm may sit behind this machine's TLS proxy, which the chroot's pip does not accept
    # even with --cert: wheels are downloaded by the host's pip (for the chroot's Python 3.11) and
    # installed from a local directory; npm borrows the host's trust store. Both are removed before
    # the layer is recorded.
    wheels="$(mktemp -d)"
    python3 -m pip download -q -d "$wheels" --python-version 3.11 --only-binary=:all: \
        --platform manylinux2014_x86_64 --platform manylinux_2_17_x86_64 \
        --platform manylinux_2_28_x86_64 --platform any $PIP_PACKAGES
    mkdir -p "$root/tmp/wheels"
    cp "$wheels"/*.whl "$root/tmp/wheels/"
    rm -rf "$wheels"
    cp /etc/ssl/certs/ca-certificates.crt "$root/tmp/host-ca.crt"
    chroot "$root" /usr/bin/env PIP_CERT=/tmp/host-ca.crt NODE_EXTRA_CA_CERTS=/tmp/host-ca.crt \
        npm_config_cafile=/tmp/host-ca.crt bash -c "
        python3 -m venv /app/venv &&
        /app/venv/bin/pip install -q --disable-pip-version-check --no-index \
            --find-links /tmp/wheels $PIP_PACKAGES &&
        mkdir -p /app/node && cd /app/node && npm init -y >/dev/null &&
        npm install --silent --no-audit --no-fund $NPM_PACKAGES &&
        rm -rf /root/.cache /root/.npm"
    rm -rf "$root/tmp/host-ca.crt" "$root/tmp/wheels"
    dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' --admindir="$root/var/lib/dpkg" \
        | sort >"$OUT/truth/dpkg.txt"
    chroot "$root" /app/venv/bin/pip list --format freeze | sort >"$OUT/truth/pip.txt"
    npm_truth "$root" >"$OUT/truth/npm.txt"
    umount "$root/proc"
    trap - EXIT
    rm -f "$root/etc/resolv.conf"
    umoci repack --image "$OUT/apps.tmp:latest" "$work/b"
    rm -rf "$work"
    mv "$OUT/apps.tmp" "$OUT/apps"
fi

if [ ! -f "$OUT/big/index.json" ]; then
    echo "image big (+${BIG_GB} GB of generated files)" >&2
    work="$(mktemp -d)"
    rm -rf "$OUT/big.tmp"
    cp -a "$OUT/apps" "$OUT/big.tmp"
    for i in $(seq 1 "$BIG_GB"); do
        umoci unpack --image "$OUT/big.tmp:latest" "$work/b$i" >/dev/null
        mkdir -p "$work/b$i/rootfs/data/part$i"
        # 1 GiB per layer in 64 MiB incompressible files (the worst case for a scanner's
        # decompression and hashing), plus many small files.
        for j in $(seq 1 16); do
            head -c $((64 * 1024 * 1024)) /dev/urandom >"$work/b$i/rootfs/data/part$i/blob$j.bin"
        done
        for j in $(seq 1 2000); do echo "file $j" >"$work/b$i/rootfs/data/part$i/small$j.txt"; done
        umoci repack --image "$OUT/big.tmp:latest" "$work/b$i"
        rm -rf "$work/b$i"
    done
    rm -rf "$work"
    mv "$OUT/big.tmp" "$OUT/big"
fi
if [ ! -f "$OUT/thin/index.json" ]; then
    echo "image thin (apps + one small layer)" >&2
    work="$(mktemp -d)"
    rm -rf "$OUT/thin.tmp"
    cp -a "$OUT/apps" "$OUT/thin.tmp"
    umoci unpack --image "$OUT/thin.tmp:latest" "$work/b" >/dev/null
    mkdir -p "$work/b/rootfs/app/config"
    echo "release: 2" >"$work/b/rootfs/app/config/release.yaml"
    umoci repack --image "$OUT/thin.tmp:latest" "$work/b"
    rm -rf "$work"
    mv "$OUT/thin.tmp" "$OUT/thin"
fi
du -sh "$OUT"/{minbase,apps,big,thin} >&2
