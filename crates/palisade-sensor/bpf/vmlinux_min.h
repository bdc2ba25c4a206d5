/* The few kernel types the sensor's programs read, declared by hand instead of a bpftool-generated
 * vmlinux.h so that the build depends neither on bpftool nor on the build machine's kernel BTF.
 *
 * Every struct carries preserve_access_index: clang then records each member access as a CO-RE
 * relocation, and the loader (aya) rewrites the offsets from the running kernel's BTF. Only the
 * members the programs touch are listed; their order and the absence of the others do not matter.
 */
#ifndef PALISADE_VMLINUX_MIN_H
#define PALISADE_VMLINUX_MIN_H

typedef unsigned char __u8;
typedef signed char __s8;
typedef unsigned short __u16;
typedef short __s16;
typedef unsigned int __u32;
typedef int __s32;
typedef unsigned long long __u64;
typedef long long __s64;
typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __s32 s32;
typedef __u64 u64;
typedef __s64 s64;
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef _Bool bool;
#define true 1
#define false 0

/* The map-type and flag constants libbpf's bpf_helpers.h expects from uapi/linux/bpf.h. */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LPM_TRIE = 11,
	BPF_MAP_TYPE_RINGBUF = 27,
};
enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
	BPF_F_NO_PREALLOC = 1,
};
enum {
	BPF_RB_NO_WAKEUP = 1,
	BPF_RB_FORCE_WAKEUP = 2,
	BPF_RB_AVAIL_DATA = 0,
	BPF_RB_RING_SIZE = 1,
};

typedef struct {
	__u32 val;
} kuid_t;

typedef struct {
	__u32 val;
} kgid_t;

struct qstr {
	union {
		struct {
			u32 hash;
			u32 len;
		};
		u64 hash_len;
	};
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct super_block {
	unsigned long s_magic;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct dentry {
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
	struct super_block *mnt_sb;
} __attribute__((preserve_access_index));

struct mnt_namespace;

struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	void *private_data;
} __attribute__((preserve_access_index));

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct in6_addr {
	union {
		__u8 u6_addr8[16];
		__be32 u6_addr32[4];
	} in6_u;
} __attribute__((preserve_access_index));

struct sock_common {
	__be32 skc_daddr;
	__be32 skc_rcv_saddr;
	__be16 skc_dport;
	__u16 skc_num;
	unsigned short skc_family;
	struct in6_addr skc_v6_daddr;
	struct in6_addr skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	u16 sk_protocol;
	u16 sk_type;
} __attribute__((preserve_access_index));

struct socket {
	short type;
	struct sock *sk;
} __attribute__((preserve_access_index));

struct ns_common {
	unsigned int inum;
} __attribute__((preserve_access_index));

struct mnt_namespace {
	struct ns_common ns;
} __attribute__((preserve_access_index));

struct nsproxy {
	struct mnt_namespace *mnt_ns;
} __attribute__((preserve_access_index));

struct upid {
	int nr;
} __attribute__((preserve_access_index));

struct pid {
	struct upid numbers[1];
} __attribute__((preserve_access_index));

struct tty_driver {
	int major;
	int minor_start;
} __attribute__((preserve_access_index));

struct tty_struct {
	struct tty_driver *driver;
	int index;
} __attribute__((preserve_access_index));

struct signal_struct {
	struct pid *pids[4];
	struct tty_struct *tty;
} __attribute__((preserve_access_index));

struct mm_struct {
	unsigned long arg_start;
	unsigned long arg_end;
} __attribute__((preserve_access_index));

/* kernfs backs every cgroup directory: a cgroup's path is its kernfs node's name chain. The parent
 * pointer was renamed `parent` -> `__parent` in 6.15 (it became RCU-protected); both are declared
 * and the program picks the one the running kernel has with bpf_core_field_exists. */
struct kernfs_node {
	struct kernfs_node *parent;
	struct kernfs_node *__parent;
	const char *name;
	/* A u64 since 5.5 (a union before), which is below the sensor's 5.17 floor. */
	u64 id;
} __attribute__((preserve_access_index));

struct cgroup_root;

struct cgroup {
	struct kernfs_node *kn;
	/* The hierarchy the cgroup belongs to: tells a v1 controller's cgroup from the unified one. */
	struct cgroup_root *root;
} __attribute__((preserve_access_index));

struct cgroup_subsys_state {
	struct cgroup *cgroup;
} __attribute__((preserve_access_index));

/* Controller indices into css_set.subsys. The numbering depends on the kernel's configuration
 * (only enabled controllers get an index), so the values below are placeholders: the program reads
 * them with bpf_core_enum_value, a CO-RE relocation that libbpf and aya resolve by enumerator NAME
 * against the running kernel's BTF. Enum relocations need no preserve_access_index attribute (that
 * attribute only applies to records; __builtin_preserve_enum_value carries the relocation). */
enum cgroup_subsys_id {
	memory_cgrp_id = 4,
	pids_cgrp_id = 11,
};

/* Large enough for every kernel's CGROUP_SUBSYS_COUNT (14 controllers exist today); only the
 * member's offset is relocated, the index is bounded by the program. */
#define CGROUP_SUBSYS_MAX 16

struct css_set {
	struct cgroup_subsys_state *subsys[CGROUP_SUBSYS_MAX];
	/* The task's cgroup in the unified (v2) hierarchy; its root on a v1-only host. */
	struct cgroup *dfl_cgrp;
} __attribute__((preserve_access_index));

struct cred {
	kuid_t uid;
	kgid_t gid;
} __attribute__((preserve_access_index));

struct task_struct {
	int pid;
	int tgid;
	int exit_code;
	const struct cred *cred;
	char comm[16];
	struct task_struct *real_parent;
	struct mm_struct *mm;
	struct files_struct *files;
	struct nsproxy *nsproxy;
	struct signal_struct *signal;
	kuid_t loginuid;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

struct linux_binprm {
	struct file *file;
	const char *filename;
} __attribute__((preserve_access_index));

/* The user registers saved at syscall entry (what bpf_task_pt_regs returns): the exit-only open
 * and connect programs read the syscall's arguments from them. The syscall code does not change
 * them, except the return-value register, which on arm64 is x0, the first argument: the kernel
 * keeps that one in orig_x0. */
#if defined(__TARGET_ARCH_arm64)
struct pt_regs {
	u64 regs[31];
	u64 orig_x0;
} __attribute__((preserve_access_index));
#else
struct pt_regs {
	unsigned long di;
	unsigned long si;
	unsigned long dx;
	unsigned long r10;
} __attribute__((preserve_access_index));
#endif

/* The context of a raw tracepoint program: the tracepoint's arguments as u64s. */
struct bpf_raw_tracepoint_args {
	__u64 args[0];
};

#endif
