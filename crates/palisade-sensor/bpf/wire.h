/* The ring-buffer record layout shared by the kernel programs and src/bpf/wire.rs.
 *
 * Every record starts with struct event_header; `kind` says which payload follows. All integers are
 * in host byte order except the network-order ports and addresses inside raw sockaddrs. Strings are
 * fixed-size, NUL-terminated when shorter than their buffer. Changing anything here means changing
 * wire.rs: the Rust side checks each record's size against these layouts before reading it.
 */
#ifndef PALISADE_WIRE_H
#define PALISADE_WIRE_H

enum event_kind {
	KIND_EXEC = 1,
	KIND_FORK = 2,
	KIND_EXIT = 3,
	KIND_OPEN = 4,
	KIND_CONNECT = 5,
	KIND_ACCEPT = 6,
	KIND_BIND = 7,
	KIND_LISTEN = 8,
	KIND_PTRACE = 9,
	KIND_SETID = 10,
	KIND_CAPSET = 11,
	KIND_MODULE = 12,
	KIND_MEMFD = 13,
	KIND_MOUNT = 14,
	KIND_UMOUNT = 15,
	KIND_UNSHARE = 16,
	KIND_SETNS = 17,
	KIND_DUP = 18,
	KIND_UNLINK = 19,
	KIND_RENAME = 20,
	KIND_TRUNCATE = 21,
	KIND_UTIMENS = 22,
	KIND_BPF = 23,
};

#define PATH_MAX_WIRE 256
#define ARGS_MAX_WIRE 1024
#define COMPONENTS_MAX 16
#define COMPONENT_LEN 64
#define SOCKADDR_MAX 112
#define PARAMS_MAX 128
/* The task's cgroup path tail: up to CGROUP_DEPTH_MAX components of at most COMPONENT_LEN - 1
 * bytes each, "/" before each, after a 3-byte UTF-8 "\u2026" marker when deeper components were
 * left out, then a NUL: 3 + 4 * 64 + 1 = 260, rounded up to a multiple of 8. */
#define CGROUP_DEPTH_MAX 4
#define CGROUP_PATH_WIRE 264

struct event_header {
	u32 kind;
	u32 cpu;
	u64 boot_ns;
	u32 pid;
	u32 tid;
	u32 ppid;
	u32 uid;
	u32 gid;
	u32 loginuid;
	u64 cgroup_id;
	/* Inode number of the task's mount namespace: the drift-policy key (see sensor.bpf.c). */
	u64 mnt_ns;
	s64 result;
	u32 has_result;
	u32 reserved;
	char comm[16];
};

struct exec_payload {
	u32 argv_len;
	u32 tty;
	u32 sid;
	u8 argv_truncated;
	u8 upper_layer;
	u8 memfd;
	u8 tmpfs;
	u8 blocked;
	/* Number of filled entries of `components`, leaf first. */
	u8 depth;
	/* The dentry walk stopped at COMPONENTS_MAX before reaching the root. */
	u8 path_truncated;
	u8 reserved;
	char filename[PATH_MAX_WIRE];
	char argv[ARGS_MAX_WIRE];
	char components[COMPONENTS_MAX][COMPONENT_LEN];
	/* The task's cgroup after the exec, root first: "/palisade-test/box", "/" for a root cgroup,
	 * "\u2026/b/c/d/leaf" (the marker, then the last CGROUP_DEPTH_MAX components) when the path
	 * is deeper, empty when unknown. Which hierarchy: see task_cgroup() in sensor.bpf.c. */
	char cgroup[CGROUP_PATH_WIRE];
};

struct fork_payload {
	u32 child_pid;
	u32 reserved;
	u64 clone_flags;
};

struct exit_payload {
	s32 exit_code;
	u32 reserved;
};

struct open_payload {
	u32 syscall; /* 0 open, 1 openat, 2 openat2, 3 creat */
	u32 flags;
	u32 mode;
	u32 reserved;
	char path[PATH_MAX_WIRE];
};

/* connect and bind: the sockaddr exactly as the caller passed it. */
struct sockaddr_payload {
	s32 fd;
	u32 addrlen;
	u16 sock_type;
	u16 reserved[3];
	u8 addr[SOCKADDR_MAX];
};

/* accept/accept4: both ends read from the new socket's struct sock. */
struct accept_payload {
	s32 fd;
	u16 family;
	u16 sock_type;
	u16 local_port;  /* host order */
	u16 remote_port; /* host order */
	u32 reserved;
	u8 local_addr[16];
	u8 remote_addr[16];
};

struct listen_payload {
	s32 fd;
	s32 backlog;
};

struct ptrace_payload {
	s64 request;
	u32 target_pid;
	u32 reserved;
};

struct setid_payload {
	u32 syscall; /* index into the SETID_* list of wire.rs */
	u32 count;
	u32 ids[3];
	u32 reserved;
};

struct capset_payload {
	u64 effective;
	u64 permitted;
	u64 inheritable;
};

struct module_payload {
	u32 from_fd;
	u32 reserved;
	char params[PARAMS_MAX];
};

struct memfd_payload {
	u32 flags;
	u32 reserved;
	char name[PATH_MAX_WIRE];
};

struct mount_payload {
	u64 flags;
	char fstype[32];
	char source[PATH_MAX_WIRE];
	char target[PATH_MAX_WIRE];
};

struct umount_payload {
	u32 flags;
	u32 reserved;
	char target[PATH_MAX_WIRE];
};

struct flags_payload {
	u64 flags;
};

struct setns_payload {
	s32 fd;
	u32 nstype;
};

struct dup_payload {
	s32 oldfd;
	s32 newfd;
	u8 socket;
	u8 reserved;
	u16 family;
	u16 remote_port; /* host order */
	u16 reserved2;
	u8 remote_addr[16];
};

/* unlink, truncate, utimensat */
struct path_payload {
	s64 length;
	char path[PATH_MAX_WIRE];
};

struct rename_payload {
	char old_path[PATH_MAX_WIRE];
	char new_path[PATH_MAX_WIRE];
};

struct bpf_payload {
	u32 cmd;
	u32 reserved;
};

/* wire.rs hard-codes these sizes (payload_len) and the offsets inside them: a layout change
 * that is not mirrored there must stop the build here rather than garble every event. */
_Static_assert(sizeof(struct event_header) == 88, "event_header layout (wire.rs HEADER_LEN)");
_Static_assert(sizeof(struct exec_payload) ==
		       20 + PATH_MAX_WIRE + ARGS_MAX_WIRE + COMPONENTS_MAX * COMPONENT_LEN + CGROUP_PATH_WIRE,
	       "exec_payload layout");
_Static_assert(sizeof(struct fork_payload) == 16, "fork_payload layout");
_Static_assert(sizeof(struct exit_payload) == 8, "exit_payload layout");
_Static_assert(sizeof(struct open_payload) == 16 + PATH_MAX_WIRE, "open_payload layout");
_Static_assert(sizeof(struct sockaddr_payload) == 16 + SOCKADDR_MAX, "sockaddr_payload layout");
_Static_assert(sizeof(struct accept_payload) == 48, "accept_payload layout");
_Static_assert(sizeof(struct listen_payload) == 8, "listen_payload layout");
_Static_assert(sizeof(struct ptrace_payload) == 16, "ptrace_payload layout");
_Static_assert(sizeof(struct setid_payload) == 24, "setid_payload layout");
_Static_assert(sizeof(struct capset_payload) == 24, "capset_payload layout");
_Static_assert(sizeof(struct module_payload) == 8 + PARAMS_MAX, "module_payload layout");
_Static_assert(sizeof(struct memfd_payload) == 8 + PATH_MAX_WIRE, "memfd_payload layout");
_Static_assert(sizeof(struct mount_payload) == 8 + 32 + 2 * PATH_MAX_WIRE, "mount_payload layout");
_Static_assert(sizeof(struct umount_payload) == 8 + PATH_MAX_WIRE, "umount_payload layout");
_Static_assert(sizeof(struct flags_payload) == 8, "flags_payload layout");
_Static_assert(sizeof(struct setns_payload) == 8, "setns_payload layout");
_Static_assert(sizeof(struct dup_payload) == 32, "dup_payload layout");
_Static_assert(sizeof(struct path_payload) == 8 + PATH_MAX_WIRE, "path_payload layout");
_Static_assert(sizeof(struct rename_payload) == 2 * PATH_MAX_WIRE, "rename_payload layout");
_Static_assert(sizeof(struct bpf_payload) == 8, "bpf_payload layout");

#endif
