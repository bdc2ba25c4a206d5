//! Compiles the eBPF programs in `bpf/` with clang into OUT_DIR, where `src/bpf/loader.rs` embeds
//! them. The build installs nothing and must never break the workspace: without clang (or libbpf's
//! headers) it embeds an empty object, warns, and the loader reports at run time how to fix it.

use std::env;
use std::fs;
use std::path::PathBuf;
use std::process::Command;

const SOURCES: &[&str] = &["bpf/sensor.bpf.c", "bpf/vmlinux_min.h", "bpf/wire.h"];

fn main() {
    println!("cargo:rerun-if-changed=bpf");
    for source in SOURCES {
        println!("cargo:rerun-if-changed={source}");
    }
    println!("cargo:rerun-if-env-changed=CLANG");
    println!("cargo:rerun-if-env-changed=PALISADE_BPF_INCLUDE");
    println!("cargo:rerun-if-env-changed=PALISADE_BPF_DEFINES");

    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap_or_else(|| ".".into()));
    let object = out_dir.join("sensor.bpf.o");
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap_or_else(|| ".".into()));
    let bpf_dir = manifest_dir.join("bpf");

    // The syscall numbers the module-load program filters on differ per architecture.
    let arch_define = match env::var("CARGO_CFG_TARGET_ARCH").as_deref() {
        Ok("aarch64") => "-D__TARGET_ARCH_arm64",
        _ => "-D__TARGET_ARCH_x86",
    };
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".to_string());
    let mut command = Command::new(&clang);
    command
        .args([
            "-target",
            "bpf",
            "-O2",
            "-g",
            "-Wall",
            "-Wno-unused-function",
        ])
        .arg(arch_define)
        .arg("-I")
        .arg(&bpf_dir);
    if let Ok(include) = env::var("PALISADE_BPF_INCLUDE") {
        command.arg("-I").arg(include);
    }
    // Only for measurements (bench/sensor-floor.sh): `-DNAME` flags, space-separated.
    if let Ok(defines) = env::var("PALISADE_BPF_DEFINES") {
        command.args(defines.split_whitespace().filter(|d| d.starts_with("-D")));
    }
    command
        .arg("-c")
        .arg(bpf_dir.join("sensor.bpf.c"))
        .arg("-o")
        .arg(&object);

    let built = match command.output() {
        Ok(output) if output.status.success() => true,
        Ok(output) => {
            // A compile error in our own C is a bug to see, but it still must not fail builds of
            // the rest of the workspace on machines without libbpf-dev.
            let stderr = String::from_utf8_lossy(&output.stderr);
            let first = stderr
                .lines()
                .find(|line| !line.trim().is_empty())
                .unwrap_or("");
            println!(
                "cargo:warning=palisade-sensor is built WITHOUT its eBPF programs: {clang} failed ({first}); install clang and libbpf-dev and rebuild"
            );
            false
        }
        Err(error) => {
            println!(
                "cargo:warning=palisade-sensor is built WITHOUT its eBPF programs: cannot run {clang} ({error}); install clang and libbpf-dev and rebuild"
            );
            false
        }
    };
    if !built && fs::write(&object, []).is_err() {
        println!("cargo:warning=cannot write {}", object.display());
    }
}
