// SPDX-License-Identifier: GPL-2.0
/*
 * Symbolized user call chains of waiters (include/epolltrace.h,
 * ET_EV_WAIT_CHAIN).  Two chains come from BPF: the frame-pointer one
 * (bpf_get_stack) and, for code built without frame pointers, the
 * registers and the top of the stack, unwound here with the modules' CFI
 * (.eh_frame, .debug_frame) as eu-stack and perf's unwind-libdw.c do:
 * dwfl_attach_state with callbacks that serve the copied stack.  The longer
 * chain wins.  The frame-pointer chain misses the caller of a libc
 * function that keeps no frame pointer (epoll_wait's own caller, as
 * glibc builds it).  The DWARF one reads the live stack above the copy
 * (16 KiB) when it must (cb_memory_read); where that fails, the
 * frame-pointer chain, if it goes on, finishes it (dwarf+fp).
 */
#include <errno.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <sys/uio.h>
#include <time.h>
#include <elfutils/libdwfl.h>
#include <dwarf.h>
#include "chain.h"

/* processes with a Dwfl kept; the least recently used one goes */
#define CHAIN_PROCS	32
/* x86_64 DWARF register numbers (the psABI): rbp 6, rsp 7 */
#define DW_X86_64_RBP	6

struct chain_proc {
	pid_t pid;
	Dwfl *dwfl;
	bool attached;		/* dwfl_attach_state done */
	unsigned long used;
	double reported;	/* when its maps were last read (CLOCK_MONOTONIC s) */
	struct sym_slot *syms;	/* frames symbolized since then (CHAIN_SYMS, by pc) */
};

/*
 * dwfl_module_addrinfo walks a module's symbol table: tens of us a frame
 * in libc, more in a large binary.  Chains of one process share their
 * outer frames, so each pc is looked up once per reading of the maps.
 */
#define CHAIN_SYMS	256

struct sym_slot {
	struct et_chain_frame f;	/* f.addr 0: empty */
	bool activation;
};

/* threads that have had a chain (an open-addressed set, emptied when full) */
#define CHAIN_TIDS	4096

struct chain_cache {
	struct chain_proc p[CHAIN_PROCS];
	__u32 tids[CHAIN_TIDS];
	unsigned int ntids;
	struct et_ring_wait_chain proc_rec;	/* chain_from_proc's record */
	unsigned long clock;
	/* the record being unwound, read by the callbacks */
	const struct et_ring_wait_chain *cur;
	bool past_copy;		/* the unwind wanted a word above the copy, unreadable */
	bool live;		/* ... and read some from the live process */
	__u64 bp;		/* the unwind's first rbp: the record's, or a guess */
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
	.find_elf = dwfl_linux_proc_find_elf,
	.find_debuginfo = dwfl_standard_find_debuginfo,
	.debuginfo_path = &debuginfo_path,
};

struct chain_cache *chain_cache_new(void)
{
	return calloc(1, sizeof(struct chain_cache));
}

static void proc_drop(struct chain_proc *p)
{
	if (p->dwfl)
		dwfl_end(p->dwfl);
	free(p->syms);
	memset(p, 0, sizeof(*p));
}

void chain_cache_free(struct chain_cache *c)
{
	if (!c)
		return;
	for (int i = 0; i < CHAIN_PROCS; i++)
		proc_drop(&c->p[i]);
	free(c);
}

/* ---- the copied stack, served to libdwfl's unwinder ---------------------- */

static pid_t cb_next_thread(Dwfl *dwfl, void *arg, void **thread_argp)
{
	struct chain_cache *c = arg;

	(void)dwfl;
	if (*thread_argp)
		return 0;
	*thread_argp = c;
	return c->cur->hdr.tid;
}

static bool cb_get_thread(Dwfl *dwfl, pid_t tid, void *arg, void **thread_argp)
{
	struct chain_cache *c = arg;

	(void)dwfl;
	*thread_argp = c;
	return tid == (pid_t)c->cur->hdr.tid;
}

/*
 * The copy, and above it the live stack: the thread has moved on since
 * the copy was made (milliseconds ago), but the frames above a wait
 * site's are its callers' (uv_run's above uv__io_poll's 15 KiB), and they
 * stay while the thread waits from the same site.  Below the copy's start
 * is nothing of this chain's.
 */
static bool cb_memory_read(Dwfl *dwfl, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
	struct chain_cache *c = arg;
	const struct et_ring_wait_chain *r = c->cur;
	struct iovec local = { result, sizeof(*result) };
	struct iovec remote = { (void *)(uintptr_t)addr, sizeof(*result) };

	(void)dwfl;
	if (addr < r->sp)
		return false;
	if (addr - r->sp + sizeof(*result) > r->stack_len) {
		if (process_vm_readv(r->hdr.pid, &local, 1, &remote, 1, 0) ==
		    (ssize_t)sizeof(*result)) {
			c->live = true;
			return true;
		}
		c->past_copy = true;
		return false;
	}
	memcpy(result, r->stack + (addr - r->sp), sizeof(*result));
	return true;
}

static bool cb_set_initial_registers(Dwfl_Thread *thread, void *thread_arg)
{
	const struct et_ring_wait_chain *r = ((struct chain_cache *)thread_arg)->cur;
	Dwarf_Word regs[2] = { ((struct chain_cache *)thread_arg)->bp, r->sp };	/* rbp, rsp */

	dwfl_thread_state_register_pc(thread, r->ip);
	return dwfl_thread_state_registers(thread, DW_X86_64_RBP, 2, regs);
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
	.next_thread = cb_next_thread,
	.get_thread = cb_get_thread,
	.memory_read = cb_memory_read,
	.set_initial_registers = cb_set_initial_registers,
};

struct frames {
	Dwarf_Addr pc[ET_CHAIN_FRAMES + 1];
	bool activation[ET_CHAIN_FRAMES + 1];
	int n;
};

static int frame_cb(Dwfl_Frame *state, void *arg)
{
	struct frames *f = arg;
	Dwarf_Addr pc;
	bool act;

	if (!dwfl_frame_pc(state, &pc, &act) || !pc)
		return DWARF_CB_ABORT;
	f->pc[f->n] = pc;
	f->activation[f->n] = act;
	return ++f->n > ET_CHAIN_FRAMES ? DWARF_CB_ABORT : DWARF_CB_OK;
}

/* ---- one Dwfl per process ------------------------------------------------ */

/*
 * The modules are read again from /proc/PID/maps when the wait's pc is in
 * none of them (a library loaded since, an exec) and at most once a second
 * otherwise (an exec that put a module where the old one was): reading
 * them for every chain cost 0.5 ms a chain (make bench --only chains).
 */
#define CHAIN_REPORT_S	1.0

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct chain_proc *proc_get(struct chain_cache *c, pid_t pid, __u64 ip)
{
	double now = now_s();

	struct chain_proc *p = NULL, *lru = &c->p[0];

	for (int i = 0; i < CHAIN_PROCS; i++) {
		if (c->p[i].dwfl && c->p[i].pid == pid) {
			p = &c->p[i];
			break;
		}
		if (!c->p[i].dwfl || c->p[i].used < lru->used)
			lru = &c->p[i];
	}
	if (!p) {
		p = lru;
		proc_drop(p);
		p->dwfl = dwfl_begin(&proc_callbacks);
		if (!p->dwfl)
			return NULL;
		p->pid = pid;
	}
	p->used = ++c->clock;
	if (p->reported && now - p->reported < CHAIN_REPORT_S && dwfl_addrmodule(p->dwfl, ip))
		return p;
	p->reported = now;
	if (p->syms)
		memset(p->syms, 0, CHAIN_SYMS * sizeof(*p->syms));
	/* modules that did not move are kept: only new ones are opened */
	dwfl_report_begin(p->dwfl);
	if (dwfl_linux_proc_report(p->dwfl, pid) || dwfl_report_end(p->dwfl, NULL, NULL)) {
		proc_drop(p);
		return NULL;
	}
	if (!p->attached)
		p->attached = dwfl_attach_state(p->dwfl, NULL, pid, &thread_callbacks, c);
	return p;
}

static void copy_cut(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src);
}

static void symbolize(Dwfl *dwfl, Dwarf_Addr pc, bool activation, struct et_chain_frame *f)
{
	/* a return address points past the call: look up the call itself */
	Dwarf_Addr a = activation ? pc : pc - 1;
	Dwfl_Module *m = dwfl ? dwfl_addrmodule(dwfl, a) : NULL;
	const char *name = NULL, *mod, *slash;
	GElf_Off off = 0;
	GElf_Addr bias;
	GElf_Sym sym;

	f->addr = pc;
	if (!m)
		return;
	mod = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
	if (mod) {
		slash = strrchr(mod, '/');
		copy_cut(f->module, sizeof(f->module), slash ? slash + 1 : mod);
	}
	/* where addr2line and a debug-info package find it later */
	if (dwfl_module_getelf(m, &bias))
		f->offset = pc - bias;
	name = dwfl_module_addrinfo(m, a, &off, &sym, NULL, NULL, NULL);
	/* a symbol's version (epoll_wait@@GLIBC_2.3.2) says nothing about where */
	if (name)
		snprintf(f->sym, sizeof(f->sym), "%.*s+0x%llx", (int)strcspn(name, "@"), name,
			 (unsigned long long)(off + (pc - a)));
}

/* frames from the first that lie in modules: a wrong guess ends in noise */
static int in_modules(Dwfl *dwfl, const struct frames *f)
{
	int n = 0;

	while (n < f->n && dwfl_addrmodule(dwfl, f->pc[n] - !f->activation[n]))
		n++;
	return n;
}

/*
 * /proc gives no rbp (chain_from_proc), and code built with frame pointers
 * finds its caller through it (CFA = rbp + 16): the unwind stops at the
 * first such frame.  The stack tells where rbp pointed: the lowest words
 * that look like a frame record (a saved rbp further up the stack, then a
 * return address into a module) are tried, and the unwind that goes
 * furthest through modules kept, as with bp unknown.
 */
static void guess_bp(struct chain_cache *c, Dwfl *dwfl, const struct et_ring_wait_chain *r,
		     struct frames *dw)
{
	int best = in_modules(dwfl, dw), tries = 0;
	bool live = c->live, past = c->past_copy;

	for (__u32 off = 0; off + 16 <= r->stack_len && tries < 4; off += 8) {
		struct frames f = { .n = 0 };
		__u64 saved, ret, at = r->sp + off;

		memcpy(&saved, r->stack + off, 8);
		memcpy(&ret, r->stack + off + 8, 8);
		if (saved <= at || saved - at > (1 << 20) || !dwfl_addrmodule(dwfl, ret - 1))
			continue;
		tries++;
		c->bp = at;
		c->past_copy = c->live = false;
		dwfl_getthread_frames(dwfl, r->hdr.tid, frame_cb, &f);
		if (in_modules(dwfl, &f) > best) {
			best = in_modules(dwfl, &f);
			*dw = f;
			live = c->live;
			past = c->past_copy;
		}
	}
	c->live = live;
	c->past_copy = past;
}

/*
 * A DWARF unwind cut short (the copy ended) that the frame-pointer chain
 * goes on from: after the last frame both have, or, when they share none
 * but the first (the fp chain skipped epoll_wait's caller, which DWARF
 * found), after the first.  Only frames inside a module are taken: a
 * function built without frame pointers leaves rbp holding data, and its
 * "chain" is noise.
 */
static bool fp_extends(Dwfl *dwfl, struct frames *dw, const struct frames *fp)
{
	int from = 1, added = 0;
	bool found = false;

	for (int j = fp->n - 1; j >= 1 && !found; j--) {
		for (int i = 1; i < dw->n && !found; i++) {
			if (dw->pc[i] != fp->pc[j])
				continue;
			found = true;
			/* DWARF went on past it: its chain says more than fp's */
			from = i == dw->n - 1 ? j + 1 : fp->n;
		}
	}
	for (int j = from; j < fp->n && dw->n <= ET_CHAIN_FRAMES; j++) {
		if (!dwfl_addrmodule(dwfl, fp->pc[j] - 1))
			break;
		dw->pc[dw->n] = fp->pc[j];
		dw->activation[dw->n++] = false;
		added++;
	}
	return added > 0;
}

/* tid's slot in the set: where it is, or the empty one where it would go */
static __u32 *tid_slot(struct chain_cache *c, __u32 tid)
{
	unsigned int i = (tid * 0x9e3779b1u) % CHAIN_TIDS;

	while (c->tids[i] && c->tids[i] != tid)
		i = (i + 1) % CHAIN_TIDS;
	return &c->tids[i];
}

static void tid_mark(struct chain_cache *c, __u32 tid)
{
	__u32 *s;

	if (!tid)
		return;
	if (c->ntids >= CHAIN_TIDS / 2) {	/* forget them all: a chain more, at worst */
		memset(c->tids, 0, sizeof(c->tids));
		c->ntids = 0;
	}
	s = tid_slot(c, tid);
	if (!*s) {
		*s = tid;
		c->ntids++;
	}
}

int chain_resolve(struct chain_cache *c, const struct et_ring_wait_chain *r, size_t size,
		  struct et_ev_wait_chain *out)
{
	struct frames dw = { .n = 0 }, fp = { .n = 0 }, *best;
	struct chain_proc *p;
	int nfp;

	if (size != sizeof(*r) || r->stack_len > ET_CHAIN_STACK ||
	    r->fp_bytes > (int)sizeof(r->fp))
		return -EINVAL;
	tid_mark(c, r->hdr.tid);
	memset(out, 0, sizeof(*out));
	out->hdr = r->hdr;
	out->in = r->in;
	out->site = r->site;
	nfp = r->fp_bytes > 0 ? r->fp_bytes / 8 : 0;
	for (int i = 0; i < nfp && fp.n <= ET_CHAIN_FRAMES; i++) {
		if (!r->fp[i])
			break;
		fp.pc[fp.n] = r->fp[i];
		fp.activation[fp.n++] = i == 0;
	}
	p = proc_get(c, r->hdr.pid, r->ip);
	if (p && p->attached && r->stack_len) {
		c->cur = r;
		c->past_copy = c->live = false;
		c->bp = r->bp;
		/* an error ends the unwind where CFI or the copy ends: the frames so far stand */
		dwfl_getthread_frames(p->dwfl, r->hdr.tid, frame_cb, &dw);
		if (r->hdr.src == ET_SRC_USER)
			guess_bp(c, p->dwfl, r, &dw);
		c->cur = NULL;
	}
	best = dw.n >= fp.n ? &dw : &fp;
	out->method = !best->n ? ET_CHAIN_NONE : best == &dw ? ET_CHAIN_DWARF : ET_CHAIN_FP;
	if (p && c->past_copy && dw.n > 1 && dw.n <= ET_CHAIN_FRAMES &&
	    fp_extends(p->dwfl, &dw, &fp)) {
		best = &dw;
		out->method = ET_CHAIN_DWARF_FP;
	}
	out->cut = best->n > ET_CHAIN_FRAMES;
	out->live = best == &dw && c->live;
	out->nframes = best->n > ET_CHAIN_FRAMES ? ET_CHAIN_FRAMES : best->n;
	if (p && !p->syms)
		p->syms = calloc(CHAIN_SYMS, sizeof(*p->syms));
	for (int i = 0; i < out->nframes; i++) {
		struct sym_slot *s = p && p->syms ?
				     &p->syms[(best->pc[i] >> 2) * 0x9e3779b1u % CHAIN_SYMS] : NULL;

		if (s && s->f.addr == best->pc[i] && s->activation == best->activation[i]) {
			out->frame[i] = s->f;
			continue;
		}
		symbolize(p ? p->dwfl : NULL, best->pc[i], best->activation[i], &out->frame[i]);
		if (s) {
			s->f = out->frame[i];
			s->activation = best->activation[i];
		}
	}
	return 0;
}

static int tgid_of(__u32 tid, pid_t *tgid)
{
	char path[64], line[128];
	FILE *f;
	int err = -ESRCH;

	snprintf(path, sizeof(path), "/proc/%u/status", tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", tgid) == 1) {
			err = 0;
			break;
		}
	fclose(f);
	return err;
}

int chain_from_proc(struct chain_cache *c, __u32 tid, const struct et_inst *in,
		    struct et_ev_wait_chain *out)
{
	struct et_ring_wait_chain *r = &c->proc_rec;
	unsigned long long a[6], sp, pc;
	struct iovec local[4], remote[4];
	char path[64], line[256];
	struct timespec ts;
	size_t first;
	ssize_t n;
	long nr;
	pid_t tgid;
	FILE *f;
	int err;

	if (*tid_slot(c, tid) == tid)
		return -EEXIST;
	err = tgid_of(tid, &tgid);
	if (err)
		return err;
	/* "NR ARG1..ARG6 SP PC" while blocked in a syscall (fs/proc/base.c, proc_pid_syscall) */
	snprintf(path, sizeof(path), "/proc/%d/task/%u/syscall", tgid, tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	err = fgets(line, sizeof(line), f) &&
	      sscanf(line, "%ld %llx %llx %llx %llx %llx %llx %llx %llx", &nr, &a[0], &a[1], &a[2],
		     &a[3], &a[4], &a[5], &sp, &pc) == 9 ? 0 : -EAGAIN;
	fclose(f);
	/* x86_64's epoll_wait, epoll_pwait, epoll_pwait2: else running, or elsewhere */
	if (!err && nr != 232 && nr != 281 && nr != 441)
		err = -EAGAIN;
	if (err)
		return err;
	memset(r, 0, offsetof(struct et_ring_wait_chain, stack));
	clock_gettime(CLOCK_MONOTONIC, &ts);
	r->hdr.ts_ns = (__u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
	r->hdr.pid = tgid;
	r->hdr.tid = tid;
	r->hdr.type = ET_EV_WAIT_CHAIN;
	r->hdr.src = ET_SRC_USER;
	r->in = *in;
	r->ip = pc;
	r->sp = sp;
	/* a page at a time: a read stops whole iovecs short at the stack's end */
	first = 4096 - (sp & 4095);
	for (int i = 0; i < 4; i++) {
		size_t off = i ? first + (i - 1) * 4096 : 0;

		local[i] = (struct iovec){ r->stack + off, i ? 4096 : first };
		remote[i] = (struct iovec){ (void *)(uintptr_t)(sp + off), i ? 4096 : first };
	}
	n = process_vm_readv(tgid, local, 4, remote, 4, 0);
	if (n <= 0)
		return -errno;
	r->stack_len = (__u32)n;
	return chain_resolve(c, r, sizeof(*r), out);
}
