//! Decoding of the ring-buffer records written by `bpf/sensor.bpf.c` (layouts in `bpf/wire.h`).
//!
//! The bytes come from kernel memory shared with every traced process's data (paths, argv,
//! sockaddrs are copied from user memory), so they are treated as untrusted: every read is
//! bounds-checked, every string is decoded lossily up to its first NUL, and a record that does not
//! match its kind's layout is an error, never a panic.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{
    EventDetail, ExeOrigin, L4Proto, OpenSyscall, SetIdSyscall, SocketAddress, SocketFamily,
    SyscallEvent, TaskIds,
};

/// Size of `struct event_header`.
pub const HEADER_LEN: usize = 88;

const PATH_LEN: usize = 256;
const ARGS_LEN: usize = 1024;
const COMPONENTS_MAX: usize = 16;
const COMPONENT_LEN: usize = 64;
const SOCKADDR_LEN: usize = 112;
const PARAMS_LEN: usize = 128;
const CGROUP_PATH_LEN: usize = 264;

const AF_UNIX: u16 = 1;
const AF_INET: u16 = 2;
const AF_INET6: u16 = 10;

const SOCK_STREAM: u16 = 1;
const SOCK_DGRAM: u16 = 2;
const SOCK_RAW: u16 = 3;

/// Why a record could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("record of {len} bytes is shorter than its {needed}-byte layout")]
    Truncated { len: usize, needed: usize },
    #[error("unknown record kind {0}")]
    UnknownKind(u32),
    #[error("unknown {what} value {value}")]
    UnknownValue { what: &'static str, value: u32 },
}

/// The kernel's record kinds (`enum event_kind` in wire.h).
mod kind {
    pub const EXEC: u32 = 1;
    pub const FORK: u32 = 2;
    pub const EXIT: u32 = 3;
    pub const OPEN: u32 = 4;
    pub const CONNECT: u32 = 5;
    pub const ACCEPT: u32 = 6;
    pub const BIND: u32 = 7;
    pub const LISTEN: u32 = 8;
    pub const PTRACE: u32 = 9;
    pub const SETID: u32 = 10;
    pub const CAPSET: u32 = 11;
    pub const MODULE: u32 = 12;
    pub const MEMFD: u32 = 13;
    pub const MOUNT: u32 = 14;
    pub const UMOUNT: u32 = 15;
    pub const UNSHARE: u32 = 16;
    pub const SETNS: u32 = 17;
    pub const DUP: u32 = 18;
    pub const UNLINK: u32 = 19;
    pub const RENAME: u32 = 20;
    pub const TRUNCATE: u32 = 21;
    pub const UTIMENS: u32 = 22;
    pub const BPF: u32 = 23;
}

/// Payload sizes, each equal to `sizeof(struct <kind>_payload)` in wire.h.
mod payload_len {
    pub const EXEC: usize = 20
        + super::PATH_LEN
        + super::ARGS_LEN
        + super::COMPONENTS_MAX * super::COMPONENT_LEN
        + super::CGROUP_PATH_LEN;
    pub const FORK: usize = 16;
    pub const EXIT: usize = 8;
    pub const OPEN: usize = 16 + super::PATH_LEN;
    pub const SOCKADDR: usize = 16 + super::SOCKADDR_LEN;
    pub const ACCEPT: usize = 48;
    pub const EIGHT: usize = 8;
    pub const PTRACE: usize = 16;
    pub const SETID: usize = 24;
    pub const CAPSET: usize = 24;
    pub const MODULE: usize = 8 + super::PARAMS_LEN;
    pub const MEMFD: usize = 8 + super::PATH_LEN;
    pub const MOUNT: usize = 8 + 32 + 2 * super::PATH_LEN;
    pub const UMOUNT: usize = 8 + super::PATH_LEN;
    pub const DUP: usize = 32;
    pub const PATH: usize = 8 + super::PATH_LEN;
    pub const RENAME: usize = 2 * super::PATH_LEN;
}

/// A bounds-checked view of a byte slice: every accessor returns an error instead of panicking.
#[derive(Clone, Copy)]
struct Reader<'a> {
    bytes: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], needed: usize) -> Result<Self, WireError> {
        if bytes.len() < needed {
            return Err(WireError::Truncated {
                len: bytes.len(),
                needed,
            });
        }
        Ok(Reader { bytes })
    }

    fn slice(&self, offset: usize, len: usize) -> Result<&'a [u8], WireError> {
        let end = offset.checked_add(len).ok_or(WireError::Truncated {
            len: self.bytes.len(),
            needed: usize::MAX,
        })?;
        self.bytes.get(offset..end).ok_or(WireError::Truncated {
            len: self.bytes.len(),
            needed: end,
        })
    }

    fn array<const N: usize>(&self, offset: usize) -> Result<[u8; N], WireError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.slice(offset, N)?);
        Ok(out)
    }

    fn u8(&self, offset: usize) -> Result<u8, WireError> {
        Ok(self.array::<1>(offset)?[0])
    }

    fn u16(&self, offset: usize) -> Result<u16, WireError> {
        Ok(u16::from_ne_bytes(self.array(offset)?))
    }

    fn u32(&self, offset: usize) -> Result<u32, WireError> {
        Ok(u32::from_ne_bytes(self.array(offset)?))
    }

    fn i32(&self, offset: usize) -> Result<i32, WireError> {
        Ok(i32::from_ne_bytes(self.array(offset)?))
    }

    fn u64(&self, offset: usize) -> Result<u64, WireError> {
        Ok(u64::from_ne_bytes(self.array(offset)?))
    }

    fn i64(&self, offset: usize) -> Result<i64, WireError> {
        Ok(i64::from_ne_bytes(self.array(offset)?))
    }

    /// A fixed-size C string field: up to its first NUL, invalid UTF-8 replaced.
    fn string(&self, offset: usize, len: usize) -> Result<String, WireError> {
        Ok(c_string(self.slice(offset, len)?))
    }
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(bytes.get(..end).unwrap_or_default()).into_owned()
}

/// FNV-1a (64-bit) of an executable path, as the exec program computes it to look up the drift
/// allow-list. The kernel hashes "/" before each component, so a path is hashed as written when
/// it is absolute and normalised (no trailing or doubled slashes).
pub fn drift_path_hash(path: &str) -> u64 {
    let mut hash = palisade_core::Fnv1a::new();
    for component in path.split('/').filter(|c| !c.is_empty()) {
        hash.write(b"/");
        hash.write(component.as_bytes());
    }
    hash.finish()
}

/// Decodes one ring-buffer record.
pub fn decode(record: &[u8]) -> Result<SyscallEvent, WireError> {
    let header = Reader::new(record, HEADER_LEN)?;
    let kind = header.u32(0)?;
    let task = TaskIds {
        pid: header.u32(16)?,
        tid: header.u32(20)?,
        ppid: header.u32(24)?,
        uid: header.u32(28)?,
        gid: header.u32(32)?,
        loginuid: header.u32(36)?,
        cgroup_id: header.u64(40)?,
        comm: header.string(72, 16)?,
    };
    let mnt_ns = header.u64(48)?;
    let result = if header.u32(64)? != 0 {
        Some(header.i64(56)?)
    } else {
        None
    };
    let payload = record.get(HEADER_LEN..).unwrap_or_default();
    let detail = decode_detail(kind, payload, mnt_ns)?;
    Ok(SyscallEvent {
        boot_ns: header.u64(8)?,
        cpu: header.u32(4)?,
        task,
        result,
        detail,
    })
}

fn decode_detail(kind: u32, payload: &[u8], mnt_ns: u64) -> Result<EventDetail, WireError> {
    match kind {
        kind::EXEC => decode_exec(Reader::new(payload, payload_len::EXEC)?, mnt_ns),
        kind::FORK => {
            let p = Reader::new(payload, payload_len::FORK)?;
            Ok(EventDetail::Fork {
                child_pid: p.u32(0)?,
                clone_flags: p.u64(8)?,
            })
        }
        kind::EXIT => {
            let p = Reader::new(payload, payload_len::EXIT)?;
            Ok(EventDetail::Exit {
                exit_code: p.i32(0)?,
            })
        }
        kind::OPEN => {
            let p = Reader::new(payload, payload_len::OPEN)?;
            let syscall = match p.u32(0)? {
                0 => OpenSyscall::Open,
                1 => OpenSyscall::Openat,
                2 => OpenSyscall::Openat2,
                3 => OpenSyscall::Creat,
                value => {
                    return Err(WireError::UnknownValue {
                        what: "open syscall",
                        value,
                    });
                }
            };
            Ok(EventDetail::Open {
                syscall,
                flags: p.u32(4)?,
                mode: p.u32(8)?,
                path: p.string(16, PATH_LEN)?,
            })
        }
        kind::CONNECT | kind::BIND => {
            let p = Reader::new(payload, payload_len::SOCKADDR)?;
            let fd = p.i32(0)?;
            let addrlen = usize::try_from(p.u32(4)?).unwrap_or(0).min(SOCKADDR_LEN);
            let sock_type = p.u16(8)?;
            let addr = p.slice(16, addrlen)?;
            let (family, address) = decode_sockaddr(addr);
            let l4proto = l4proto(family, sock_type);
            if kind == kind::CONNECT {
                Ok(EventDetail::Connect {
                    fd,
                    family,
                    l4proto,
                    remote: address,
                })
            } else {
                Ok(EventDetail::Bind {
                    fd,
                    family,
                    l4proto,
                    local: address,
                })
            }
        }
        kind::ACCEPT => {
            let p = Reader::new(payload, payload_len::ACCEPT)?;
            let raw_family = p.u16(4)?;
            let family = socket_family(raw_family);
            let local = sock_endpoint(raw_family, p.u16(8)?, p.array(16)?);
            let remote = sock_endpoint(raw_family, p.u16(10)?, p.array(32)?);
            Ok(EventDetail::Accept {
                fd: p.i32(0)?,
                family,
                l4proto: l4proto(family, p.u16(6)?),
                remote,
                local,
            })
        }
        kind::LISTEN => {
            let p = Reader::new(payload, payload_len::EIGHT)?;
            Ok(EventDetail::Listen {
                fd: p.i32(0)?,
                backlog: p.i32(4)?,
            })
        }
        kind::PTRACE => {
            let p = Reader::new(payload, payload_len::PTRACE)?;
            Ok(EventDetail::Ptrace {
                request: p.i64(0)?,
                target_pid: p.u32(8)?,
            })
        }
        kind::SETID => {
            let p = Reader::new(payload, payload_len::SETID)?;
            let syscall = match p.u32(0)? {
                0 => SetIdSyscall::Setuid,
                1 => SetIdSyscall::Setreuid,
                2 => SetIdSyscall::Setresuid,
                3 => SetIdSyscall::Setfsuid,
                4 => SetIdSyscall::Setgid,
                5 => SetIdSyscall::Setregid,
                6 => SetIdSyscall::Setresgid,
                7 => SetIdSyscall::Setfsgid,
                value => {
                    return Err(WireError::UnknownValue {
                        what: "setid syscall",
                        value,
                    });
                }
            };
            let count = usize::try_from(p.u32(4)?).unwrap_or(0).min(3);
            let mut ids = Vec::with_capacity(count);
            for index in 0..count {
                ids.push(p.u32(8 + 4 * index)?);
            }
            Ok(EventDetail::SetId { syscall, ids })
        }
        kind::CAPSET => {
            let p = Reader::new(payload, payload_len::CAPSET)?;
            Ok(EventDetail::Capset {
                effective: p.u64(0)?,
                permitted: p.u64(8)?,
                inheritable: p.u64(16)?,
            })
        }
        kind::MODULE => {
            let p = Reader::new(payload, payload_len::MODULE)?;
            Ok(EventDetail::ModuleLoad {
                from_fd: p.u32(0)? != 0,
                params: p.string(8, PARAMS_LEN)?,
            })
        }
        kind::MEMFD => {
            let p = Reader::new(payload, payload_len::MEMFD)?;
            Ok(EventDetail::MemfdCreate {
                flags: p.u32(0)?,
                name: p.string(8, PATH_LEN)?,
            })
        }
        kind::MOUNT => {
            let p = Reader::new(payload, payload_len::MOUNT)?;
            Ok(EventDetail::Mount {
                flags: p.u64(0)?,
                fstype: p.string(8, 32)?,
                source: p.string(40, PATH_LEN)?,
                target: p.string(40 + PATH_LEN, PATH_LEN)?,
            })
        }
        kind::UMOUNT => {
            let p = Reader::new(payload, payload_len::UMOUNT)?;
            Ok(EventDetail::Umount {
                flags: p.u32(0)?,
                target: p.string(8, PATH_LEN)?,
            })
        }
        kind::UNSHARE => {
            let p = Reader::new(payload, payload_len::EIGHT)?;
            Ok(EventDetail::Unshare { flags: p.u64(0)? })
        }
        kind::SETNS => {
            let p = Reader::new(payload, payload_len::EIGHT)?;
            Ok(EventDetail::Setns {
                fd: p.i32(0)?,
                nstype: p.u32(4)?,
            })
        }
        kind::DUP => {
            let p = Reader::new(payload, payload_len::DUP)?;
            let socket = p.u8(8)? != 0;
            let raw_family = p.u16(10)?;
            let remote = match raw_family {
                AF_INET | AF_INET6 => Some(sock_endpoint(raw_family, p.u16(12)?, p.array(16)?)),
                _ => None,
            };
            Ok(EventDetail::Dup {
                oldfd: p.i32(0)?,
                newfd: p.i32(4)?,
                socket,
                remote,
            })
        }
        kind::UNLINK | kind::TRUNCATE | kind::UTIMENS => {
            let p = Reader::new(payload, payload_len::PATH)?;
            let path = p.string(8, PATH_LEN)?;
            Ok(match kind {
                kind::UNLINK => EventDetail::Unlink { path },
                kind::TRUNCATE => EventDetail::Truncate {
                    path,
                    length: p.i64(0)?,
                },
                _ => EventDetail::Utimens { path },
            })
        }
        kind::RENAME => {
            let p = Reader::new(payload, payload_len::RENAME)?;
            Ok(EventDetail::Rename {
                old_path: p.string(0, PATH_LEN)?,
                new_path: p.string(PATH_LEN, PATH_LEN)?,
            })
        }
        kind::BPF => {
            let p = Reader::new(payload, payload_len::EIGHT)?;
            Ok(EventDetail::Bpf { cmd: p.u32(0)? })
        }
        other => Err(WireError::UnknownKind(other)),
    }
}

fn decode_exec(p: Reader<'_>, mnt_ns: u64) -> Result<EventDetail, WireError> {
    const FILENAME: usize = 20;
    const ARGV: usize = FILENAME + PATH_LEN;
    const COMPONENTS: usize = ARGV + ARGS_LEN;
    const CGROUP: usize = COMPONENTS + COMPONENTS_MAX * COMPONENT_LEN;

    let argv_len = usize::try_from(p.u32(0)?).unwrap_or(0).min(ARGS_LEN);
    let argv_bytes = p.slice(ARGV, argv_len)?;
    // The argument area is NUL-separated with a final NUL; a truncated copy may end mid-argument.
    let mut argv: Vec<String> = argv_bytes
        .split(|&b| b == 0)
        .map(|arg| String::from_utf8_lossy(arg).into_owned())
        .collect();
    if argv_bytes.last() == Some(&0) {
        argv.pop();
    }

    let depth = usize::from(p.u8(17)?).min(COMPONENTS_MAX);
    let path_truncated = p.u8(18)? != 0;
    // Components are stored leaf first; a walk cut short gives no trustworthy full path.
    let exepath = if path_truncated {
        String::new()
    } else {
        let mut path = String::new();
        for index in (0..depth).rev() {
            path.push('/');
            path.push_str(&p.string(COMPONENTS + index * COMPONENT_LEN, COMPONENT_LEN)?);
        }
        if path.is_empty() {
            path.push('/');
        }
        path
    };

    Ok(EventDetail::Exec {
        filename: p.string(FILENAME, PATH_LEN)?,
        exepath,
        argv,
        argv_truncated: p.u8(12)? != 0,
        origin: ExeOrigin {
            upper_layer: p.u8(13)? != 0,
            memfd: p.u8(14)? != 0,
            tmpfs: p.u8(15)? != 0,
        },
        tty: p.u32(4)?,
        sid: p.u32(8)?,
        blocked: p.u8(16)? != 0,
        mnt_ns,
        // Already in the documented form (root first, "…" marker when cut); a name the kernel
        // could not read leaves an empty component, which parse_path skips.
        cgroup_path: p.string(CGROUP, CGROUP_PATH_LEN)?,
    })
}

fn socket_family(raw: u16) -> SocketFamily {
    match raw {
        AF_INET => SocketFamily::Inet,
        AF_INET6 => SocketFamily::Inet6,
        AF_UNIX => SocketFamily::Unix,
        other => SocketFamily::Other(other),
    }
}

fn l4proto(family: SocketFamily, sock_type: u16) -> L4Proto {
    if !matches!(family, SocketFamily::Inet | SocketFamily::Inet6) {
        return L4Proto::Unknown;
    }
    match sock_type {
        SOCK_STREAM => L4Proto::Tcp,
        SOCK_DGRAM => L4Proto::Udp,
        SOCK_RAW => L4Proto::Raw,
        _ => L4Proto::Unknown,
    }
}

/// An endpoint read from a `struct sock` (port already in host order).
fn sock_endpoint(family: u16, port: u16, addr: [u8; 16]) -> SocketAddress {
    match family {
        AF_INET => {
            let [a, b, c, d, ..] = addr;
            SocketAddress::Ip {
                addr: IpAddr::V4(Ipv4Addr::new(a, b, c, d)),
                port,
            }
        }
        AF_INET6 => SocketAddress::Ip {
            addr: IpAddr::V6(Ipv6Addr::from(addr)),
            port,
        },
        // The kernel program does not read Unix socket names from struct sock.
        AF_UNIX => SocketAddress::Unix {
            path: String::new(),
        },
        other => SocketAddress::Other { family: other },
    }
}

/// A `struct sockaddr` as the caller passed it (only `addrlen` bytes of it are meaningful).
fn decode_sockaddr(addr: &[u8]) -> (SocketFamily, SocketAddress) {
    let Some(family_bytes) = addr.get(..2).and_then(|b| <[u8; 2]>::try_from(b).ok()) else {
        return (SocketFamily::Other(0), SocketAddress::Other { family: 0 });
    };
    let raw_family = u16::from_ne_bytes(family_bytes);
    let family = socket_family(raw_family);
    let port = || {
        addr.get(2..4)
            .and_then(|b| <[u8; 2]>::try_from(b).ok())
            .map(u16::from_be_bytes)
    };
    let address = match raw_family {
        AF_INET => match (
            port(),
            addr.get(4..8).and_then(|b| <[u8; 4]>::try_from(b).ok()),
        ) {
            (Some(port), Some(ip)) => SocketAddress::Ip {
                addr: IpAddr::V4(Ipv4Addr::from(ip)),
                port,
            },
            _ => SocketAddress::Other { family: raw_family },
        },
        AF_INET6 => match (
            port(),
            addr.get(8..24).and_then(|b| <[u8; 16]>::try_from(b).ok()),
        ) {
            (Some(port), Some(ip)) => SocketAddress::Ip {
                addr: IpAddr::V6(Ipv6Addr::from(ip)),
                port,
            },
            _ => SocketAddress::Other { family: raw_family },
        },
        AF_UNIX => {
            let name = addr.get(2..).unwrap_or_default();
            // Abstract sockets start with a NUL; shown with a leading '@' as ss(8) and Falco do.
            let path = match name.split_first() {
                Some((0, rest)) => format!("@{}", c_string(rest)),
                _ => c_string(name),
            };
            SocketAddress::Unix { path }
        }
        other => SocketAddress::Other { family: other },
    };
    (family, address)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a record the way the kernel lays it out: header then payload.
    fn record(kind: u32, result: Option<i64>, payload: &[u8]) -> Vec<u8> {
        let mut bytes = vec![0u8; HEADER_LEN];
        bytes[0..4].copy_from_slice(&kind.to_ne_bytes());
        bytes[4..8].copy_from_slice(&3u32.to_ne_bytes());
        bytes[8..16].copy_from_slice(&123_456u64.to_ne_bytes());
        bytes[16..20].copy_from_slice(&4242u32.to_ne_bytes());
        bytes[20..24].copy_from_slice(&4243u32.to_ne_bytes());
        bytes[24..28].copy_from_slice(&1u32.to_ne_bytes());
        bytes[28..32].copy_from_slice(&1000u32.to_ne_bytes());
        bytes[32..36].copy_from_slice(&100u32.to_ne_bytes());
        bytes[36..40].copy_from_slice(&u32::MAX.to_ne_bytes());
        bytes[48..56].copy_from_slice(&4_026_531_841u64.to_ne_bytes());
        if let Some(result) = result {
            bytes[56..64].copy_from_slice(&result.to_ne_bytes());
            bytes[64..68].copy_from_slice(&1u32.to_ne_bytes());
        }
        bytes[72..76].copy_from_slice(b"bash");
        bytes.extend_from_slice(payload);
        bytes
    }

    fn put(buf: &mut [u8], offset: usize, bytes: &[u8]) {
        buf[offset..offset + bytes.len()].copy_from_slice(bytes);
    }

    #[test]
    fn decodes_header_fields() {
        let mut payload = vec![0u8; payload_len::EXIT];
        put(&mut payload, 0, &(-9i32).to_ne_bytes());
        let event = decode(&record(kind::EXIT, None, &payload)).unwrap();
        assert_eq!(event.task.pid, 4242);
        assert_eq!(event.task.tid, 4243);
        assert_eq!(event.task.uid, 1000);
        assert_eq!(event.task.gid, 100);
        assert_eq!(event.task.comm, "bash");
        assert_eq!(event.cpu, 3);
        assert_eq!(event.boot_ns, 123_456);
        assert_eq!(event.result, None);
        assert_eq!(event.detail, EventDetail::Exit { exit_code: -9 });
    }

    #[test]
    fn decodes_exec_with_argv_path_and_origin() {
        let mut payload = vec![0u8; payload_len::EXEC];
        let argv = b"sh\0-c\0id\0";
        put(&mut payload, 0, &(argv.len() as u32).to_ne_bytes());
        put(&mut payload, 4, &34816u32.to_ne_bytes());
        put(&mut payload, 8, &77u32.to_ne_bytes());
        payload[13] = 1; // upper layer
        payload[16] = 1; // blocked
        payload[17] = 3; // depth
        put(&mut payload, 20, b"/bin/sh");
        put(&mut payload, 20 + PATH_LEN, argv);
        let components = 20 + PATH_LEN + ARGS_LEN;
        put(&mut payload, components, b"busybox");
        put(&mut payload, components + COMPONENT_LEN, b"bin");
        put(&mut payload, components + 2 * COMPONENT_LEN, b"usr");
        let cgroup = components + COMPONENTS_MAX * COMPONENT_LEN;
        put(
            &mut payload,
            cgroup,
            "…/kubepods/besteffort/podx/abc".as_bytes(),
        );
        let event = decode(&record(kind::EXEC, None, &payload)).unwrap();
        let EventDetail::Exec {
            filename,
            exepath,
            argv,
            origin,
            tty,
            sid,
            blocked,
            mnt_ns,
            argv_truncated,
            cgroup_path,
        } = event.detail
        else {
            panic!("not an exec: {:?}", event.detail);
        };
        assert_eq!(filename, "/bin/sh");
        assert_eq!(exepath, "/usr/bin/busybox");
        assert_eq!(argv, vec!["sh", "-c", "id"]);
        assert!(!argv_truncated);
        assert!(origin.upper_layer && !origin.memfd && !origin.tmpfs);
        assert_eq!((tty, sid), (34816, 77));
        assert!(blocked);
        assert_eq!(mnt_ns, 4_026_531_841);
        assert_eq!(cgroup_path, "…/kubepods/besteffort/podx/abc");
    }

    #[test]
    fn cgroup_path_is_cut_at_its_field_and_lossy() {
        let mut payload = vec![0u8; payload_len::EXEC];
        let cgroup = payload_len::EXEC - CGROUP_PATH_LEN;
        // No NUL anywhere in the field, invalid UTF-8 inside: decoded up to the field's end.
        payload[cgroup..].fill(b'a');
        payload[cgroup + 1] = 0xff;
        let event = decode(&record(kind::EXEC, None, &payload)).unwrap();
        let EventDetail::Exec { cgroup_path, .. } = event.detail else {
            panic!("not an exec: {:?}", event.detail);
        };
        assert_eq!(cgroup_path.chars().count(), CGROUP_PATH_LEN);
        assert!(cgroup_path.starts_with("a\u{fffd}a"));
        // One byte short of the layout is a truncated record, not a shorter path.
        assert!(matches!(
            decode(&record(kind::EXEC, None, &payload[..payload_len::EXEC - 1])),
            Err(WireError::Truncated { .. })
        ));
    }

    #[test]
    fn truncated_exe_walk_gives_no_exepath() {
        let mut payload = vec![0u8; payload_len::EXEC];
        payload[17] = 16;
        payload[18] = 1;
        let event = decode(&record(kind::EXEC, None, &payload)).unwrap();
        assert!(
            matches!(event.detail, EventDetail::Exec { ref exepath, .. } if exepath.is_empty())
        );
    }

    #[test]
    fn decodes_connect_ipv4_with_result() {
        let mut payload = vec![0u8; payload_len::SOCKADDR];
        put(&mut payload, 0, &5i32.to_ne_bytes());
        put(&mut payload, 4, &16u32.to_ne_bytes());
        put(&mut payload, 8, &SOCK_STREAM.to_ne_bytes());
        put(&mut payload, 16, &AF_INET.to_ne_bytes());
        put(&mut payload, 18, &4444u16.to_be_bytes());
        put(&mut payload, 20, &[127, 0, 0, 1]);
        let event = decode(&record(kind::CONNECT, Some(-115), &payload)).unwrap();
        assert_eq!(event.result, Some(-115));
        assert_eq!(
            event.detail,
            EventDetail::Connect {
                fd: 5,
                family: SocketFamily::Inet,
                l4proto: L4Proto::Tcp,
                remote: SocketAddress::Ip {
                    addr: IpAddr::V4(Ipv4Addr::LOCALHOST),
                    port: 4444
                },
            }
        );
    }

    #[test]
    fn decodes_ipv6_and_abstract_unix_sockaddrs() {
        let mut v6 = vec![0u8; 28];
        put(&mut v6, 0, &AF_INET6.to_ne_bytes());
        put(&mut v6, 2, &443u16.to_be_bytes());
        put(&mut v6, 8, &Ipv6Addr::LOCALHOST.octets());
        assert_eq!(
            decode_sockaddr(&v6),
            (
                SocketFamily::Inet6,
                SocketAddress::Ip {
                    addr: IpAddr::V6(Ipv6Addr::LOCALHOST),
                    port: 443
                }
            )
        );
        let mut unix = AF_UNIX.to_ne_bytes().to_vec();
        unix.extend_from_slice(b"\0dbus-1\0");
        assert_eq!(
            decode_sockaddr(&unix).1,
            SocketAddress::Unix {
                path: "@dbus-1".into()
            }
        );
        assert_eq!(
            decode_sockaddr(&[1]),
            (SocketFamily::Other(0), SocketAddress::Other { family: 0 })
        );
    }

    #[test]
    fn decodes_setid_ids_in_order() {
        let mut payload = vec![0u8; payload_len::SETID];
        put(&mut payload, 0, &2u32.to_ne_bytes());
        put(&mut payload, 4, &3u32.to_ne_bytes());
        put(&mut payload, 8, &0u32.to_ne_bytes());
        put(&mut payload, 12, &u32::MAX.to_ne_bytes());
        put(&mut payload, 16, &5u32.to_ne_bytes());
        let event = decode(&record(kind::SETID, None, &payload)).unwrap();
        assert_eq!(
            event.detail,
            EventDetail::SetId {
                syscall: SetIdSyscall::Setresuid,
                ids: vec![0, u32::MAX, 5]
            }
        );
    }

    #[test]
    fn short_and_unknown_records_are_errors() {
        assert!(matches!(
            decode(&[0u8; 10]),
            Err(WireError::Truncated { .. })
        ));
        assert_eq!(
            decode(&record(99, None, &[])),
            Err(WireError::UnknownKind(99))
        );
        // An exec header without its payload.
        assert!(matches!(
            decode(&record(kind::EXEC, None, &[0u8; 40])),
            Err(WireError::Truncated { .. })
        ));
        let mut open = vec![0u8; payload_len::OPEN];
        put(&mut open, 0, &9u32.to_ne_bytes());
        assert!(matches!(
            decode(&record(kind::OPEN, Some(3), &open)),
            Err(WireError::UnknownValue { .. })
        ));
    }

    #[test]
    fn every_kind_survives_garbage_payloads() {
        // A deterministic byte pattern, long enough for every layout, must decode or error but
        // never panic, whatever the counts and lengths inside say.
        let garbage: Vec<u8> = (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for kind in 1..=23 {
            for len in [0, 7, 8, 16, 48, 300, 600, 4096 - HEADER_LEN] {
                let _ = decode(&record(kind, Some(-1), &garbage[..len]));
            }
        }
        let decoded = decode(&record(kind::EXEC, None, &garbage[..payload_len::EXEC]));
        assert!(decoded.is_ok());
    }

    #[test]
    fn drift_hash_ignores_redundant_slashes() {
        assert_eq!(
            drift_path_hash("/usr/bin/x"),
            drift_path_hash("/usr//bin/x/")
        );
        assert_ne!(drift_path_hash("/usr/bin/x"), drift_path_hash("/usr/bin/y"));
        // FNV-1a of "/a", computed by hand.
        let expected = ((0xcbf2_9ce4_8422_2325u64 ^ 0x2f).wrapping_mul(0x0100_0000_01b3) ^ 0x61)
            .wrapping_mul(0x0100_0000_01b3);
        assert_eq!(drift_path_hash("/a"), expected);
    }
}
