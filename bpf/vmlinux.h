/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The kernel types epolltrace's BPF programs read, and nothing else.
 *
 * Why a hand-written header instead of `bpftool btf dump ... format c`:
 * a generated vmlinux.h ties the build to the build machine's BTF (or to a
 * 100k-line blob checked in), and hides which kernel fields the tool
 * depends on.  With preserve_access_index every field access below is a
 * CO-RE relocation resolved against the *running* kernel's BTF at load
 * time: only the field names must match, never the layout, so one object
 * runs on 6.1, 6.12 and 6.18.  Fields that were renamed or retyped have
 * ___flavour twins (see bpf/core_fixes.bpf.h) checked with
 * bpf_core_field_exists().
 *
 * The layouts here are deliberately partial: a struct lists only the
 * members we touch, in any order.  Never sizeof() a struct from this file.
 */
#ifndef EPOLLTRACE_VMLINUX_H
#define EPOLLTRACE_VMLINUX_H
/* tells bpf_tracing.h to use the kernel's pt_regs member names */
#define __VMLINUX_H__

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
typedef __u64 u64;
typedef __s32 s32;
typedef __s64 s64;
typedef _Bool bool;
enum { false = 0, true = 1 };
typedef __u16 __be16;
typedef __u32 __be32;
typedef __u32 __wsum;
typedef unsigned long size_t;
typedef long long loff_t;
typedef int pid_t;

/* UAPI constants libbpf's headers expect from vmlinux.h */
enum bpf_map_type {
	BPF_MAP_TYPE_HASH = 1,
	BPF_MAP_TYPE_ARRAY = 2,
	BPF_MAP_TYPE_PERCPU_ARRAY = 6,
	BPF_MAP_TYPE_LRU_HASH = 9,
	BPF_MAP_TYPE_RINGBUF = 27,
};

enum {
	BPF_ANY = 0,
	BPF_NOEXIST = 1,
	BPF_EXIST = 2,
};

enum {
	BPF_F_NO_PREALLOC = 1,
};

/* x86_64 struct pt_regs: UAPI-stable layout, used by BPF_KPROBE(). */
struct pt_regs {
	long unsigned int r15;
	long unsigned int r14;
	long unsigned int r13;
	long unsigned int r12;
	long unsigned int bp;
	long unsigned int bx;
	long unsigned int r11;
	long unsigned int r10;
	long unsigned int r9;
	long unsigned int r8;
	long unsigned int ax;
	long unsigned int cx;
	long unsigned int dx;
	long unsigned int si;
	long unsigned int di;
	long unsigned int orig_ax;
	long unsigned int ip;
	long unsigned int cs;
	long unsigned int flags;
	long unsigned int sp;
	long unsigned int ss;
};

#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)

struct list_head {
	struct list_head *next;
	struct list_head *prev;
};

struct hlist_node {
	struct hlist_node *next;
	struct hlist_node **pprev;
};

struct hlist_head {
	struct hlist_node *first;
};

struct rb_node {
	long unsigned int __rb_parent_color;
	struct rb_node *rb_right;
	struct rb_node *rb_left;
};

struct rb_root {
	struct rb_node *rb_node;
};

struct rb_root_cached {
	struct rb_root rb_root;
	struct rb_node *rb_leftmost;
};

typedef struct {
	int counter;
} atomic_t;

typedef struct {
	s64 counter;
} atomic64_t;

typedef atomic64_t atomic_long_t;

typedef struct {
	atomic_t refs;
} refcount_t;

struct wait_queue_entry;
typedef int (*wait_queue_func_t)(struct wait_queue_entry *, unsigned int, int, void *);

struct wait_queue_entry {
	unsigned int flags;
	void *private;
	wait_queue_func_t func;
	struct list_head entry;
};
typedef struct wait_queue_entry wait_queue_entry_t;

struct wait_queue_head {
	struct list_head head;
};
typedef struct wait_queue_head wait_queue_head_t;

struct qstr {
	const unsigned char *name;
};

struct dentry {
	struct qstr d_name;
};

struct path {
	struct dentry *dentry;
};

struct inode;
struct file;

struct file_operations {
	int (*release)(struct inode *, struct file *);
};

struct file {
	struct path f_path;
	const struct file_operations *f_op;
	void *private_data;
	struct hlist_head *f_ep;
	/* the reference count: f_count up to 6.12, f_ref from 6.13 */
	atomic_long_t f_count;
};

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
};

struct files_struct {
	struct fdtable *fdt;
};

struct signal_struct {
	atomic_t live;
};

struct task_struct {
	unsigned int __state;
	unsigned int flags;
	pid_t pid;
	pid_t tgid;
	struct task_struct *real_parent;
	struct task_struct *group_leader;
	char comm[16];
	struct files_struct *files;
	struct signal_struct *signal;
	int exit_code;
};

struct epoll_event {
	__u32 events;
	__u64 data;
} __attribute__((packed));

struct epoll_filefd {
	struct file *file;
	int fd;
} __attribute__((packed));

struct eventpoll;
struct eppoll_entry;

struct epitem {
	union {
		struct rb_node rbn;
	};
	struct list_head rdllink;
	struct epitem *next;	/* renamed ovflist_next: see core_fixes */
	struct epoll_filefd ffd;
	struct eventpoll *ep;
	struct hlist_node fllink;
	struct epoll_event event;
};

struct eppoll_entry {
	struct epitem *base;
	wait_queue_entry_t wait;
};

struct eventpoll {
	wait_queue_head_t wq;
	struct list_head rdllist;
	struct rb_root_cached rbr;
	struct epitem *ovflist;
	struct file *file;
	refcount_t refcount;	/* 6.4+, and backports: core_fixes */
};

struct timespec64 {
	s64 tv_sec;
	long int tv_nsec;
};

struct seq_file;

struct bpf_iter_meta {
	struct seq_file *seq;
	u64 session_id;
	u64 seq_num;
};

struct bpf_iter__task_file {
	union {
		struct bpf_iter_meta *meta;
	};
	union {
		struct task_struct *task;
	};
	u32 fd;
	union {
		struct file *file;
	};
};

struct trace_entry {
	short unsigned int type;
	unsigned char flags;
	unsigned char preempt_count;
	int pid;
};

struct trace_event_raw_sys_enter {
	struct trace_entry ent;
	long int id;
	long unsigned int args[6];
};

struct trace_event_raw_sys_exit {
	struct trace_entry ent;
	long int id;
	long int ret;
};

struct hrtimer {
	u8 is_soft;
};

/* x86 per-cpu preempt count: a plain int up to 6.1 and again from 6.15,
 * inside struct pcpu_hot in between. */
struct pcpu_hot {
	int preempt_count;
};

#pragma clang attribute pop

#endif /* EPOLLTRACE_VMLINUX_H */
