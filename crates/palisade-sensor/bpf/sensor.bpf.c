// SPDX-License-Identifier: GPL-2.0
/* Palisade node sensor: kernel programs.
 *
 * Only tracepoints (classic syscall tracepoints and raw tracepoints) are used because the kernels
 * we target may have neither kprobes, fentry nor BPF-LSM. Every record goes to ONE ring buffer and
 * is committed without a wakeup: userspace polls on a short interval, so an event storm costs no
 * per-event wakeup; a wakeup is forced only when the ring is more than half full so a sleeping
 * reader never lets it overflow silently. Records that cannot be reserved are counted per CPU.
 *
 * Drift policy is keyed by the inode number of the task's MOUNT namespace
 * (task->nsproxy->mnt_ns->ns.inum, what userspace reads as stat(/proc/<pid>/ns/mnt).st_ino):
 * bpf_get_current_cgroup_id() only means something on cgroup v2, and on v1/hybrid hosts it is the
 * root's id for every task. Every OCI container gets its own mount namespace (its rootfs needs
 * one), containers of one pod do not share it (unlike the PID namespace with
 * shareProcessNamespace), and host processes share the host's, so it names exactly one container.
 */
#include "vmlinux_min.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "wire.h"

char LICENSE[] SEC("license") = "GPL";

#define BPF_MAP_TYPE_LRU_HASH 9

#define O_WRONLY 01
#define O_RDWR 02
#define O_CREAT 0100
#define O_TRUNC 01000
#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define SIGKILL 9
#define PIDTYPE_SID 3

#define OVERLAYFS_SUPER_MAGIC 0x794c7630
#define TMPFS_MAGIC 0x01021994
/* Internal (kern_mount) mounts, such as the one memfd files live on, have this as mnt_ns. */
#define MNT_NS_INTERNAL ((void *)-22L)

#if defined(__TARGET_ARCH_arm64)
#define NR_INIT_MODULE 105
#define NR_FINIT_MODULE 273
#else
#define NR_INIT_MODULE 175
#define NR_FINIT_MODULE 313
#endif

/* ---- maps ---- */

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	/* The loader overrides this from ProbeOptions::ring_bytes. */
	__uint(max_entries, 8 * 1024 * 1024);
} events SEC(".maps");

/* Index 0: records that could not be reserved (ring full). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, u32);
	__type(value, u64);
} drops SEC(".maps");

/* Thread group IDs whose activity is ignored (the sensor itself). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, u32);
	__type(value, u8);
} ignore_pids SEC(".maps");

/* Path prefixes as an LPM trie: one lookup finds whether any stored prefix starts the path. */
struct path_key {
	u32 prefixlen; /* in bits */
	char path[PATH_MAX_WIRE];
};

/* Reads of these prefixes are reported (writes are reported everywhere). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, u8);
} read_prefixes SEC(".maps");

/* A first, cheap filter in front of read_prefixes: one bit per hash of a path's first four bytes
 * (READ_LEAD_BITS buckets), set by user space for every stored prefix. A read whose lead is not in
 * it cannot be under any prefix and is dropped after a four-byte copy, before the string copy and
 * the trie walk that cost most of an open's time; a collision only sends a read on to the trie. */
#define READ_LEAD_BITS 65536
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, READ_LEAD_BITS / 64);
	__type(key, u32);
	__type(value, u64);
} read_leads SEC(".maps");

/* unlink/rename/truncate/utimensat of these prefixes are reported (logs, shell history). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(max_entries, 256);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct path_key);
	__type(value, u8);
} watched_prefixes SEC(".maps");

/* mount namespace inum -> 1 when drift executables must be killed. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, u64);
	__type(value, u32);
} drift_policy SEC(".maps");

/* (mount namespace inum, FNV-1a 64 of the executable's path) allowed despite being drift. */
struct drift_allow_key {
	u64 mnt_ns;
	u64 path_hash;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct drift_allow_key);
	__type(value, u8);
} drift_allow SEC(".maps");

/* Per-CPU scratch space: a path plus the LPM key prefix, too large for the 512-byte stack. */
struct open_pending {
	struct path_key key;
	u32 syscall;
	u32 flags;
	u32 mode;
	u32 reserved;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, u32);
	__type(value, struct open_pending);
} scratch SEC(".maps");

/* Opens and connects seen at entry and waiting for their result at exit, by thread ID. LRU so that
 * an entry whose exit never comes (the thread died in the syscall) cannot fill the map. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);
	__type(value, struct open_pending);
} pending_open SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);
	__type(value, struct sockaddr_payload);
} pending_connect SEC(".maps");

/* clone flags of the thread currently inside clone/clone3, read by the fork tracepoint (which
 * does not carry them). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, u32);
	__type(value, u64);
} pending_clone SEC(".maps");

/* ---- syscall tracepoint contexts (the layout of events/syscalls/sys_{enter,exit}_* format) ---- */

struct syscall_enter_ctx {
	u64 common;
	long nr;
	unsigned long args[6];
};

struct syscall_exit_ctx {
	u64 common;
	long nr;
	long ret;
};

/* ---- helpers ---- */

/* The hot programs (open, connect, accept) fetch the current task once and pass it to the
 * `_of` variants below: every helper call costs ~10 ns under retpolines and return thunks. */
/* The sensor's own thread group ID, and whether ignore_pids holds any other: set by the loader so
 * that the common case (ignore only ourselves) is a compare, not a hash lookup per event. The
 * defaults (0, 1) make an unset object fall back to the map. */
const volatile u32 own_tgid = 0;
const volatile u32 other_ignored = 1;

static __always_inline bool ignored_tgid(u32 tgid)
{
	if (own_tgid && tgid == own_tgid)
		return true;
	if (!other_ignored)
		return false;
	return bpf_map_lookup_elem(&ignore_pids, &tgid) != NULL;
}

static __always_inline bool ignored(void)
{
	return ignored_tgid(bpf_get_current_pid_tgid() >> 32);
}

static __always_inline void count_drop(void)
{
	u32 zero = 0;
	u64 *count = bpf_map_lookup_elem(&drops, &zero);
	if (count)
		__sync_fetch_and_add(count, 1);
}

static __always_inline void *reserve(u64 size)
{
	void *record = bpf_ringbuf_reserve(&events, size, 0);
	if (!record)
		count_drop();
	return record;
}

/* Half the ring's size, set by the loader (it sizes the ring); 0 asks the ring. */
const volatile u64 ring_half = 0;

/* Commit without waking the reader unless the ring is filling up (see the file comment). */
static __always_inline void submit(void *record)
{
	u64 available = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA);
	u64 half = ring_half ? ring_half : bpf_ringbuf_query(&events, BPF_RB_RING_SIZE) / 2;
	bpf_ringbuf_submit(record, available > half ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

/* `task` is the current task from bpf_get_current_task_btf (5.11+, below the 5.17 bpf_loop
 * floor): the BTF-typed pointer lets the members below be plain loads (which the verifier guards
 * against faults) instead of one bpf_probe_read_kernel call per pointer hop. */
static __always_inline void fill_header_of(struct event_header *h, u32 kind, struct task_struct *task)
{

	h->kind = kind;
	h->cpu = bpf_get_smp_processor_id();
	h->boot_ns = bpf_ktime_get_boot_ns();
	/* What bpf_get_current_pid_tgid/uid_gid/comm return, as loads rather than helper calls
	 * (a helper call is ~10 ns with this kernel's return-thunk mitigations, and this runs for
	 * every record). uid/gid are the real ones, as bpf_get_current_uid_gid gives. */
	h->pid = task->tgid;
	h->tid = task->pid;
	h->ppid = task->real_parent->tgid;
	const struct cred *cred = task->cred;
	h->uid = cred->uid.val;
	h->gid = cred->gid.val;
	/* loginuid only exists with CONFIG_AUDIT; -1 is what the kernel shows when unset. */
	h->loginuid = (u32)-1;
	if (bpf_core_field_exists(task->loginuid))
		h->loginuid = task->loginuid.val;
	/* What bpf_get_current_cgroup_id returns (the unified hierarchy's cgroup's kernfs ID). */
	h->cgroup_id = task->cgroups->dfl_cgrp->kn->id;
	h->mnt_ns = task->nsproxy->mnt_ns->ns.inum;
	h->result = 0;
	h->has_result = 0;
	h->reserved = 0;
	/* Two 8-byte loads of the 16-byte comm, as bpf_get_current_comm copies it. */
	u64 comm[2] = {*(u64 *)&task->comm[0], *(u64 *)&task->comm[8]};
	__builtin_memcpy(h->comm, comm, sizeof(comm));
}

static __always_inline void fill_header(struct event_header *h, u32 kind)
{
	fill_header_of(h, kind, bpf_get_current_task_btf());
}

/* How most programs open their record: nothing for an ignored process or a full ring, else a
 * reserved record of `size` bytes with its header filled in. */
static __always_inline void *start_record(u64 size, u32 kind)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (ignored_tgid(task->tgid))
		return NULL;
	struct event_header *h = reserve(size);
	if (!h)
		return NULL;
	fill_header_of(h, kind, task);
	return h;
}

static __always_inline struct path_key *scratch_key(u32 slot)
{
	struct open_pending *entry = bpf_map_lookup_elem(&scratch, &slot);
	return entry ? &entry->key : NULL;
}

/* Whether a read of `upath` may be under a sensitive prefix (see read_leads). The bytes after a
 * NUL in the first four are masked off, as user space does for prefixes shorter than four. A path
 * whose first four bytes cannot be read goes on to the full check. */
static __always_inline bool read_lead_may_match(const char *upath)
{
	u32 lead = 0;
	if (bpf_probe_read_user(&lead, sizeof(lead), upath))
		return true;
	if ((lead & 0xff) == 0)
		lead = 0;
	else if ((lead & 0xff00) == 0)
		lead &= 0xff;
	else if ((lead & 0xff0000) == 0)
		lead &= 0xffff;
	u32 bucket = (lead * 2654435761u) >> 16;
	u32 word = bucket / 64;
	u64 *bits = bpf_map_lookup_elem(&read_leads, &word);
	return bits && (*bits & (1ULL << (bucket % 64)));
}

/* Copies a user path into `key` and sets its prefix length; false when unreadable or empty. */
static __always_inline bool read_user_path(struct path_key *key, const char *upath)
{
	long len = bpf_probe_read_user_str(key->path, sizeof(key->path), upath);
	if (len <= 1) {
		key->prefixlen = 0;
		key->path[0] = 0;
		return false;
	}
	key->prefixlen = (u32)(len - 1) * 8;
	return true;
}

static __always_inline struct file *fd_file_of(struct task_struct *task, long fd)
{
	/* Plain loads through the BTF-typed task (see fill_header_of); the table slot itself is read
	 * with a helper because its index is only known at run time. */
	struct fdtable *fdt = task->files->fdt;
	unsigned int max_fds = fdt->max_fds;
	if (fd < 0 || fd >= max_fds)
		return NULL;
	struct file **table = fdt->fd;
	struct file *file = NULL;
	bpf_probe_read_kernel(&file, sizeof(file), &table[fd]);
	return file;
}

/* The socket behind `fd`, NULL when it is not one. `known_socket`: the syscall's result already
 * proves it is one, so the file's inode is not read to check. */
static __always_inline struct socket *fd_socket(struct task_struct *task, long fd, bool known_socket)
{
	struct file *file = fd_file_of(task, fd);
	if (!file)
		return NULL;
	if (!known_socket) {
		unsigned short mode = BPF_CORE_READ(file, f_inode, i_mode);
		if ((mode & S_IFMT) != S_IFSOCK)
			return NULL;
	}
	return BPF_CORE_READ(file, private_data);
}

#define EBADF 9
#define EFAULT 14
#define EINVAL 22
#define ENOTSOCK 88

#define AF_INET 2
#define AF_INET6 10

/* Each probe read costs a helper call with fault handling (~10 ns), and accept and connect
 * run on every connection of the node: the fields below are read as one block each where they sit
 * together (offsets from CO-RE, so the block follows the running kernel's layout), falling back
 * to a read per field should a kernel ever spread them further apart than the block. */
#define FIELD_BLOCK_MAX 40

/* The `struct sock *` and type of a socket, in one read. */
static __always_inline struct sock *socket_sk(struct socket *sock, u16 *type)
{
	u32 type_off = bpf_core_field_offset(sock->type);
	u32 sk_off = bpf_core_field_offset(sock->sk);
	u8 block[FIELD_BLOCK_MAX];
	if (type_off + 2 > FIELD_BLOCK_MAX || sk_off + 8 > FIELD_BLOCK_MAX) {
		*type = BPF_CORE_READ(sock, type);
		return BPF_CORE_READ(sock, sk);
	}
	u32 size = (type_off > sk_off ? type_off + 2 : sk_off + 8);
	if (bpf_probe_read_kernel(block, size, sock)) {
		*type = 0;
		return NULL;
	}
	struct sock *sk = NULL;
	__builtin_memcpy(type, block + type_off, 2);
	__builtin_memcpy(&sk, block + sk_off, 8);
	return sk;
}

/* An IP socket's ends, ports in host order: the local (bound) end into local_*, the peer into
 * remote_* (either pointer may be NULL). IPv4 addresses, ports and the family are one block at the
 * start of sock_common; IPv6 addresses are read only for IPv6 sockets. */
static __always_inline void sock_endpoints(struct sock *sk, u16 *family, u16 *local_port, u8 *local_addr,
					   u16 *remote_port, u8 *remote_addr)
{
	u32 daddr_off = bpf_core_field_offset(sk->__sk_common.skc_daddr);
	u32 saddr_off = bpf_core_field_offset(sk->__sk_common.skc_rcv_saddr);
	u32 dport_off = bpf_core_field_offset(sk->__sk_common.skc_dport);
	u32 num_off = bpf_core_field_offset(sk->__sk_common.skc_num);
	u32 family_off = bpf_core_field_offset(sk->__sk_common.skc_family);
	u16 fam = 0, num = 0, dport = 0;
	u32 daddr = 0, saddr = 0;
	u8 block[FIELD_BLOCK_MAX] = {};
	if (daddr_off + 4 <= FIELD_BLOCK_MAX && saddr_off + 4 <= FIELD_BLOCK_MAX && dport_off + 2 <= FIELD_BLOCK_MAX &&
	    num_off + 2 <= FIELD_BLOCK_MAX && family_off + 2 <= FIELD_BLOCK_MAX) {
		bpf_probe_read_kernel(block, FIELD_BLOCK_MAX, sk);
		__builtin_memcpy(&daddr, block + daddr_off, 4);
		__builtin_memcpy(&saddr, block + saddr_off, 4);
		__builtin_memcpy(&dport, block + dport_off, 2);
		__builtin_memcpy(&num, block + num_off, 2);
		__builtin_memcpy(&fam, block + family_off, 2);
	} else {
		fam = BPF_CORE_READ(sk, __sk_common.skc_family);
		num = BPF_CORE_READ(sk, __sk_common.skc_num);
		dport = BPF_CORE_READ(sk, __sk_common.skc_dport);
		daddr = BPF_CORE_READ(sk, __sk_common.skc_daddr);
		saddr = BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr);
	}
	*family = fam;
	if (local_port)
		*local_port = num;
	if (remote_port)
		*remote_port = __builtin_bswap16(dport);
	if (local_addr)
		__builtin_memset(local_addr, 0, 16);
	if (remote_addr)
		__builtin_memset(remote_addr, 0, 16);
	if (fam == AF_INET) {
		if (local_addr)
			__builtin_memcpy(local_addr, &saddr, 4);
		if (remote_addr)
			__builtin_memcpy(remote_addr, &daddr, 4);
	} else if (fam == AF_INET6) {
		/* Sized explicitly: BPF_CORE_READ_INTO reads sizeof(*dst), one byte through a u8 *. */
		if (local_addr)
			bpf_core_read(local_addr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
		if (remote_addr)
			bpf_core_read(remote_addr, 16, &sk->__sk_common.skc_v6_daddr);
	}
}

/* ---- process lifecycle ---- */

struct exec_record {
	struct event_header h;
	struct exec_payload p;
};

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME 0x100000001b3ULL

/* FNV-1a of "/c[n-1]/.../c[0]" (components are stored leaf first), matching drift_path_hash in
 * wire.rs, so that userspace can name allowed executables by path. The loops run under bpf_loop
 * because unrolled or verifier-simulated, a walk of 16 components x 64 bytes exceeds the
 * verifier's instruction budget. */
struct hash_ctx {
	struct exec_payload *p;
	u64 hash;
};

static long hash_component(u32 index, void *data)
{
	struct hash_ctx *ctx = data;
	struct exec_payload *p = ctx->p;
	u32 depth = p->depth;
	if (index >= depth)
		return 1;
	/* Root first: the last recorded component is the top directory. */
	u32 i = (depth - 1 - index) & (COMPONENTS_MAX - 1);
	u64 hash = (ctx->hash ^ '/') * FNV_PRIME;
	for (int j = 0; j < COMPONENT_LEN; j++) {
		char c = p->components[i][j];
		if (!c)
			break;
		hash = (hash ^ (u8)c) * FNV_PRIME;
	}
	ctx->hash = hash;
	return 0;
}

static __always_inline u64 exe_path_hash(struct exec_payload *p)
{
	struct hash_ctx ctx = { .p = p, .hash = FNV_OFFSET };
	bpf_loop(COMPONENTS_MAX, hash_component, &ctx, 0);
	return ctx.hash;
}

/* Walks from the executable's dentry up to its mount namespace's root, crossing mount points,
 * recording the name of each component (d_path is not callable from tracepoints). */
struct walk_ctx {
	struct exec_payload *p;
	struct mount *mnt;
	struct dentry *dentry;
	u32 depth;
	u32 done;
};

static long walk_step(u32 index, void *data)
{
	struct walk_ctx *ctx = data;
	struct mount *mnt = ctx->mnt;
	struct dentry *dentry = ctx->dentry;
	struct dentry *root = BPF_CORE_READ(mnt, mnt.mnt_root);
	struct dentry *parent = BPF_CORE_READ(dentry, d_parent);
	bool last = false;
	/* A pseudo file (memfd, anonymous inode) has a detached dentry, its own parent, that is not
	 * the mount's root: its name is the whole path, as d_path shows it. */
	if (dentry == parent && dentry != root)
		last = true;
	else if (dentry == root || dentry == parent) {
		struct mount *up = BPF_CORE_READ(mnt, mnt_parent);
		if (!up || up == mnt) {
			ctx->done = 1;
			return 1;
		}
		ctx->dentry = BPF_CORE_READ(mnt, mnt_mountpoint);
		ctx->mnt = up;
		return 0;
	}
	if (ctx->depth >= COMPONENTS_MAX)
		return 1;
	const unsigned char *name = BPF_CORE_READ(dentry, d_name.name);
	bpf_probe_read_kernel_str(ctx->p->components[ctx->depth & (COMPONENTS_MAX - 1)], COMPONENT_LEN, name);
	ctx->depth++;
	ctx->dentry = parent;
	if (last) {
		ctx->done = 1;
		return 1;
	}
	return 0;
}

static __always_inline void exe_components(struct exec_payload *p, struct file *file)
{
	struct vfsmount *vfsmnt = BPF_CORE_READ(file, f_path.mnt);
	struct walk_ctx ctx = {
		.p = p,
		.mnt = (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt)),
		.dentry = BPF_CORE_READ(file, f_path.dentry),
		.depth = 0,
		.done = 0,
	};
	/* Up to 8 mount crossings besides the components. */
	bpf_loop(COMPONENTS_MAX + 8, walk_step, &ctx, 0);
	p->depth = ctx.depth;
	p->path_truncated = !ctx.done;
}

static __always_inline void exe_origin(struct exec_payload *p, struct file *file)
{
	struct inode *inode = BPF_CORE_READ(file, f_inode);
	unsigned long magic = BPF_CORE_READ(inode, i_sb, s_magic);

	p->upper_layer = 0;
	p->memfd = 0;
	p->tmpfs = 0;
	if (magic == OVERLAYFS_SUPER_MAGIC) {
		/* struct ovl_inode embeds the VFS inode and keeps the upper dentry right after it; that
		 * member is set only when the file exists in the writable upper layer (written or
		 * copied up after the container started). overlayfs may be a module without BTF in
		 * vmlinux, so the address is derived from the size of struct inode. */
		struct dentry *upper = NULL;
		u64 inode_size = bpf_core_type_size(struct inode);
		bpf_probe_read_kernel(&upper, sizeof(upper), (void *)inode + inode_size);
		p->upper_layer = upper != NULL;
	} else if (magic == TMPFS_MAGIC) {
		struct vfsmount *vfsmnt = BPF_CORE_READ(file, f_path.mnt);
		struct mount *mnt = (struct mount *)((void *)vfsmnt - bpf_core_field_offset(struct mount, mnt));
		void *ns = BPF_CORE_READ(mnt, mnt_ns);
		char prefix[6] = {};
		const unsigned char *name = BPF_CORE_READ(file, f_path.dentry, d_name.name);
		bpf_probe_read_kernel(prefix, sizeof(prefix), name);
		/* memfd files live on the kernel-internal shm mount and are named "memfd:<name>". */
		bool internal = ns == NULL || ns == MNT_NS_INTERNAL;
		if (internal && prefix[0] == 'm' && prefix[1] == 'e' && prefix[2] == 'm' && prefix[3] == 'f' &&
		    prefix[4] == 'd' && prefix[5] == ':')
			p->memfd = 1;
		else
			p->tmpfs = 1;
	}
}

static __always_inline u32 tty_nr(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	u32 major = BPF_CORE_READ(tty, driver, major);
	u32 minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	/* new_encode_dev(), as /proc/<pid>/stat shows tty_nr. */
	return (minor & 0xff) | (major << 8) | ((minor & ~0xffU) << 12);
}

static __always_inline struct kernfs_node *kn_parent(struct kernfs_node *kn)
{
	if (bpf_core_field_exists(kn->__parent))
		return BPF_CORE_READ(kn, __parent);
	return BPF_CORE_READ(kn, parent);
}

/* The task's cgroup in the controller hierarchy of `id` when that controller is mounted as cgroup
 * v1 (its cgroup is in another hierarchy than the unified one), else NULL. */
static __always_inline struct cgroup *v1_cgroup(struct css_set *cset, struct cgroup *dfl, s64 id)
{
	if (id < 0 || id >= CGROUP_SUBSYS_MAX)
		return NULL;
	struct cgroup_subsys_state *css = NULL;
	bpf_core_read(&css, sizeof(css), &cset->subsys[id]);
	struct cgroup *cgrp = BPF_CORE_READ(css, cgroup);
	if (!cgrp || BPF_CORE_READ(cgrp, root) == BPF_CORE_READ(dfl, root))
		return NULL;
	return cgrp;
}

/* Which cgroup names the task's container. Userspace used to read /proc/<pid>/cgroup for this, but
 * a short-lived process (`kubectl exec pod -- cat /etc/shadow`) is often gone by then and would be
 * attributed to the host, so the exec record carries the path itself.
 *
 * The order follows CgroupRules::from_proc_cgroup: the v1 `pids` hierarchy (then `memory` on a
 * kernel without the pids controller) first, because every runtime creates the container's
 * cgroup there to enforce its limits, while on hybrid hosts the unified hierarchy belongs to
 * systemd and can still show the runtime's own unit; the unified (v2) cgroup when the controller is
 * not on a v1 hierarchy (pure v2 hosts) or the task is at the v1 root. On a v1-only host the
 * unified hierarchy is not mounted and dfl_cgrp is its root, which gives "/". */
static __always_inline struct kernfs_node *task_cgroup(struct task_struct *task)
{
	struct css_set *cset = BPF_CORE_READ(task, cgroups);
	if (!cset)
		return NULL;
	struct cgroup *dfl = BPF_CORE_READ(cset, dfl_cgrp);
	s64 id = -1;
	if (bpf_core_enum_value_exists(enum cgroup_subsys_id, pids_cgrp_id))
		id = bpf_core_enum_value(enum cgroup_subsys_id, pids_cgrp_id);
	else if (bpf_core_enum_value_exists(enum cgroup_subsys_id, memory_cgrp_id))
		id = bpf_core_enum_value(enum cgroup_subsys_id, memory_cgrp_id);
	struct cgroup *v1 = v1_cgroup(cset, dfl, id);
	if (v1) {
		struct kernfs_node *kn = BPF_CORE_READ(v1, kn);
		/* A hierarchy's root kernfs node is the only one without a parent. */
		if (kn && kn_parent(kn))
			return kn;
	}
	return BPF_CORE_READ(dfl, kn);
}

/* Writes the last CGROUP_DEPTH_MAX components of the task's cgroup path, root first, into
 * p->cgroup (format in wire.h). Names are walked leaf first, so the nodes are collected before
 * anything is written. */
static __always_inline void cgroup_path(struct exec_payload *p, struct task_struct *task)
{
	struct kernfs_node *chain[CGROUP_DEPTH_MAX] = {};
	struct kernfs_node *node = task_cgroup(task);
	u32 depth = 0;

	p->cgroup[0] = 0;
	if (!node)
		return;
#pragma unroll
	for (int i = 0; i < CGROUP_DEPTH_MAX; i++) {
		struct kernfs_node *parent = node ? kn_parent(node) : NULL;
		if (!parent)
			break;
		chain[i] = node;
		depth = i + 1;
		node = parent;
	}
	/* Stopped at the limit on a node that is not the root: deeper components were left out. */
	bool truncated = depth == CGROUP_DEPTH_MAX && node && kn_parent(node);

	/* 64-bit so that the bound checked below is the register used to index (a 32-bit offset gets
	 * zero-extended into a fresh, unbounded copy). */
	u64 off = 0;
	if (truncated) {
		/* U+2026 HORIZONTAL ELLIPSIS in UTF-8. */
		p->cgroup[0] = 0xe2;
		p->cgroup[1] = 0x80;
		p->cgroup[2] = 0xa6;
		off = 3;
	}
#pragma unroll
	for (int i = CGROUP_DEPTH_MAX - 1; i >= 0; i--) {
		if ((u32)i >= depth)
			continue;
		/* Always true by the sizes in wire.h; restated so the verifier sees the bound. */
		if (off > CGROUP_PATH_WIRE - COMPONENT_LEN - 1)
			break;
		barrier_var(off);
		p->cgroup[off] = '/';
		off++;
		const char *name = BPF_CORE_READ(chain[i], name);
		long n = bpf_probe_read_kernel_str(&p->cgroup[off], COMPONENT_LEN, name);
		if (n > 1 && n <= COMPONENT_LEN)
			off += n - 1;
	}
	/* Each bpf_probe_read_kernel_str above ended the string with its NUL (a failed read zeroes
	 * its buffer), and the next '/' overwrites it; only the root has no component to end it. */
	if (depth == 0) {
		p->cgroup[0] = '/';
		p->cgroup[1] = 0;
	}
}

SEC("raw_tracepoint/sched_process_exec")
int handle_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (ignored())
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct linux_binprm *bprm = (struct linux_binprm *)ctx->args[2];
	struct exec_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_EXEC);
	struct exec_payload *p = &e->p;

	p->reserved = 0;
	p->blocked = 0;
	p->filename[0] = 0;
	bpf_probe_read_kernel_str(p->filename, sizeof(p->filename), BPF_CORE_READ(bprm, filename));

	/* The new image's argument area is in place and resident at this tracepoint. */
	struct mm_struct *mm = BPF_CORE_READ(task, mm);
	unsigned long start = BPF_CORE_READ(mm, arg_start);
	unsigned long end = BPF_CORE_READ(mm, arg_end);
	unsigned long len = end > start ? end - start : 0;
	p->argv_truncated = len > ARGS_MAX_WIRE;
	if (len > ARGS_MAX_WIRE)
		len = ARGS_MAX_WIRE;
	p->argv_len = 0;
	if (len > 0 && bpf_probe_read_user(p->argv, len, (void *)start) == 0)
		p->argv_len = len;

	p->tty = tty_nr(task);
	p->sid = BPF_CORE_READ(task, signal, pids[PIDTYPE_SID], numbers[0].nr);

	struct file *file = BPF_CORE_READ(bprm, file);
	exe_components(p, file);
	exe_origin(p, file);
	cgroup_path(p, task);

	if (p->upper_layer || p->memfd || p->tmpfs) {
		u64 key = e->h.mnt_ns;
		u32 *block = bpf_map_lookup_elem(&drift_policy, &key);
		if (block && *block) {
			struct drift_allow_key allow = { .mnt_ns = key, .path_hash = exe_path_hash(p) };
			if (!bpf_map_lookup_elem(&drift_allow, &allow)) {
				/* The new image has not run a single instruction yet: killing here stops it. */
				bpf_send_signal(SIGKILL);
				p->blocked = 1;
			}
		}
	}
	/* A blocked exec is always worth waking the reader for. */
	if (p->blocked)
		bpf_ringbuf_submit(e, BPF_RB_FORCE_WAKEUP);
	else
		submit(e);
	return 0;
}

struct fork_record {
	struct event_header h;
	struct fork_payload p;
};

SEC("raw_tracepoint/sched_process_fork")
int handle_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (ignored())
		return 0;
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	int child_pid = BPF_CORE_READ(child, pid);
	int child_tgid = BPF_CORE_READ(child, tgid);
	/* A new thread of an existing process is not a new process. */
	if (child_pid != child_tgid)
		return 0;
	struct fork_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_FORK);
	e->p.child_pid = child_tgid;
	e->p.reserved = 0;
	e->p.clone_flags = 0;
	u32 tid = (u32)bpf_get_current_pid_tgid();
	u64 *flags = bpf_map_lookup_elem(&pending_clone, &tid);
	if (flags)
		e->p.clone_flags = *flags;
	submit(e);
	return 0;
}

struct exit_record {
	struct event_header h;
	struct exit_payload p;
};

SEC("raw_tracepoint/sched_process_exit")
int handle_exit(struct bpf_raw_tracepoint_args *ctx)
{
	u64 pid_tgid = bpf_get_current_pid_tgid();
	/* Only the thread group leader's exit ends the process as userspace sees it. */
	if ((u32)pid_tgid != (u32)(pid_tgid >> 32) || ignored())
		return 0;
	struct task_struct *task = (struct task_struct *)ctx->args[0];
	struct exit_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_EXIT);
	e->p.exit_code = BPF_CORE_READ(task, exit_code);
	e->p.reserved = 0;
	submit(e);
	return 0;
}

static __always_inline int clone_enter(u64 flags)
{
	if (ignored())
		return 0;
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_clone, &tid, &flags, BPF_ANY);
	return 0;
}

static __always_inline int clone_exit(void)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_delete_elem(&pending_clone, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_clone")
int enter_clone(struct syscall_enter_ctx *ctx)
{
	return clone_enter(ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_clone3")
int enter_clone3(struct syscall_enter_ctx *ctx)
{
	u64 flags = 0;
	/* struct clone_args starts with the u64 flags. */
	bpf_probe_read_user(&flags, sizeof(flags), (void *)ctx->args[0]);
	return clone_enter(flags);
}

SEC("tracepoint/syscalls/sys_exit_clone")
int exit_clone(struct syscall_exit_ctx *ctx)
{
	return clone_exit();
}

SEC("tracepoint/syscalls/sys_exit_clone3")
int exit_clone3(struct syscall_exit_ctx *ctx)
{
	return clone_exit();
}

/* ---- open family: writes everywhere, reads of sensitive prefixes, result at exit ----
 *
 * Opens are the most frequent syscall the sensor watches (compilers, interpreters and find open
 * thousands of files a second), so their cost decides the sensor's overhead. On kernels with
 * bpf_task_pt_regs (5.15+) one program runs, at syscall exit: the arguments are still in the
 * registers saved at entry, so nothing has to be carried from entry to exit, and the syscall's
 * entry tracepoint (which builds a perf record of all six arguments before any program runs) is
 * not enabled at all. The order of the tests is by cost: the flags decide read or write for free;
 * a read costs one path copy and one LPM lookup and is dropped there unless sensitive; only what is
 * reported reserves ring space, and a write's path is copied straight into its record. Older
 * kernels use the entry/exit pairing below (the loader picks; `sensor check` says which). */

#define OPEN_OPEN 0
#define OPEN_OPENAT 1
#define OPEN_OPENAT2 2
#define OPEN_CREAT 3

#define OPEN_WRITE_FLAGS (O_WRONLY | O_RDWR | O_CREAT | O_TRUNC)

struct open_record {
	struct event_header h;
	struct open_payload p;
};

#if defined(__TARGET_ARCH_arm64)
/* x0 holds the return value by now; the kernel keeps the first argument in orig_x0. */
#define SYSCALL_ARG0(regs) ((regs)->orig_x0)
#define SYSCALL_ARG1(regs) ((regs)->regs[1])
#define SYSCALL_ARG2(regs) ((regs)->regs[2])
#define SYSCALL_ARG3(regs) ((regs)->regs[3])
#define SYSCALL_ARG1_REG regs[1]
#define SYSCALL_ARG2_REG regs[2]
#else
#define SYSCALL_ARG0(regs) ((regs)->di)
#define SYSCALL_ARG1(regs) ((regs)->si)
#define SYSCALL_ARG2(regs) ((regs)->dx)
/* The syscall ABI passes the fourth argument in r10 (rcx is clobbered by the syscall insn). */
#define SYSCALL_ARG3(regs) ((regs)->r10)
#define SYSCALL_ARG1_REG si
#define SYSCALL_ARG2_REG dx
#endif

/* The calling thread's registers as saved at syscall entry; `task` is the current task. */
static __always_inline struct pt_regs *syscall_regs(struct task_struct *task)
{
	return (struct pt_regs *)bpf_task_pt_regs(task);
}

/* Reports one finished open whose arguments are known: the exit-only path. */
static __always_inline int open_report(struct task_struct *task, long ret, u32 syscall, const char *upath,
				       u32 flags, u32 mode)
{
	if (flags & OPEN_WRITE_FLAGS) {
		if (ignored_tgid(task->tgid))
			return 0;
		struct open_record *e = reserve(sizeof(*e));
		if (!e)
			return 0;
		/* Only the string's bytes are copied, into the record itself. */
		long len = bpf_probe_read_user_str(e->p.path, sizeof(e->p.path), upath);
		if (len <= 1) {
			bpf_ringbuf_discard(e, BPF_RB_NO_WAKEUP);
			return 0;
		}
		fill_header_of(&e->h, KIND_OPEN, task);
		e->h.result = ret;
		e->h.has_result = 1;
		e->p.syscall = syscall;
		e->p.flags = flags;
		e->p.mode = mode;
		e->p.reserved = 0;
		submit(e);
		return 0;
	}
	/* A read: the common, uninteresting case unless the path is under a sensitive prefix. */
	if (!read_lead_may_match(upath))
		return 0;
	u32 slot = 0;
	struct open_pending *entry = bpf_map_lookup_elem(&scratch, &slot);
	if (!entry || !read_user_path(&entry->key, upath))
		return 0;
	if (!bpf_map_lookup_elem(&read_prefixes, &entry->key) || ignored_tgid(task->tgid))
		return 0;
	struct open_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header_of(&e->h, KIND_OPEN, task);
	e->h.result = ret;
	e->h.has_result = 1;
	e->p.syscall = syscall;
	e->p.flags = flags;
	e->p.mode = mode;
	e->p.reserved = 0;
	__builtin_memcpy(e->p.path, entry->key.path, sizeof(e->p.path));
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_openat")
int regs_exit_openat(struct syscall_exit_ctx *ctx)
{
#ifdef PALISADE_BENCH_EMPTY_OPEN
	/* bench/sensor-floor.sh: what merely having a program on this tracepoint costs. */
	return 0;
#endif
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(task);
	if (!regs)
		return 0;
	return open_report(task, ctx->ret, OPEN_OPENAT, (const char *)SYSCALL_ARG1(regs), SYSCALL_ARG2(regs),
			   SYSCALL_ARG3(regs));
}

SEC("tracepoint/syscalls/sys_exit_open")
int regs_exit_open(struct syscall_exit_ctx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(task);
	if (!regs)
		return 0;
	return open_report(task, ctx->ret, OPEN_OPEN, (const char *)SYSCALL_ARG0(regs), SYSCALL_ARG1(regs),
			   SYSCALL_ARG2(regs));
}

SEC("tracepoint/syscalls/sys_exit_creat")
int regs_exit_creat(struct syscall_exit_ctx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(task);
	if (!regs)
		return 0;
	return open_report(task, ctx->ret, OPEN_CREAT, (const char *)SYSCALL_ARG0(regs), O_CREAT | O_WRONLY | O_TRUNC,
			   SYSCALL_ARG1(regs));
}

struct open_how {
	u64 flags;
	u64 mode;
	u64 resolve;
};

SEC("tracepoint/syscalls/sys_exit_openat2")
int regs_exit_openat2(struct syscall_exit_ctx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pt_regs *regs = syscall_regs(task);
	if (!regs)
		return 0;
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)SYSCALL_ARG2(regs));
	return open_report(task, ctx->ret, OPEN_OPENAT2, (const char *)SYSCALL_ARG1(regs), how.flags, how.mode);
}

/* Fallback for kernels without bpf_task_pt_regs: the arguments are read at entry and wait for the
 * result in `pending_open`. */
static __always_inline int open_enter(u32 syscall, const char *upath, u32 flags, u32 mode)
{
	bool write = (flags & OPEN_WRITE_FLAGS) != 0;
	if (!write && !read_lead_may_match(upath))
		return 0;
	if (ignored())
		return 0;
	u32 slot = 0;
	struct open_pending *entry = bpf_map_lookup_elem(&scratch, &slot);
	if (!entry)
		return 0;
	if (!read_user_path(&entry->key, upath))
		return 0;
	if (!write && !bpf_map_lookup_elem(&read_prefixes, &entry->key))
		return 0;
	entry->syscall = syscall;
	entry->flags = flags;
	entry->mode = mode;
	entry->reserved = 0;
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_open, &tid, entry, BPF_ANY);
	return 0;
}

static __always_inline int open_exit(long ret)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct open_pending *entry = bpf_map_lookup_elem(&pending_open, &tid);
	if (!entry)
		return 0;
	struct open_record *e = reserve(sizeof(*e));
	if (e) {
		fill_header(&e->h, KIND_OPEN);
		e->h.result = ret;
		e->h.has_result = 1;
		e->p.syscall = entry->syscall;
		e->p.flags = entry->flags;
		e->p.mode = entry->mode;
		e->p.reserved = 0;
		__builtin_memcpy(e->p.path, entry->key.path, sizeof(e->p.path));
		submit(e);
	}
	bpf_map_delete_elem(&pending_open, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_openat")
int enter_openat(struct syscall_enter_ctx *ctx)
{
	return open_enter(OPEN_OPENAT, (const char *)ctx->args[1], ctx->args[2], ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_open")
int enter_open(struct syscall_enter_ctx *ctx)
{
	return open_enter(OPEN_OPEN, (const char *)ctx->args[0], ctx->args[1], ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_creat")
int enter_creat(struct syscall_enter_ctx *ctx)
{
	return open_enter(OPEN_CREAT, (const char *)ctx->args[0], O_CREAT | O_WRONLY | O_TRUNC, ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_openat2")
int enter_openat2(struct syscall_enter_ctx *ctx)
{
	struct open_how how = {};
	bpf_probe_read_user(&how, sizeof(how), (void *)ctx->args[2]);
	return open_enter(OPEN_OPENAT2, (const char *)ctx->args[1], how.flags, how.mode);
}

SEC("tracepoint/syscalls/sys_exit_openat")
int exit_openat(struct syscall_exit_ctx *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_open")
int exit_open(struct syscall_exit_ctx *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_creat")
int exit_creat(struct syscall_exit_ctx *ctx)
{
	return open_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_openat2")
int exit_openat2(struct syscall_exit_ctx *ctx)
{
	return open_exit(ctx->ret);
}

/* ---- network ---- */

/* `is_socket`: as fd_socket's `known_socket`. */
static __always_inline void read_sockaddr(struct task_struct *task, struct sockaddr_payload *p, long fd,
					  const void *uaddr, long addrlen, bool is_socket)
{
	p->fd = fd;
	p->addrlen = 0;
	p->sock_type = 0;
	p->reserved[0] = p->reserved[1] = p->reserved[2] = 0;
	struct socket *sock = fd_socket(task, fd, is_socket);
	if (sock)
		p->sock_type = BPF_CORE_READ(sock, type);
	if (addrlen <= 0)
		return;
	u32 len = addrlen > SOCKADDR_MAX ? SOCKADDR_MAX : addrlen;
	if (bpf_probe_read_user(p->addr, len, uaddr) == 0)
		p->addrlen = len;
}

struct sockaddr_record {
	struct event_header h;
	struct sockaddr_payload p;
};

/* Exit-only connect (see the open family): the sockaddr is read from the caller's memory after
 * the syscall, straight into the record, and the entry tracepoint stays disabled. */
SEC("tracepoint/syscalls/sys_exit_connect")
int regs_exit_connect(struct syscall_exit_ctx *ctx)
{
	struct task_struct *task = bpf_get_current_task_btf();
	if (ignored_tgid(task->tgid))
		return 0;
	struct pt_regs *regs = syscall_regs(task);
	if (!regs)
		return 0;
	long fd = SYSCALL_ARG0(regs);
	const void *uaddr = (const void *)SYSCALL_ARG1(regs);
	long addrlen = SYSCALL_ARG2(regs);
	struct sockaddr_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header_of(&e->h, KIND_CONNECT, task);
	e->h.result = ctx->ret;
	e->h.has_result = 1;
	/* The address is copied in before the descriptor is looked up: EFAULT and EINVAL can come
	 * before anything proved the descriptor a socket, EBADF and ENOTSOCK say it is not. */
	long ret = ctx->ret;
	bool is_socket = ret != -EBADF && ret != -ENOTSOCK && ret != -EFAULT && ret != -EINVAL;
	read_sockaddr(task, &e->p, fd, uaddr, addrlen, is_socket);
	submit(e);
	return 0;
}

/* Fallback for kernels without bpf_task_pt_regs: entry/exit pairing through `pending_connect`. */
SEC("tracepoint/syscalls/sys_enter_connect")
int enter_connect(struct syscall_enter_ctx *ctx)
{
	if (ignored())
		return 0;
	u32 slot = 1;
	/* The scratch slot is large enough for a sockaddr_payload and keeps it off the stack. */
	struct sockaddr_payload *p = bpf_map_lookup_elem(&scratch, &slot);
	if (!p)
		return 0;
	read_sockaddr(bpf_get_current_task_btf(), p, ctx->args[0], (const void *)ctx->args[1], ctx->args[2], false);
	u32 tid = (u32)bpf_get_current_pid_tgid();
	bpf_map_update_elem(&pending_connect, &tid, p, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int exit_connect(struct syscall_exit_ctx *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	struct sockaddr_payload *pending = bpf_map_lookup_elem(&pending_connect, &tid);
	if (!pending)
		return 0;
	struct sockaddr_record *e = reserve(sizeof(*e));
	if (e) {
		fill_header(&e->h, KIND_CONNECT);
		e->h.result = ctx->ret;
		e->h.has_result = 1;
		__builtin_memcpy(&e->p, pending, sizeof(e->p));
		submit(e);
	}
	bpf_map_delete_elem(&pending_connect, &tid);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_bind")
int enter_bind(struct syscall_enter_ctx *ctx)
{
	struct sockaddr_record *e = start_record(sizeof(*e), KIND_BIND);
	if (!e)
		return 0;
	read_sockaddr(bpf_get_current_task_btf(), &e->p, ctx->args[0], (const void *)ctx->args[1], ctx->args[2], false);
	submit(e);
	return 0;
}

struct accept_record {
	struct event_header h;
	struct accept_payload p;
};

static __always_inline int accept_exit(long ret)
{
	if (ret < 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	if (ignored_tgid(task->tgid))
		return 0;
	/* accept returned a descriptor of the new socket. */
	struct socket *sock = fd_socket(task, ret, true);
	if (!sock)
		return 0;
	u16 type = 0;
	struct sock *sk = socket_sk(sock, &type);
	if (!sk)
		return 0;
	struct accept_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header_of(&e->h, KIND_ACCEPT, task);
	e->h.result = ret;
	e->h.has_result = 1;
	e->p.fd = ret;
	e->p.sock_type = type;
	e->p.reserved = 0;
	u16 family = 0;
	sock_endpoints(sk, &family, &e->p.local_port, e->p.local_addr, &e->p.remote_port, e->p.remote_addr);
	e->p.family = family;
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int exit_accept4(struct syscall_exit_ctx *ctx)
{
	return accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept")
int exit_accept(struct syscall_exit_ctx *ctx)
{
	return accept_exit(ctx->ret);
}

struct listen_record {
	struct event_header h;
	struct listen_payload p;
};

SEC("tracepoint/syscalls/sys_enter_listen")
int enter_listen(struct syscall_enter_ctx *ctx)
{
	struct listen_record *e = start_record(sizeof(*e), KIND_LISTEN);
	if (!e)
		return 0;
	e->p.fd = ctx->args[0];
	e->p.backlog = ctx->args[1];
	submit(e);
	return 0;
}

struct dup_record {
	struct event_header h;
	struct dup_payload p;
};

/* Only a socket duplicated onto stdin/stdout/stderr is reported: the reverse-shell pattern.
 * `fd` is a descriptor of the socket (the old one at dup2/dup3 entry, the new one at dup exit). */
static __always_inline int dup_report(long oldfd, long newfd, long fd)
{
	if (newfd < 0 || newfd > 2 || ignored())
		return 0;
	struct socket *sock = fd_socket(bpf_get_current_task_btf(), fd, false);
	if (!sock)
		return 0;
	struct dup_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_DUP);
	e->p.oldfd = oldfd;
	e->p.newfd = newfd;
	e->p.socket = 1;
	e->p.reserved = 0;
	e->p.reserved2 = 0;
	sock_endpoints(BPF_CORE_READ(sock, sk), &e->p.family, NULL, NULL, &e->p.remote_port, e->p.remote_addr);
	submit(e);
	return 0;
}

/* dup(2) picks the lowest free descriptor: after close(0..2) it lands a socket on stdio too.
 * The new descriptor is only known at exit, the old one only at entry. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, u32);
	__type(value, s32);
} pending_dup SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_dup")
int enter_dup(struct syscall_enter_ctx *ctx)
{
	if (ignored())
		return 0;
	u32 tid = (u32)bpf_get_current_pid_tgid();
	s32 oldfd = ctx->args[0];
	bpf_map_update_elem(&pending_dup, &tid, &oldfd, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_dup")
int exit_dup(struct syscall_exit_ctx *ctx)
{
	u32 tid = (u32)bpf_get_current_pid_tgid();
	s32 *oldfd = bpf_map_lookup_elem(&pending_dup, &tid);
	if (!oldfd)
		return 0;
	s32 old = *oldfd;
	bpf_map_delete_elem(&pending_dup, &tid);
	/* The new descriptor shares the old one's file, so checking it checks the socket. */
	return dup_report(old, ctx->ret, ctx->ret);
}

SEC("tracepoint/syscalls/sys_enter_dup2")
int enter_dup2(struct syscall_enter_ctx *ctx)
{
	return dup_report(ctx->args[0], ctx->args[1], ctx->args[0]);
}

SEC("tracepoint/syscalls/sys_enter_dup3")
int enter_dup3(struct syscall_enter_ctx *ctx)
{
	return dup_report(ctx->args[0], ctx->args[1], ctx->args[0]);
}

/* ---- privileges, kernel, namespaces ---- */

struct ptrace_record {
	struct event_header h;
	struct ptrace_payload p;
};

SEC("tracepoint/syscalls/sys_enter_ptrace")
int enter_ptrace(struct syscall_enter_ctx *ctx)
{
	struct ptrace_record *e = start_record(sizeof(*e), KIND_PTRACE);
	if (!e)
		return 0;
	e->p.request = ctx->args[0];
	e->p.target_pid = ctx->args[1];
	e->p.reserved = 0;
	submit(e);
	return 0;
}

struct setid_record {
	struct event_header h;
	struct setid_payload p;
};

static __always_inline int setid_enter(struct syscall_enter_ctx *ctx, u32 syscall, u32 count)
{
	struct setid_record *e = start_record(sizeof(*e), KIND_SETID);
	if (!e)
		return 0;
	e->p.syscall = syscall;
	e->p.count = count;
	e->p.ids[0] = ctx->args[0];
	e->p.ids[1] = count > 1 ? ctx->args[1] : 0;
	e->p.ids[2] = count > 2 ? ctx->args[2] : 0;
	e->p.reserved = 0;
	submit(e);
	return 0;
}

#define SETID_PROGRAM(name, index, count)                                                                  \
	SEC("tracepoint/syscalls/sys_enter_" #name)                                                        \
	int enter_##name(struct syscall_enter_ctx *ctx)                                                    \
	{                                                                                                  \
		return setid_enter(ctx, index, count);                                                     \
	}

SETID_PROGRAM(setuid, 0, 1)
SETID_PROGRAM(setreuid, 1, 2)
SETID_PROGRAM(setresuid, 2, 3)
SETID_PROGRAM(setfsuid, 3, 1)
SETID_PROGRAM(setgid, 4, 1)
SETID_PROGRAM(setregid, 5, 2)
SETID_PROGRAM(setresgid, 6, 3)
SETID_PROGRAM(setfsgid, 7, 1)

struct capset_record {
	struct event_header h;
	struct capset_payload p;
};

SEC("tracepoint/syscalls/sys_enter_capset")
int enter_capset(struct syscall_enter_ctx *ctx)
{
	if (ignored())
		return 0;
	/* Two struct __user_cap_data_struct (low and high 32 capabilities) for _LINUX_CAPABILITY_VERSION_3. */
	u32 data[6] = {};
	bpf_probe_read_user(data, sizeof(data), (void *)ctx->args[1]);
	struct capset_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_CAPSET);
	e->p.effective = data[0] | ((u64)data[3] << 32);
	e->p.permitted = data[1] | ((u64)data[4] << 32);
	e->p.inheritable = data[2] | ((u64)data[5] << 32);
	submit(e);
	return 0;
}

struct module_record {
	struct event_header h;
	struct module_payload p;
};

static __always_inline int module_report(bool from_fd, const char *params)
{
	struct module_record *e = start_record(sizeof(*e), KIND_MODULE);
	if (!e)
		return 0;
	e->p.from_fd = from_fd;
	e->p.reserved = 0;
	e->p.params[0] = 0;
	bpf_probe_read_user_str(e->p.params, sizeof(e->p.params), params);
	submit(e);
	return 0;
}

/* Kernels that have the module syscalls' own tracepoints use these, and the loader leaves the
 * raw_syscalls program below (which would run on every syscall of the node) unattached. */
SEC("tracepoint/syscalls/sys_enter_init_module")
int enter_init_module(struct syscall_enter_ctx *ctx)
{
	return module_report(false, (const char *)ctx->args[2]);
}

SEC("tracepoint/syscalls/sys_enter_finit_module")
int enter_finit_module(struct syscall_enter_ctx *ctx)
{
	return module_report(true, (const char *)ctx->args[1]);
}

/* There are no syscalls:sys_enter_{init,finit}_module tracepoints on some kernels: there the
 * syscall entry itself is watched, and this program runs on EVERY syscall of the node. It is a raw
 * tracepoint rather than a classic one because a classic tracepoint program only runs after the
 * kernel has built a perf record of the syscall's six arguments, on every syscall; the raw one
 * gets the syscall number and the saved registers as they are, and leaves after one compare. */
SEC("raw_tracepoint/sys_enter")
int enter_raw_syscall(struct bpf_raw_tracepoint_args *ctx)
{
	/* sys_enter(struct pt_regs *regs, long id) */
	long nr = ctx->args[1];
	if (nr != NR_INIT_MODULE && nr != NR_FINIT_MODULE)
		return 0;
	struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
	/* init_module(image, len, params), finit_module(fd, params, flags) */
	if (nr == NR_FINIT_MODULE)
		return module_report(true, (const char *)BPF_CORE_READ(regs, SYSCALL_ARG1_REG));
	return module_report(false, (const char *)BPF_CORE_READ(regs, SYSCALL_ARG2_REG));
}

struct memfd_record {
	struct event_header h;
	struct memfd_payload p;
};

SEC("tracepoint/syscalls/sys_enter_memfd_create")
int enter_memfd_create(struct syscall_enter_ctx *ctx)
{
	struct memfd_record *e = start_record(sizeof(*e), KIND_MEMFD);
	if (!e)
		return 0;
	e->p.flags = ctx->args[1];
	e->p.reserved = 0;
	e->p.name[0] = 0;
	bpf_probe_read_user_str(e->p.name, sizeof(e->p.name), (const char *)ctx->args[0]);
	submit(e);
	return 0;
}

struct mount_record {
	struct event_header h;
	struct mount_payload p;
};

SEC("tracepoint/syscalls/sys_enter_mount")
int enter_mount(struct syscall_enter_ctx *ctx)
{
	struct mount_record *e = start_record(sizeof(*e), KIND_MOUNT);
	if (!e)
		return 0;
	e->p.flags = ctx->args[3];
	e->p.source[0] = 0;
	e->p.target[0] = 0;
	e->p.fstype[0] = 0;
	bpf_probe_read_user_str(e->p.source, sizeof(e->p.source), (const char *)ctx->args[0]);
	bpf_probe_read_user_str(e->p.target, sizeof(e->p.target), (const char *)ctx->args[1]);
	bpf_probe_read_user_str(e->p.fstype, sizeof(e->p.fstype), (const char *)ctx->args[2]);
	submit(e);
	return 0;
}

struct umount_record {
	struct event_header h;
	struct umount_payload p;
};

/* umount2(2) is defined as SYSCALL_DEFINE2(umount, ...), hence the tracepoint's name. */
SEC("tracepoint/syscalls/sys_enter_umount")
int enter_umount(struct syscall_enter_ctx *ctx)
{
	struct umount_record *e = start_record(sizeof(*e), KIND_UMOUNT);
	if (!e)
		return 0;
	e->p.flags = ctx->args[1];
	e->p.reserved = 0;
	e->p.target[0] = 0;
	bpf_probe_read_user_str(e->p.target, sizeof(e->p.target), (const char *)ctx->args[0]);
	submit(e);
	return 0;
}

struct flags_record {
	struct event_header h;
	struct flags_payload p;
};

SEC("tracepoint/syscalls/sys_enter_unshare")
int enter_unshare(struct syscall_enter_ctx *ctx)
{
	struct flags_record *e = start_record(sizeof(*e), KIND_UNSHARE);
	if (!e)
		return 0;
	e->p.flags = ctx->args[0];
	submit(e);
	return 0;
}

struct setns_record {
	struct event_header h;
	struct setns_payload p;
};

SEC("tracepoint/syscalls/sys_enter_setns")
int enter_setns(struct syscall_enter_ctx *ctx)
{
	struct setns_record *e = start_record(sizeof(*e), KIND_SETNS);
	if (!e)
		return 0;
	e->p.fd = ctx->args[0];
	e->p.nstype = ctx->args[1];
	submit(e);
	return 0;
}

struct bpf_record {
	struct event_header h;
	struct bpf_payload p;
};

SEC("tracepoint/syscalls/sys_enter_bpf")
int enter_bpf(struct syscall_enter_ctx *ctx)
{
	struct bpf_record *e = start_record(sizeof(*e), KIND_BPF);
	if (!e)
		return 0;
	e->p.cmd = ctx->args[0];
	e->p.reserved = 0;
	submit(e);
	return 0;
}

/* ---- tampering with watched paths (logs, shell history) ---- */

struct path_record {
	struct event_header h;
	struct path_payload p;
};

static __always_inline int watched_path_event(u32 kind, const char *upath, s64 length)
{
	if (ignored())
		return 0;
	struct path_key *key = scratch_key(0);
	if (!key || !read_user_path(key, upath))
		return 0;
	if (!bpf_map_lookup_elem(&watched_prefixes, key))
		return 0;
	struct path_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, kind);
	e->p.length = length;
	__builtin_memcpy(e->p.path, key->path, sizeof(e->p.path));
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_unlink")
int enter_unlink(struct syscall_enter_ctx *ctx)
{
	return watched_path_event(KIND_UNLINK, (const char *)ctx->args[0], 0);
}

SEC("tracepoint/syscalls/sys_enter_unlinkat")
int enter_unlinkat(struct syscall_enter_ctx *ctx)
{
	return watched_path_event(KIND_UNLINK, (const char *)ctx->args[1], 0);
}

SEC("tracepoint/syscalls/sys_enter_truncate")
int enter_truncate(struct syscall_enter_ctx *ctx)
{
	return watched_path_event(KIND_TRUNCATE, (const char *)ctx->args[0], ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_utimensat")
int enter_utimensat(struct syscall_enter_ctx *ctx)
{
	/* A NULL path is futimens() on dirfd: there is no path to match. */
	if (!ctx->args[1])
		return 0;
	return watched_path_event(KIND_UTIMENS, (const char *)ctx->args[1], 0);
}

struct rename_record {
	struct event_header h;
	struct rename_payload p;
};

static __always_inline int rename_enter(const char *old_path, const char *new_path)
{
	if (ignored())
		return 0;
	struct path_key *old_key = scratch_key(0);
	struct path_key *new_key = scratch_key(1);
	if (!old_key || !new_key)
		return 0;
	bool old_ok = read_user_path(old_key, old_path);
	bool new_ok = read_user_path(new_key, new_path);
	/* Moving a log away and moving something over it both destroy it. */
	bool watched = (old_ok && bpf_map_lookup_elem(&watched_prefixes, old_key)) ||
		       (new_ok && bpf_map_lookup_elem(&watched_prefixes, new_key));
	if (!watched)
		return 0;
	struct rename_record *e = reserve(sizeof(*e));
	if (!e)
		return 0;
	fill_header(&e->h, KIND_RENAME);
	__builtin_memcpy(e->p.old_path, old_key->path, sizeof(e->p.old_path));
	__builtin_memcpy(e->p.new_path, new_key->path, sizeof(e->p.new_path));
	submit(e);
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_rename")
int enter_rename(struct syscall_enter_ctx *ctx)
{
	return rename_enter((const char *)ctx->args[0], (const char *)ctx->args[1]);
}

SEC("tracepoint/syscalls/sys_enter_renameat")
int enter_renameat(struct syscall_enter_ctx *ctx)
{
	return rename_enter((const char *)ctx->args[1], (const char *)ctx->args[3]);
}

SEC("tracepoint/syscalls/sys_enter_renameat2")
int enter_renameat2(struct syscall_enter_ctx *ctx)
{
	return rename_enter((const char *)ctx->args[1], (const char *)ctx->args[3]);
}
