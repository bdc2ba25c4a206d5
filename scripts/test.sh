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

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
