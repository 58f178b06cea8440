// SPDX-License-Identifier: GPL-2.0
/*
 * The attach plan: which attach point serves each logical hook on the
 * running kernel, and why every better one was rejected.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <linux/capability.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpf/btf.h>
#include "epolltrace.skel.h"
#include "json.h"
#include "kallsyms.h"
#include "log.h"
#include "mounts.h"
#include "plan.h"
#include "sites.h"
#include <linux/types.h>
#include "epolltrace.h"

#define R(k, f, fi, ...) { .kind = (k), .func = (f), .fid = (fi), .progs = { __VA_ARGS__ } }
#define RV(k, f, fi, v, ...) { .kind = (k), .func = (f), .fid = (fi), .variant = (v), \
			       .progs = { __VA_ARGS__ } }

/* The ranked table.  DESIGN.md "Hooks: a ranked plan per kernel". */
static const struct hook hook_table[] = {
	{
		.name = "create", .what = "an epoll instance is created",
		.fid_without = FID_DERIVED,
		.without = "instances are found at their first ctl or wait, or by a snapshot",
		.rungs = {
			/* no syscall tracepoint where fentry or kprobes work: one
			 * enabled puts every task on the syscall slow path */
			R(RUNG_FENTRY, "do_epoll_create", FID_EXACT, "fx_do_epoll_create"),
			R(RUNG_KPROBE, "do_epoll_create", FID_EXACT, "krp_do_epoll_create"),
			R(RUNG_TRACEPOINT, "syscalls:sys_exit_epoll_create{,1}", FID_EXACT,
			  "tp_exit_epoll_create", "tp_exit_epoll_create1"),
		}, .nrungs = 3,
	},
	{
		.name = "ctl", .what = "fds inserted, modified, removed (epoll_ctl)", .required = true,
		.rungs = {
			R(RUNG_NAMED, "ep_insert", FID_EXACT),
			R(RUNG_FENTRY, "do_epoll_ctl", FID_EXACT, "fe_do_epoll_ctl", "fx_do_epoll_ctl"),
			R(RUNG_KPROBE, "do_epoll_ctl", FID_EXACT, "kp_do_epoll_ctl", "krp_do_epoll_ctl"),
			R(RUNG_TRACEPOINT, "syscalls:sys_{enter,exit}_epoll_ctl", FID_EXACT,
			  "tp_enter_epoll_ctl", "tp_exit_epoll_ctl"),
		}, .nrungs = 4,
	},
	{
		.name = "close", .what = "implicit removal on last close; instance closed",
		.required = true,
		.rungs = {
			R(RUNG_FENTRY, "eventpoll_release_file+ep_eventpoll_release", FID_EXACT,
			  "fe_eventpoll_release_file", "fe_ep_eventpoll_release"),
			R(RUNG_KPROBE, "eventpoll_release_file+ep_eventpoll_release", FID_EXACT,
			  "kp_eventpoll_release_file", "kp_ep_eventpoll_release"),
			R(RUNG_TRACEPOINT, "syscalls:sys_enter_{close,close_range,dup2,dup3}",
			  FID_DERIVED, "tp_enter_close", "tp_enter_close_range", "tp_enter_dup2",
			  "tp_enter_dup3"),
		}, .nrungs = 3,
	},
	{
		.name = "callback", .what = "ep_poll_callback: an fd became ready",
		.fid_without = FID_SAMPLED,
		.without = "the ready list comes from snapshots only (sampled)",
		.rungs = {
			R(RUNG_FENTRY, "ep_poll_callback", FID_EXACT, "fe_ep_poll_callback"),
			/* twins without irq-context detection: see core_fixes */
			RV(RUNG_FENTRY, "ep_poll_callback", FID_EXACT, "no irq context",
			   "fe_ep_poll_callback_nc"),
			R(RUNG_KPROBE, "ep_poll_callback", FID_EXACT, "kp_ep_poll_callback"),
			RV(RUNG_KPROBE, "ep_poll_callback", FID_EXACT, "no irq context",
			   "kp_ep_poll_callback_nc"),
		}, .nrungs = 4,
	},
	{
		.name = "wait", .what = "epoll_wait entry and exit, events delivered",
		.required = true,
		.rungs = {
			R(RUNG_NAMED, "ep_poll", FID_EXACT),
			R(RUNG_FENTRY, "do_epoll_wait", FID_EXACT, "fe_do_epoll_wait",
			  "fx_do_epoll_wait"),
			R(RUNG_KPROBE, "do_epoll_wait", FID_EXACT, "kp_do_epoll_wait",
			  "krp_do_epoll_wait"),
			R(RUNG_TRACEPOINT, "syscalls:sys_{enter,exit}_epoll_{wait,pwait,pwait2}",
			  FID_EXACT, "tp_enter_epoll_wait", "tp_enter_epoll_pwait",
			  "tp_enter_epoll_pwait2", "tp_exit_epoll_wait", "tp_exit_epoll_pwait",
			  "tp_exit_epoll_pwait2"),
		}, .nrungs = 4,
	},
	{
		.name = "send_events", .what = "ep_send_events: ready items moved to user space",
		.fid_without = FID_DERIVED,
		.without = "the count comes from the wait's return value; re-queued items unknown",
		.rungs = {
			R(RUNG_NAMED, "ep_send_events", FID_EXACT),
			R(RUNG_FENTRY, "ep_done_scan", FID_EXACT, "fe_ep_done_scan"),
			R(RUNG_KPROBE, "ep_done_scan", FID_EXACT, "kp_ep_done_scan"),
		}, .nrungs = 3,
	},
	{
		.name = "sleep", .what = "a waiter falls asleep and is woken, and by whom",
		.fid_without = FID_SAMPLED,
		.without = "sleeping threads come from snapshots of the wait queue only",
		.rungs = {
			/* the waker's context: preempt count, irq account, unknown
			 * (handlers.bpf.h, handle_waking); exits attach first */
			RV(RUNG_TP_BTF, "sched_switch+sched_waking", FID_DERIVED,
			   "irq context from the preempt count, a per-cpu symbol that needs "
			   "CONFIG_KALLSYMS_ALL", "tb_sched_switch",
			   "tb_sched_waking", "tb_hrtimer_expire_exit", "tb_hrtimer_expire_entry"),
			RV(RUNG_TP_BTF, "sched_switch+sched_waking", FID_DERIVED,
			   "irq context from irq, softirq and hrtimer tracepoints", "tb_sched_switch",
			   "tb_sched_waking_it", "tb_irq_handler_exit", "tb_softirq_exit",
			   "tb_hrtimer_expire_exit", "tb_irq_handler_entry", "tb_softirq_entry",
			   "tb_hrtimer_expire_entry"),
			RV(RUNG_TP_BTF, "sched_switch+sched_waking", FID_DERIVED, "no irq context",
			   "tb_sched_switch", "tb_sched_waking_nc"),
		}, .nrungs = 3,
	},
	{
		.name = "lifetime", .what = "threads and processes exit; forks followed (-f)",
		.fid_without = FID_DERIVED,
		.without = "exits are noticed by polling /proc; -f does not work",
		.rungs = {
			R(RUNG_TP_BTF, "sched_process_exit+sched_process_fork", FID_EXACT,
			  "tb_sched_process_exit", "tb_sched_process_fork"),
		}, .nrungs = 1,
	},
	/*
	 * The named functions: extra hooks (the hooks above keep the records
	 * the model is driven by).  Each ranks the function by name, then its
	 * inlined sites (auto and --attach=inline, needs kprobes and the
	 * sites: inline_prepare), then nothing: the enclosing function's hook
	 * above reports the same moment.  KERNEL_FACTS.md, "Inlined sites".
	 */
	{
		.name = "ep_insert", .what = "ep_insert at its inlined site: an item is inserted",
		.without = "not by name: the ctl hook reports inserts",
		.rungs = {
			R(RUNG_NAMED, "ep_insert", FID_EXACT),
			R(RUNG_INLINE, "ep_insert", FID_EXACT, "in_ep_insert"),
		}, .nrungs = 2,
	},
	{
		.name = "ep_poll", .what = "ep_poll at its inlined site: the wait loop is entered",
		.without = "not by name: the wait hook reports waits",
		.rungs = {
			R(RUNG_NAMED, "ep_poll", FID_EXACT),
			R(RUNG_INLINE, "ep_poll", FID_EXACT, "in_ep_poll"),
		}, .nrungs = 2,
	},
	{
		.name = "ep_send_events",
		.what = "ep_send_events at its inlined site: the copy to user space starts",
		.without = "not by name: the send_events hook reports the scans",
		.rungs = {
			R(RUNG_NAMED, "ep_send_events", FID_EXACT),
			R(RUNG_INLINE, "ep_send_events", FID_EXACT, "in_ep_send_events"),
		}, .nrungs = 2,
	},
	{
		.name = "snapshot", .what = "rb-tree, rdllist, ovflist and wait queue, read in place",
		.required = true,
		.rungs = {
			R(RUNG_ITER, "iter/task_file", FID_SAMPLED, "snap_task_file"),
		}, .nrungs = 1,
	},
};

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif

#define NOT_CHECKED "not checked: needs root"

/* the kernel-internal ENOTSUPP, which BPF syscalls leak to user space */
#define ENOTSUPP_KERNEL 524

#define NHOOKS ((int)(sizeof(hook_table) / sizeof(hook_table[0])))

const char *plan_mode_name(enum plan_mode m)
{
	static const char *const n[] = { "auto", "fentry", "kprobe", "tracepoint", "inline" };

	return m <= PLAN_INLINE ? n[m] : "?";
}

int plan_mode_parse(const char *s, enum plan_mode *m)
{
	for (int i = PLAN_AUTO; i <= PLAN_INLINE; i++) {
		if (!strcmp(s, plan_mode_name(i))) {
			*m = i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *fidelity_name(enum fidelity f)
{
	static const char *const n[] = { "none", "sampled", "derived", "exact" };

	return f <= FID_EXACT ? n[f] : "?";
}

const char *rung_kind_name(enum rung_kind k)
{
	static const char *const n[] = { "named", "fentry", "kprobe", "tracepoint", "tp_btf",
					 "iter", "inline" };

	return k <= RUNG_INLINE ? n[k] : "?";
}

static bool hook_has_kind(const struct hook *h, enum rung_kind k)
{
	for (int i = 0; i < h->nrungs; i++)
		if (h->rungs[i].kind == k)
			return true;
	return false;
}

/* Does the forced mode allow this rung?  Sets the reason if not. */
static bool mode_allows(enum plan_mode m, const struct hook *h, struct rung *r)
{
	enum rung_kind want;

	if (m == PLAN_AUTO || m == PLAN_INLINE || r->kind == RUNG_NAMED)
		return true;
	if (m == PLAN_TRACEPOINT) {
		if (r->kind != RUNG_FENTRY && r->kind != RUNG_KPROBE && r->kind != RUNG_INLINE)
			return true;
		snprintf(r->reason, sizeof(r->reason), "skipped: --attach=tracepoint");
		return false;
	}
	want = m == PLAN_FENTRY ? RUNG_FENTRY : RUNG_KPROBE;
	if (r->kind == want || !hook_has_kind(h, want) ||
	    (r->kind != RUNG_FENTRY && r->kind != RUNG_KPROBE && r->kind != RUNG_TRACEPOINT))
		return true;
	snprintf(r->reason, sizeof(r->reason), "skipped: --attach=%s", plan_mode_name(m));
	return false;
}

/*
 * May this process load and attach tracing programs?  The kernel asks
 * bpf_capable() and perfmon_capable() (kernel/bpf/syscall.c): CAP_BPF
 * and CAP_PERFMON (since 5.8, commit 2c78ee898d8f "bpf: Implement
 * CAP_BPF"), or CAP_SYS_ADMIN.
 * Effective capabilities, not the uid: root without them is refused too.
 */
static bool privileged(void)
{
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct d[_LINUX_CAPABILITY_U32S_3] = {};

	if (syscall(SYS_capget, &h, d))
		return geteuid() == 0;
#define HAS(c) (!!(d[(c) >> 5].effective & (1u << ((c) & 31))))
	return HAS(CAP_SYS_ADMIN) || (HAS(CAP_BPF) && HAS(CAP_PERFMON));
#undef HAS
}

static bool kprobes_available(const struct plan *p)
{
	char path[96];

	/* the PMU is in sysfs, readable by anyone; kprobe_events needs tracefs */
	if (!access("/sys/bus/event_source/devices/kprobe/type", F_OK))
		return true;
	snprintf(path, sizeof(path), "%s/kprobe_events", p->tracefs);
	return p->tracefs[0] && !access(path, F_OK);
}

/* Static checks that need no load: kallsyms, BTF, tracefs. */
static void precheck(struct plan *p, struct btf *vmlinux)
{
	struct ksym_query q[64];
	size_t nq = 0;
	int kerr;

	/* gather every function name the table mentions */
	for (int i = 0; i < p->nhooks; i++) {
		for (int j = 0; j < p->hooks[i].nrungs; j++) {
			struct rung *r = &p->hooks[i].rungs[j];
			char buf[128], *tok, *save;

			if (r->kind != RUNG_NAMED && r->kind != RUNG_FENTRY && r->kind != RUNG_KPROBE)
				continue;
			snprintf(buf, sizeof(buf), "%s", r->func);
			for (tok = strtok_r(buf, "+", &save); tok; tok = strtok_r(NULL, "+", &save)) {
				size_t k;

				for (k = 0; k < nq; k++)
					if (!strcmp(q[k].name, tok))
						break;
				if (k == nq && nq < 64)
					q[nq++].name = strdup(tok);
			}
		}
	}
	q[nq++].name = strdup("ep_eventpoll_release");
	kerr = kallsyms_resolve(q, nq);
	p->ep_release_addr = q[nq - 1].addr;

	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];

		for (int j = 0; j < h->nrungs; j++) {
			struct rung *r = &h->rungs[j];
			char buf[128], *tok, *save;

			if (r->reason[0] || r->kind == RUNG_INLINE)
				continue;
			if (r->kind == RUNG_TP_BTF || r->kind == RUNG_ITER) {
				if (!vmlinux)
					snprintf(r->reason, sizeof(r->reason),
						 "no kernel BTF (/sys/kernel/btf/vmlinux)");
				continue;
			}
			if (r->kind == RUNG_TRACEPOINT) {
				char path[96];

				/* unprivileged, tracefs is out of sight: not checked */
				if (!p->tracefs[0]) {
					if (p->checked)
						snprintf(r->reason, sizeof(r->reason),
							 "tracefs is not mounted, and mounting "
							 "it failed");
					continue;
				}
				snprintf(path, sizeof(path), "%s/events/syscalls", p->tracefs);
				if (access(path, F_OK) && (p->checked || errno == ENOENT))
					snprintf(r->reason, sizeof(r->reason),
						 "no syscall tracepoints under %s "
						 "(CONFIG_FTRACE_SYSCALLS?)", path);
				continue;
			}
			if (r->kind == RUNG_KPROBE && !kprobes_available(p)) {
				snprintf(r->reason, sizeof(r->reason),
					 "kprobes unavailable (kernel built without CONFIG_KPROBES)");
				continue;
			}
			snprintf(buf, sizeof(buf), "%s", r->func);
			r->ntok = 0;
			for (tok = strtok_r(buf, "+", &save); tok && !r->reason[0];
			     tok = strtok_r(NULL, "+", &save)) {
				struct ksym_query *k = NULL;

				for (size_t n = 0; n < nq; n++)
					if (!strcmp(q[n].name, tok))
						k = &q[n];
				if (kerr) {
					snprintf(r->reason, sizeof(r->reason),
						 "cannot read /proc/kallsyms: %s", strerror(-kerr));
				} else if (!k || !k->found[0]) {
					snprintf(r->reason, sizeof(r->reason),
						 "%s not in kallsyms (inlined or absent)", tok);
				} else if (r->kind == RUNG_NAMED) {
					snprintf(r->reason, sizeof(r->reason),
						 "%.64s is in kallsyms, but epolltrace has no "
						 "program for it: the rungs below cover it",
						 k->found);
				} else if (r->kind == RUNG_FENTRY &&
					   (!vmlinux ||
					    btf__find_by_name_kind(vmlinux, tok, BTF_KIND_FUNC) < 0)) {
					snprintf(r->reason, sizeof(r->reason),
						 "%s has no BTF (fentry needs it)", tok);
				} else if (r->ntok < 2) {
					/* program k attaches to token min(k, ntok - 1) */
					snprintf(r->attach_sym[r->ntok], sizeof(r->attach_sym[0]),
						 "%s", k->found);
					r->ntok++;
				}
			}
		}
	}
	for (size_t n = 0; n < nq; n++)
		free((char *)q[n].name);
}

/* ---- the inline rung ------------------------------------------------------ */

/* struct pt_regs words of x86_64 by DWARF register number (dwloc.h) */
static const int pt_regs_word[17] = {
	[0] = 10 /* ax */, [1] = 12 /* dx */, [2] = 11 /* cx */, [3] = 5 /* bx */,
	[4] = 13 /* si */, [5] = 14 /* di */, [6] = 4 /* bp */, [7] = 19 /* sp */,
	[8] = 9, [9] = 8, [10] = 7, [11] = 6, [12] = 3, [13] = 2, [14] = 1, [15] = 0,
	[16] = 16 /* ip */,
};

/* the arguments each program reads, in et_isite.arg[] order (epolltrace.h) */
static const struct {
	const char *func;
	__u32 kind;
	const char *args[ET_INLINE_ARGS];
	const char *needed;	/* without it the record means nothing */
} inline_kinds[] = {
	{ "ep_insert", ET_INL_EP_INSERT, { "event", "tfile", "fd" }, NULL },
	{ "ep_poll", ET_INL_EP_POLL, { "ep", "maxevents", "timeout" }, "ep" },
	{ "ep_send_events", ET_INL_EP_SEND_EVENTS, { "ep", "maxevents" }, "ep" },
};

#define NINLINE_KINDS ((int)(sizeof(inline_kinds) / sizeof(inline_kinds[0])))

static int inline_kind_of(const char *func)
{
	for (int i = 0; i < NINLINE_KINDS; i++)
		if (!strcmp(inline_kinds[i].func, func))
			return i;
	return -1;
}

static const struct site_arg *site_arg_named(const struct site *st, const char *name)
{
	for (int i = 0; i < st->nargs; i++)
		if (!strcmp(st->args[i].name, name))
			return &st->args[i];
	return NULL;
}

/* Where each argument lives, for the BPF program.  0, or -1 with why. */
static int isite_fill(const struct site *st, int k, struct et_isite *is, char *why, size_t n)
{
	memset(is, 0, sizeof(*is));
	is->kind = inline_kinds[k].kind;
	for (int a = 0; a < ET_INLINE_ARGS && inline_kinds[k].args[a]; a++) {
		const struct site_arg *sa = site_arg_named(st, inline_kinds[k].args[a]);
		struct et_iarg *ia = &is->arg[a];

		if (!sa)
			continue;
		ia->size = sa->size && sa->size <= 8 ? sa->size : 8;
		switch (sa->loc.kind) {
		case DWLOC_REG:
		case DWLOC_MEM:
			if (sa->loc.reg < 0 || sa->loc.reg > 16 ||
			    sa->loc.off < INT32_MIN || sa->loc.off > INT32_MAX)
				break;
			ia->how = sa->loc.kind == DWLOC_REG ? ET_ILOC_REG : ET_ILOC_MEM;
			ia->reg = pt_regs_word[sa->loc.reg];
			ia->off = (__s32)sa->loc.off;
			break;
		case DWLOC_CONST:
			ia->how = ET_ILOC_CONST;
			ia->value = sa->loc.value;
			break;
		default:
			break;
		}
		if (inline_kinds[k].needed && !strcmp(inline_kinds[k].needed, sa->name) &&
		    ia->how == ET_ILOC_ABSENT) {
			snprintf(why, n, "%.31s's %.31s is optimized out at %.100s+0x%llx", st->func, sa->name,
				 st->container, (unsigned long long)st->off);
			return -1;
		}
	}
	return 0;
}

/*
 * Sites for the running kernel from the cache or the debug info, for a
 * plan that wants the rung on a kernel with kprobes.  vmlinux (--vmlinux
 * or $EPOLLTRACE_VMLINUX) is checked first: another build's file is
 * refused even when the cache has this build's sites.  Sets p->sites, or
 * err.
 */
static void inline_find(struct plan *p, const struct plan_params *pp, const char *vmlinux,
			char *err, size_t errsize)
{
	struct debuginfo di;
	struct build_id run;
	struct sites *s;
	char e[600];
	bool have_di = false;
	int r;

	if (vmlinux) {
		if (debuginfo_find(vmlinux, true, false, &di, err, errsize))
			return;
		have_di = true;
	}
	if (!pp->no_cache && !build_id_running(&run, e, sizeof(e))) {
		s = calloc(1, sizeof(*s));
		r = s ? sites_cache_load(&run, s, e, sizeof(e)) : 0;
		if (r == 1) {
			p->sites = s;
			snprintf(p->sites_from, sizeof(p->sites_from), "cache");
			return;
		}
		free(s);
		if (r < 0)
			et_warn("the sites cache is refused: %s; reading the debug info again", e);
	}
	if (!have_di && debuginfo_find(NULL, true, debuginfo_debuginfod_wanted(pp->debuginfod),
				       &di, err, errsize))
		return;	/* err names the package to install */
	/* without privileges auto cannot attach anyway: finding the file is
	 * enough to say the rung is possible (unchecked) */
	if (!p->checked && p->mode != PLAN_INLINE)
		return;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errsize, "out of memory");
		return;
	}
	if (sites_resolve(&di, s, err, errsize)) {
		free(s);
		return;
	}
	p->sites = s;
	snprintf(p->sites_from, sizeof(p->sites_from), "debug info");
	if (pp->no_cache || !p->checked)
		return;
	if (sites_cache_store(s, p->sites_cached, sizeof(p->sites_cached), e, sizeof(e))) {
		et_warn("cannot keep the sites in the cache: %s", e);
		p->sites_cached[0] = 0;
	}
}

/*
 * The inline rung's static checks: kprobes, and sites for the running
 * kernel's build, from --sites FILE, the cache or the debug info found.
 * In auto mode the rung ranks after the named function (fentry/kprobe by
 * name: absent where it is inlined) and before the enclosing function
 * (the ctl, wait and send_events hooks), so the debug info is looked for
 * whenever kprobes exist; forced fentry or kprobe modes use it only with
 * --sites or --vmlinux.  DWARF is read only when the rung is wanted;
 * otherwise the reason says what it would need.
 */
static void inline_prepare(struct plan *p, const struct plan_params *pp)
{
	const char *vmlinux = pp->vmlinux && *pp->vmlinux ? pp->vmlinux :
			      getenv("EPOLLTRACE_VMLINUX");
	bool given, wanted;
	char why[320] = "", err[300] = "";
	bool kprobes = kprobes_available(p);

	if (vmlinux && !*vmlinux)
		vmlinux = NULL;
	given = pp->sites_file || vmlinux;
	wanted = p->mode == PLAN_AUTO || p->mode == PLAN_INLINE ||
		 (given && p->mode != PLAN_TRACEPOINT);
	if (!kprobes)
		snprintf(why, sizeof(why), "kprobes unavailable (kernel built without "
			 "CONFIG_KPROBES)");
	if (pp->sites_file) {
		FILE *f = fopen(pp->sites_file, "r");
		struct sites *s = calloc(1, sizeof(*s));

		if (!s) {
			snprintf(err, sizeof(err), "out of memory");
		} else if (!f) {
			snprintf(err, sizeof(err), "%s: %s", pp->sites_file, strerror(errno));
			free(s);
		} else if (sites_read(f, pp->sites_file, s, err, sizeof(err)) ||
			   sites_check_running(s, err, sizeof(err))) {
			sites_free(s);
			free(s);
		} else {
			p->sites = s;
			snprintf(p->sites_from, sizeof(p->sites_from), "sites file");
		}
		if (f)
			fclose(f);
	} else if (!kprobes || !wanted) {
		struct debuginfo di;

		/* what the rung would need; no DWARF is read, nothing fetched */
		if (debuginfo_find(vmlinux, true, false, &di, err, sizeof(err))) {
			/* err names the package to install */
		} else if (!wanted) {
			snprintf(err, sizeof(err), "not used with --attach=%s: debug info %.200s "
				 "found; use --attach=auto or inline", plan_mode_name(p->mode),
				 di.path);
		}
	} else {
		inline_find(p, pp, vmlinux, err, sizeof(err));
	}
	if (err[0] && why[0]) {
		size_t l = strlen(why);

		snprintf(why + l, sizeof(why) - l, "; %s", err);
	} else if (err[0]) {
		snprintf(why, sizeof(why), "%s", err);
	}
	if (!why[0] && !wanted)
		snprintf(why, sizeof(why), "not used with --attach=%s: use --attach=auto or inline, "
			 "--sites FILE or --vmlinux FILE", plan_mode_name(p->mode));

	for (int i = 0; i < p->nhooks; i++) {
		for (int j = 0; j < p->hooks[i].nrungs; j++) {
			struct rung *r = &p->hooks[i].rungs[j];
			int k, usable = 0;
			char swhy[200] = "";

			if (r->kind != RUNG_INLINE || r->reason[0])
				continue;
			if (why[0]) {
				snprintf(r->reason, sizeof(r->reason), "%s", why);
				continue;
			}
			k = inline_kind_of(r->func);
			for (size_t n = 0; p->sites && k >= 0 && n < p->sites->n; n++) {
				const struct site *st = &p->sites->v[n];
				struct et_isite is;

				if (strcmp(st->func, r->func) || !st->usable)
					continue;
				if (n >= ET_INLINE_MAX_SITES) {
					snprintf(swhy, sizeof(swhy), "more than %d sites",
						 ET_INLINE_MAX_SITES);
					continue;
				}
				if (!isite_fill(st, k, &is, swhy, sizeof(swhy)))
					usable++;
			}
			if (!usable)
				snprintf(r->reason, sizeof(r->reason), "no usable site of %.31s in %.100s%s%.140s",
					 r->func, p->sites ? p->sites->path : "?",
					 swhy[0] ? ": " : "", swhy);
		}
	}
}

/* Fill inline_sites and attach one kprobe link per usable site of r. */
static int inline_attach(struct plan *p, struct rung *r, struct bpf_program *prog,
			 struct plan_loaded *out)
{
	int k = inline_kind_of(r->func), fd, n = 0;

	if (k < 0 || !p->sites)
		return -ENOENT;
	fd = bpf_map__fd(out->skel->maps.inline_sites);
	for (size_t i = 0; i < p->sites->n && i < ET_INLINE_MAX_SITES; i++) {
		const struct site *st = &p->sites->v[i];
		LIBBPF_OPTS(bpf_kprobe_opts, o);
		struct et_isite is;
		struct bpf_link *link;
		char why[200];
		__u32 key = (__u32)i;

		if (strcmp(st->func, r->func) || !st->usable || isite_fill(st, k, &is, why,
									    sizeof(why)))
			continue;
		if (out->nlinks >= (int)(sizeof(out->links) / sizeof(out->links[0])))
			return -E2BIG;
		if (bpf_map_update_elem(fd, &key, &is, BPF_ANY))
			return -errno;
		/* the cookie selects the site's row: pitfall 6 (cookies need 5.15) */
		o.offset = st->off;
		o.bpf_cookie = i;
		link = bpf_program__attach_kprobe_opts(prog, st->container, &o);
		if (!link)
			return -errno;
		out->links[out->nlinks++] = link;
		p->inline_links++;
		n++;
	}
	return n ? 0 : -ENOENT;
}

/* the hook's inline rung, or NULL */
static const struct rung *inline_rung(const struct hook *h)
{
	for (int j = 0; j < h->nrungs; j++)
		if (h->rungs[j].kind == RUNG_INLINE)
			return &h->rungs[j];
	return NULL;
}

static bool inline_hook(const struct hook *h)
{
	return inline_rung(h) != NULL;
}

const char *plan_inline_unused(const struct plan *p)
{
	for (int i = 0; i < p->nhooks; i++)
		if (inline_hook(&p->hooks[i]) && p->hooks[i].chosen < 0)
			return inline_rung(&p->hooks[i])->reason[0] ?
			       inline_rung(&p->hooks[i])->reason : "not attached";
	return NULL;
}

/*
 * A syscall tracepoint enabled at all puts every task of the machine on
 * the syscall slow path.  Where only the create hook would need one (its
 * fexit and kretprobe rungs failed, the other hooks use fentry or
 * kprobes), go without it: instances are found at their first ctl or
 * wait, or by a snapshot.
 */
#define LONE_TP "skipped: no other hook needs a syscall tracepoint, and one would slow " \
		"every process's syscalls"

static void drop_lone_syscall_tracepoint(struct plan *p)
{
	struct hook *create = NULL;

	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];

		if (h->chosen < 0 || h->rungs[h->chosen].kind != RUNG_TRACEPOINT)
			continue;
		if (strcmp(h->name, "create"))
			return;
		create = h;
	}
	if (!create)
		return;
	snprintf(create->rungs[create->chosen].reason, sizeof(create->rungs[0].reason),
		 "%s", LONE_TP);
	create->chosen = -1;
}

/* Pick, for each hook, the first rung not yet rejected. */
static void choose(struct plan *p)
{
	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];

		h->chosen = -1;
		/* decided anew each time: the other hooks may have fallen back */
		for (int j = 0; j < h->nrungs; j++)
			if (!strcmp(h->rungs[j].reason, LONE_TP))
				h->rungs[j].reason[0] = 0;
		for (int j = 0; j < h->nrungs; j++) {
			if (h->rungs[j].kind == RUNG_NAMED) {
				h->rungs[j].tried = true;
				continue;
			}
			if (!h->rungs[j].reason[0]) {
				h->chosen = j;
				h->rungs[j].tried = true;
				break;
			}
			h->rungs[j].tried = true;
		}
	}
	drop_lone_syscall_tracepoint(p);
}

static struct rung *rung_of_prog(struct plan *p, const char *prog)
{
	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];

		if (h->chosen < 0)
			continue;
		for (int k = 0; k < PLAN_MAX_PROGS && h->rungs[h->chosen].progs[k]; k++)
			if (!strcmp(h->rungs[h->chosen].progs[k], prog))
				return &h->rungs[h->chosen];
	}
	return NULL;
}

static const char *err_hint(enum rung_kind k, int err)
{
	if (err == -EPERM || err == -EACCES) {
		if (k == RUNG_FENTRY)
			return " (the kernel refuses fentry/fexit here: ftrace is closed or "
			       "CAP_SYS_ADMIN/CAP_BPF is missing)";
		return " (needs root, or CAP_BPF + CAP_PERFMON)";
	}
	if (err == -EOPNOTSUPP || err == -ENOTSUPP_KERNEL)
		return " (not supported by this kernel)";
	return "";
}

/* Reject a rung after a dynamic failure; EPERM-like failures of one
 * fentry/kprobe program reject every rung of that kind. */
static void reject(struct plan *p, struct rung *r, const char *what, int err)
{
	enum rung_kind k = r->kind;
	bool all = (err == -EPERM || err == -EACCES || err == -EOPNOTSUPP ||
		    err == -ENOTSUPP_KERNEL) && (k == RUNG_FENTRY || k == RUNG_KPROBE);

	for (int i = 0; i < p->nhooks; i++) {
		for (int j = 0; j < p->hooks[i].nrungs; j++) {
			struct rung *o = &p->hooks[i].rungs[j];

			if (o != r && (!all || o->kind != k || o->reason[0]))
				continue;
			snprintf(o->reason, sizeof(o->reason), "%s: %s%s", what, strerror(-err),
				 err_hint(k, err));
		}
	}
}

#ifdef ET_BENCH
/*
 * make bench's bench build only (build/bench/steps/epolltrace, never the
 * installed binary): EPOLLTRACE_BENCH_CUT="wait_enter=3,switch=2" stops
 * those handlers before that step (bpf/common.bpf.h, bench_cut).
 */
static void bench_cut_set(volatile __u8 *cut, size_t n)
{
	static const char *const names[] = {
		"wait_enter", "wait_exit", "ctl_enter", "ctl_exit", "switch", "waking",
	};
	const char *s = getenv("EPOLLTRACE_BENCH_CUT");
	char name[32];
	int step, len;

	while (s && sscanf(s, "%31[a-z_]=%d%n", name, &step, &len) == 2) {
		for (size_t i = 0; i < n && i < sizeof(names) / sizeof(names[0]); i++)
			if (!strcmp(names[i], name))
				cut[i] = step;
		s += len;
		s += *s == ',';
	}
}
#endif

static int load_once(struct plan *p, const struct plan_params *pp, struct plan_loaded *out)
{
	struct epolltrace_bpf *skel;
	struct bpf_program *prog;
	int err;

	skel = epolltrace_bpf__open();
	if (!skel)
		return -errno;
	skel->rodata->self_tgid = pp->self_tgid;
	skel->rodata->trace_all = pp->trace_all;
	skel->rodata->ep_release_addr = p->ep_release_addr;
	skel->rodata->wakeup_bytes = pp->wakeup_bytes;
#ifdef ET_BENCH
	bench_cut_set(skel->rodata->bench_cut, sizeof(skel->rodata->bench_cut));
	skel->rodata->chain_every_wait = !!getenv("EPOLLTRACE_BENCH_CHAIN_EVERY");
#endif
	bpf_map__set_max_entries(skel->maps.events, pp->events_ring_bytes);
	bpf_object__for_each_program(prog, skel->obj)
		bpf_program__set_autoload(prog, rung_of_prog(p, bpf_program__name(prog)) != NULL);

	et_log_libbpf_clear();
	err = epolltrace_bpf__load(skel);
	if (err) {
		const char *l = et_log_libbpf_find("prog '");
		char name[64] = "";
		struct rung *r = NULL;

		if (l && sscanf(strstr(l, "prog '") + 6, "%63[^']", name) == 1)
			r = rung_of_prog(p, name);
		epolltrace_bpf__destroy(skel);
		if (!r) {
			/* without tracefs the one line says that (and mounting it
			 * needs CAP_SYS_ADMIN, whose lack is often the cause) */
			if (!p->tracefs[0])
				et_debug("loading BPF programs failed: %s", strerror(-err));
			else
				et_err("loading BPF programs failed: %s%s", strerror(-err),
				       err_hint(RUNG_TRACEPOINT, err));
			return err;
		}
		reject(p, r, "load failed", err);
		return -EAGAIN;
	}

	out->skel = skel;
	out->nlinks = 0;
	p->inline_links = 0;
	for (int i = 0; i < p->nhooks; i++) {
		struct hook *h = &p->hooks[i];
		struct rung *r;

		if (h->chosen < 0)
			continue;
		r = &h->rungs[h->chosen];
		for (int k = 0; k < PLAN_MAX_PROGS && r->progs[k]; k++) {
			struct bpf_link *link;

			prog = bpf_object__find_program_by_name(skel->obj, r->progs[k]);
			if (r->kind == RUNG_INLINE) {
				err = inline_attach(p, r, prog, out);
				if (err) {
					plan_unload(out);
					reject(p, r, "attach failed", err);
					return -EAGAIN;
				}
				continue;
			}
			if (r->kind == RUNG_ITER)
				link = bpf_program__attach_iter(prog, NULL);
			else if (r->kind == RUNG_KPROBE)
				link = bpf_program__attach_kprobe(prog, !strncmp(r->progs[k], "krp_", 4),
								  r->attach_sym[k < r->ntok ? k : r->ntok - 1]);
			else
				link = bpf_program__attach(prog);
			err = -errno;
			if (!link) {
				plan_unload(out);
				reject(p, r, "attach failed", err);
				return -EAGAIN;
			}
			out->links[out->nlinks++] = link;
			if (r->kind == RUNG_ITER)
				out->iter_link = link;
		}
	}
	return 0;
}

int plan_load(struct plan *p, enum plan_mode mode, const struct plan_params *pp,
	      struct plan_loaded *out)
{
	struct btf *vmlinux;
	const char *tracefs;
	struct utsname u;
	int err = 0;

	memset(p, 0, sizeof(*p));
	memset(out, 0, sizeof(*out));
	p->mode = mode;
	p->nhooks = NHOOKS;
	p->hooks = calloc(NHOOKS, sizeof(*p->hooks));
	if (!p->hooks)
		return -ENOMEM;
	memcpy(p->hooks, hook_table, sizeof(hook_table));
	if (!uname(&u)) {
		snprintf(p->kernel, sizeof(p->kernel), "%s", u.release);
		snprintf(p->machine, sizeof(p->machine), "%s", u.machine);
	}
	for (int i = 0; i < p->nhooks; i++)
		for (int j = 0; j < p->hooks[i].nrungs; j++)
			mode_allows(mode, &p->hooks[i], &p->hooks[i].rungs[j]);

	/* privileges first: an unprivileged run mounts nothing and loads nothing */
	p->checked = privileged();
	tracefs = mounts_tracefs(p->checked, p->mount_err, sizeof(p->mount_err));
	snprintf(p->tracefs, sizeof(p->tracefs), "%s", tracefs ? tracefs : "");
	vmlinux = btf__load_vmlinux_btf();
	precheck(p, vmlinux);
	btf__free(vmlinux);
	inline_prepare(p, pp);
	if (!p->checked) {
		for (int i = 0; i < p->nhooks; i++) {
			p->hooks[i].chosen = -1;
			for (int j = 0; j < p->hooks[i].nrungs; j++) {
				struct rung *r = &p->hooks[i].rungs[j];

				r->tried = true;
				r->unchecked = r->kind != RUNG_NAMED && !r->reason[0];
			}
		}
		snprintf(p->fix, sizeof(p->fix),
			 "run as root (or grant CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN)");
		return -EPERM;
	}

	/* each retry rejects at least one rung, so this terminates */
	for (int tries = 0; tries < 64; tries++) {
		choose(p);
		p->ok = true;
		for (int i = 0; i < p->nhooks; i++)
			if (p->hooks[i].chosen < 0 && (p->hooks[i].required ||
			    (mode == PLAN_INLINE && inline_hook(&p->hooks[i]))))
				p->ok = false;
		if (!p->ok)
			break;
		err = load_once(p, pp, out);
		if (err != -EAGAIN)
			break;
	}
	if (p->ok && err)
		p->ok = false;
	if (!p->ok) {
		char path[96];

		snprintf(path, sizeof(path), "%s/events/syscalls", p->tracefs);
		for (int i = 0; i < p->nhooks && mode == PLAN_INLINE && !p->fix[0]; i++)
			if (inline_hook(&p->hooks[i]) && p->hooks[i].chosen < 0)
				snprintf(p->fix, sizeof(p->fix), "--attach=inline: %s",
					 inline_rung(&p->hooks[i])->reason);
		if (p->fix[0])
			;
		else if (access("/sys/kernel/btf/vmlinux", R_OK))
			snprintf(p->fix, sizeof(p->fix),
				 "this kernel has no BTF: it needs CONFIG_DEBUG_INFO_BTF=y");
		else if (!p->tracefs[0])
			snprintf(p->fix, sizeof(p->fix), "%s", p->mount_err);
		else if (access(path, F_OK))
			snprintf(p->fix, sizeof(p->fix),
				 "this kernel has no syscall tracepoints (%s): it needs "
				 "CONFIG_FTRACE_SYSCALLS=y", path);
		else if (mode != PLAN_AUTO)
			snprintf(p->fix, sizeof(p->fix),
				 "--attach=%s does not work on this kernel; try --attach=auto",
				 plan_mode_name(mode));
		else
			snprintf(p->fix, sizeof(p->fix),
				 "see the reasons above; run with -v for libbpf's log");
		return err ? err : -ENOTSUP;
	}
	return 0;
}

void plan_unload(struct plan_loaded *l)
{
	for (int i = 0; i < l->nlinks; i++)
		bpf_link__destroy(l->links[i]);
	l->nlinks = 0;
	l->iter_link = NULL;
	epolltrace_bpf__destroy(l->skel);
	l->skel = NULL;
}

void plan_free(struct plan *p)
{
	if (p->sites) {
		sites_free(p->sites);
		free(p->sites);
		p->sites = NULL;
	}
	free(p->hooks);
	p->hooks = NULL;
}

static const struct hook *find_hook(const struct plan *p, const char *name)
{
	for (int i = 0; i < p->nhooks; i++)
		if (!strcmp(p->hooks[i].name, name))
			return &p->hooks[i];
	return NULL;
}

enum fidelity plan_fidelity(const struct plan *p, const char *name)
{
	const struct hook *h = find_hook(p, name);

	if (!h)
		return FID_NONE;
	return h->chosen >= 0 ? h->rungs[h->chosen].fid : h->fid_without;
}

/* What each view can show, from the hooks it rests on. */
struct view_row {
	const char *view;
	enum fidelity fid;
	const char *why;
};

static int views(const struct plan *p, struct view_row *v)
{
	enum fidelity cb = plan_fidelity(p, "callback"), sl = plan_fidelity(p, "sleep");
	int n = 0;

	v[n++] = (struct view_row){ "interest set (rb-tree)", FID_EXACT,
				    "epoll_ctl events, corrected by snapshots" };
	v[n++] = (struct view_row){ "implicit removals", plan_fidelity(p, "close"),
				    plan_fidelity(p, "close") == FID_EXACT ?
				    "eventpoll_release_file" :
				    "last close seen at close/close_range/dup2/dup3 entry" };
	v[n++] = (struct view_row){ "ready list (rdllist)", cb == FID_EXACT ? FID_EXACT : FID_SAMPLED,
				    cb == FID_EXACT ? "ep_poll_callback adds, deliveries remove" :
				    "snapshots only: ep_poll_callback is not attachable" };
	v[n++] = (struct view_row){ "waiters (wait queue)", sl == FID_NONE ? FID_SAMPLED : sl,
				    sl == FID_DERIVED ? "epoll_wait entry/exit + sched_switch/waking" :
				    "snapshots only" };
	v[n++] = (struct view_row){ "events delivered", FID_EXACT,
				    "wait return value and the user buffer" };
	v[n++] = (struct view_row){ "send-events step", plan_fidelity(p, "send_events"),
				    plan_fidelity(p, "send_events") == FID_EXACT ?
				    "ep_done_scan: items re-queued by each scan" :
				    "count from the wait's return value" };
	return n;
}

/* A hook whose outcome is unknown: some rung passed the static checks,
 * and loading was not tried (no privileges). */
static bool hook_unchecked(const struct hook *h)
{
	for (int j = 0; j < h->nrungs; j++)
		if (h->rungs[j].unchecked)
			return true;
	return false;
}

/* The sites the inline rung read: where from, and every site's arguments. */
static void print_sites(const struct plan *p, FILE *f)
{
	char hex[2 * BUILD_ID_MAX + 1], loc[64];

	if (!p->sites)
		return;
	build_id_hex(&p->sites->id, hex);
	fprintf(f, "\nINLINE SITES from the %s %s (build-id %s)\n", p->sites_from, p->sites->path,
		hex);
	if (p->sites_cached[0])
		fprintf(f, "  kept in the cache %s\n", p->sites_cached);
	for (size_t i = 0; i < p->sites->n; i++) {
		const struct site *st = &p->sites->v[i];

		fprintf(f, "  %-15s %s+0x%llx %s", st->func, st->container,
			(unsigned long long)st->off, st->inlined ? "inline" : "entry ");
		for (int a = 0; a < st->nargs; a++) {
			dwloc_format(&st->args[a].loc, loc, sizeof(loc));
			fprintf(f, " %s=%s/%u", st->args[a].name, loc, st->args[a].size);
		}
		fputc('\n', f);
	}
}

static void print_sites_json(const struct plan *p, struct json_writer *w)
{
	char hex[2 * BUILD_ID_MAX + 1], loc[64];

	json_key(w, "inline");
	if (!p->sites) {
		json_null(w);
		return;
	}
	build_id_hex(&p->sites->id, hex);
	json_obj_begin(w);
	json_kv_str(w, "from", p->sites_from);
	json_kv_str(w, "file", p->sites->path);
	json_kv_str(w, "build_id", hex);
	json_key(w, "cached");	/* the cache file written now, or null */
	if (p->sites_cached[0])
		json_str(w, p->sites_cached);
	else
		json_null(w);
	json_kv_u64(w, "links", p->inline_links);
	json_key(w, "sites");
	json_arr_begin(w);
	for (size_t i = 0; i < p->sites->n; i++) {
		const struct site *st = &p->sites->v[i];

		json_obj_begin(w);
		json_kv_str(w, "function", st->func);
		json_kv_str(w, "container", st->container);
		json_kv_u64(w, "offset", st->off);
		json_kv_str(w, "kind", st->inlined ? "inline" : "entry");
		json_key(w, "args");
		json_arr_begin(w);
		for (int a = 0; a < st->nargs; a++) {
			dwloc_format(&st->args[a].loc, loc, sizeof(loc));
			json_obj_begin(w);
			json_kv_str(w, "name", st->args[a].name);
			json_kv_str(w, "loc", loc);
			json_kv_u64(w, "size", st->args[a].size);
			json_obj_end(w);
		}
		json_arr_end(w);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}

/* What the plan in force costs others, and whom it sees: one line each. */
static const char *const notes[] = {
	"tracepoint mode puts every process's syscalls on the tracing slow path (an untraced "
	"redis kept 0.87-0.92 of its throughput with empty programs there): fentry "
	"and kprobe modes avoid it",
	"a process holding a traced instance without being a target (a child forked before "
	"tracing, an epoll fd passed over SCM_RIGHTS or pidfd_getfd) is a sharer: traced like "
	"a target from the first snapshot round that finds it, not before",
};

#define NNOTES ((int)(sizeof(notes) / sizeof(notes[0])))

static bool note_applies(const struct plan *p, int i)
{
	if (i == 1)
		return p->checked;
	for (int k = 0; k < p->nhooks; k++)
		if (p->hooks[k].chosen >= 0 &&
		    p->hooks[k].rungs[p->hooks[k].chosen].kind == RUNG_TRACEPOINT)
			return p->checked;
	return false;
}

void plan_print(const struct plan *p, FILE *f)
{
	struct view_row v[8];
	int nv;

	fprintf(f, "kernel %s %s, --attach=%s\n\n", p->kernel, p->machine, plan_mode_name(p->mode));
	if (!p->checked)
		fprintf(f, "Without privileges only BTF, kallsyms and the kprobe PMU can be read;\n"
			   "whether a program loads and attaches is " NOT_CHECKED ".\n\n");
	fprintf(f, "%-14s %-11s %-8s %s\n", "HOOK", "USING", "FIDELITY", "ATTACH POINT");
	for (int i = 0; i < p->nhooks; i++) {
		const struct hook *h = &p->hooks[i];
		const struct rung *c = h->chosen >= 0 ? &h->rungs[h->chosen] : NULL;

		if (hook_unchecked(h))
			fprintf(f, "%-14s %-11s %-8s %s\n", h->name, "?", "?", NOT_CHECKED);
		else
			fprintf(f, "%-14s %-11s %-8s %s%s%s%s\n", h->name,
				c ? rung_kind_name(c->kind) : "-",
				fidelity_name(c ? c->fid : h->fid_without),
				c ? c->func : (h->without ? h->without : "NOT AVAILABLE"),
				c && c->variant ? " (" : "", c && c->variant ? c->variant : "",
				c && c->variant ? ")" : "");
		for (int j = 0; j < h->nrungs; j++) {
			const struct rung *r = &h->rungs[j];

			if (j == h->chosen || (!r->reason[0] && !r->unchecked))
				continue;
			fprintf(f, "  %-10s %-10s %s%s%s%s: %s\n",
				r->unchecked ? "unchecked" : "rejected", rung_kind_name(r->kind),
				r->func, r->variant ? " (" : "", r->variant ? r->variant : "",
				r->variant ? ")" : "", r->unchecked ? NOT_CHECKED : r->reason);
		}
	}
	print_sites(p, f);
	nv = views(p, v);
	fprintf(f, "\n%-24s %-8s %s\n", "VIEW", "FIDELITY", "FROM");
	for (int i = 0; i < nv; i++)
		fprintf(f, "%-24s %-8s %s\n", v[i].view, p->checked ? fidelity_name(v[i].fid) : "?",
			p->checked ? v[i].why : NOT_CHECKED);
	if (!p->checked)
		fprintf(f, "\nresult: " NOT_CHECKED "; %s\n", p->fix);
	else if (p->ok)
		fprintf(f, "\nresult: a full mode works on this kernel\n");
	else
		fprintf(f, "\nresult: no full mode works: %s\n", p->fix);
	for (int i = 0; i < NNOTES; i++)
		if (note_applies(p, i))
			fprintf(f, "note: %s\n", notes[i]);
}

/*
 * Without privileges: "checked": false, and null wherever the outcome is
 * unknown (a hook's using/point/fidelity, a view's fidelity); an
 * unchecked rung carries "unchecked" instead of "rejected".
 */
void plan_print_json(const struct plan *p, FILE *f)
{
	struct json_writer w;
	struct view_row v[8];
	int nv = views(p, v);

	json_init(&w, f);
	json_obj_begin(&w);
	json_kv_str(&w, "kernel", p->kernel);
	json_kv_str(&w, "machine", p->machine);
	json_kv_str(&w, "attach", plan_mode_name(p->mode));
	json_kv_bool(&w, "checked", p->checked);
	json_kv_bool(&w, "ok", p->ok);
	if (!p->ok)
		json_kv_str(&w, "fix", p->fix);
	json_key(&w, "notes");
	json_arr_begin(&w);
	for (int i = 0; i < NNOTES; i++)
		if (note_applies(p, i))
			json_str(&w, notes[i]);
	json_arr_end(&w);
	json_key(&w, "hooks");
	json_arr_begin(&w);
	for (int i = 0; i < p->nhooks; i++) {
		const struct hook *h = &p->hooks[i];
		const struct rung *c = h->chosen >= 0 ? &h->rungs[h->chosen] : NULL;
		bool unknown = hook_unchecked(h);

		json_obj_begin(&w);
		json_kv_str(&w, "hook", h->name);
		json_kv_str(&w, "what", h->what);
		json_kv_bool(&w, "required", h->required);
		if (unknown) {
			json_key(&w, "using");
			json_null(&w);
			json_key(&w, "point");
			json_null(&w);
			json_key(&w, "fidelity");
			json_null(&w);
		} else {
			/* nothing attached: null, as the session record says it */
			json_key(&w, "using");
			if (c)
				json_str(&w, rung_kind_name(c->kind));
			else
				json_null(&w);
			json_key(&w, "point");	/* or how the views cope without it */
			if (c || h->without)
				json_str(&w, c ? c->func : h->without);
			else
				json_null(&w);
			json_kv_str(&w, "fidelity", fidelity_name(c ? c->fid : h->fid_without));
		}
		json_key(&w, "tried");
		json_arr_begin(&w);
		for (int j = 0; j < h->nrungs; j++) {
			const struct rung *r = &h->rungs[j];

			if (!r->tried && !r->reason[0])
				continue;
			json_obj_begin(&w);
			json_kv_str(&w, "kind", rung_kind_name(r->kind));
			json_kv_str(&w, "point", r->func);
			if (r->variant)
				json_kv_str(&w, "variant", r->variant);
			json_kv_bool(&w, "chosen", j == h->chosen);
			if (r->reason[0])
				json_kv_str(&w, "rejected", r->reason);
			if (r->unchecked)
				json_kv_str(&w, "unchecked", NOT_CHECKED);
			json_obj_end(&w);
		}
		json_arr_end(&w);
		json_obj_end(&w);
	}
	json_arr_end(&w);
	print_sites_json(p, &w);
	json_key(&w, "views");
	json_arr_begin(&w);
	for (int i = 0; i < nv; i++) {
		json_obj_begin(&w);
		json_kv_str(&w, "view", v[i].view);
		if (p->checked) {
			json_kv_str(&w, "fidelity", fidelity_name(v[i].fid));
			json_kv_str(&w, "from", v[i].why);
		} else {
			json_key(&w, "fidelity");
			json_null(&w);
			json_kv_str(&w, "from", NOT_CHECKED);
		}
		json_obj_end(&w);
	}
	json_arr_end(&w);
	json_obj_end(&w);
	fputc('\n', f);
}
