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

struct chain_cache {
	struct chain_proc p[CHAIN_PROCS];
	unsigned long clock;
	/* the record being unwound, read by the callbacks */
	const struct et_ring_wait_chain *cur;
	bool past_copy;		/* the unwind wanted a word above the copy, unreadable */
	bool live;		/* ... and read some from the live process */
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
	Dwarf_Word regs[2] = { r->bp, r->sp };	/* rbp, rsp */

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

int chain_resolve(struct chain_cache *c, const struct et_ring_wait_chain *r, size_t size,
		  struct et_ev_wait_chain *out)
{
	struct frames dw = { .n = 0 }, fp = { .n = 0 }, *best;
	struct chain_proc *p;
	int nfp;

	if (size != sizeof(*r) || r->stack_len > ET_CHAIN_STACK ||
	    r->fp_bytes > (int)sizeof(r->fp))
		return -EINVAL;
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
		/* an error ends the unwind where CFI or the copy ends: the frames so far stand */
		dwfl_getthread_frames(p->dwfl, r->hdr.tid, frame_cb, &dw);
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
