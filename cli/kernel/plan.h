/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_PLAN_H
#define EPOLLTRACE_PLAN_H

#include <stdbool.h>
#include <stdio.h>

/*
 * The attach plan: for every logical hook a ranked list of attach points
 * ("rungs").  The first rung that passes its static checks, loads and
 * attaches on the running kernel wins; every rejection keeps its reason,
 * and the result is what `epolltrace probes` prints and what a recording's
 * header carries.
 */
enum plan_mode {
	PLAN_AUTO = 0,
	PLAN_FENTRY,
	PLAN_KPROBE,
	PLAN_TRACEPOINT,
	PLAN_INLINE,		/* auto, and the named functions at their inlined sites */
};

enum rung_kind {
	RUNG_NAMED,		/* the function named in the mission: report only */
	RUNG_FENTRY,
	RUNG_KPROBE,
	RUNG_TRACEPOINT,
	RUNG_TP_BTF,
	RUNG_ITER,
	RUNG_INLINE,		/* a kprobe per inlined site, from the sites (sites.h) */
};

enum fidelity {
	FID_NONE = 0,		/* not visible in this plan */
	FID_SAMPLED,		/* only from snapshots */
	FID_DERIVED,		/* inferred from neighbouring events */
	FID_EXACT,		/* seen where the kernel does it */
};

#define PLAN_MAX_RUNGS 5
#define PLAN_MAX_PROGS 8

struct rung {
	enum rung_kind kind;
	const char *func;			/* kernel function, or tracepoint */
	const char *progs[PLAN_MAX_PROGS];	/* BPF program names */
	enum fidelity fid;
	const char *variant;			/* twin of the rung above: how it differs */
	/* filled by plan_build */
	char attach_sym[2][128];			/* resolved symbols, per '+' token */
	int ntok;
	char reason[320];			/* why rejected, "" if not */
	bool tried;
	bool unchecked;				/* passed what could be checked without
						 * privileges; load and attach untried */
};

struct hook {
	const char *name;
	const char *what;
	bool required;		/* a mode without it is not a full mode */
	enum fidelity fid_without; /* what the views get if no rung works */
	const char *without;	/* how the views cope without it */
	struct rung rungs[PLAN_MAX_RUNGS];
	int nrungs;
	int chosen;		/* rung index, -1 none */
};

struct plan {
	enum plan_mode mode;
	struct hook *hooks;
	int nhooks;
	unsigned long long ep_release_addr;
	char kernel[128];
	char machine[65];
	bool ok;		/* every required hook has a rung */
	bool checked;		/* privileged: every rung was tried for real.  Without
				 * privileges only the static checks ran (BTF, kallsyms,
				 * the kprobe PMU) and the rest is "not checked" */
	char tracefs[64];	/* where tracefs is, "" if nowhere */
	char mount_err[256];	/* why not, and the command to run */
	char fix[384];		/* what to do when !ok */
	/* the inline rung: the sites used (NULL: none read), where from */
	struct sites *sites;
	char sites_from[32];	/* "sites file", "debug info", "cache" */
	char sites_cached[4096];	/* the cache file written, "" if none */
	int inline_links;	/* kprobe links attached at inlined sites */
};

struct epolltrace_bpf;
struct bpf_link;

/* Result of plan_load: a loaded, attached skeleton and its links. */
struct plan_loaded {
	struct epolltrace_bpf *skel;
	struct bpf_link *links[128];
	int nlinks;
	struct bpf_link *iter_link;	/* the snapshot iterator (also in links) */
};

struct plan_params {
	unsigned int self_tgid;
	bool trace_all;
	unsigned long wakeup_bytes;	/* wake the reader at this fill, 0: per record */
	unsigned long events_ring_bytes;
	const char *sites_file;		/* --sites: enables the inline rung */
	const char *vmlinux;		/* --vmlinux (else $EPOLLTRACE_VMLINUX) */
	bool no_cache;			/* --no-cache: neither read nor write it */
	bool debuginfod;		/* --debuginfod (or $DEBUGINFOD_URLS set) */
};

const char *plan_mode_name(enum plan_mode m);
int plan_mode_parse(const char *s, enum plan_mode *m);
const char *fidelity_name(enum fidelity f);
const char *rung_kind_name(enum rung_kind k);

/* Build the plan, load and attach.  On success fills out; the plan keeps
 * the per-rung outcome either way.  Returns 0 or -errno.  Privileges are
 * decided first: without them nothing is mounted or loaded, the plan is
 * marked unchecked, fix says how to get them, and -EPERM is returned. */
int plan_load(struct plan *p, enum plan_mode mode, const struct plan_params *params,
	      struct plan_loaded *out);
void plan_unload(struct plan_loaded *l);
void plan_free(struct plan *p);

/* Why an inline hook (ep_insert, ep_poll, ep_send_events) has no rung in
 * force, or NULL when all three are attached at their sites. */
const char *plan_inline_unused(const struct plan *p);

/* The hook's chosen fidelity (or its fallback). */
enum fidelity plan_fidelity(const struct plan *p, const char *hook);

void plan_print(const struct plan *p, FILE *f);
void plan_print_json(const struct plan *p, FILE *f);

#endif
