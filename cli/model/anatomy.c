// SPDX-License-Identifier: GPL-2.0
/*
 * Latency anatomy (anatomy.h): histograms per instance of where a wait's
 * time goes.  model.c calls in at the moments it already knows (an item
 * leaves the ready list, a transfer ends, a wait returns); the pairs that
 * only the anatomy needs (a wakeup and the return it leads to, a scan and
 * the wait whose transfer it ended) are kept here.
 */
#include <stdlib.h>
#include <string.h>
#include "anatomy.h"
#include "grow.h"
#include "i18n.h"
#include "model.h"

_Static_assert(ANAT_BUCKETS == MODEL_HIST_BUCKETS, "anatomy and model buckets differ");

void anatomy_free(struct anatomy *a)
{
	free(a->wake);
	free(a->taken);
	a->wake = NULL;
	a->taken = NULL;
	a->nwake = a->cap_wake = a->ntaken = a->cap_taken = 0;
}

static void *grow(void *arr, size_t *cap, size_t need, size_t sz)
{
	if (et_grow(&arr, cap, need, sz))
		abort();	/* the model cannot be half-updated */
	return arr;
}

void anatomy_add(struct anat_hist *h, __u64 v)
{
	h->b[model_bucket(v)]++;
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
}

static long wake_index(const struct anatomy *a, __u32 tid)
{
	for (size_t i = 0; i < a->nwake; i++)
		if (a->wake[i].tid == tid)
			return i;
	return -1;
}

static void wake_drop(struct anatomy *a, __u32 tid)
{
	long i = wake_index(a, tid);

	if (i >= 0)
		a->wake[i] = a->wake[--a->nwake];
}

static void wake_set(struct anatomy *a, __u32 tid, __u64 ts)
{
	long i = wake_index(a, tid);

	if (i < 0) {
		a->wake = grow(a->wake, &a->cap_wake, a->nwake + 1, sizeof(*a->wake));
		i = a->nwake++;
	}
	a->wake[i] = (struct anat_wake){ tid, ts };
}

void anatomy_taken(struct anatomy *a, __u32 tid, __s32 fd, __u64 since, __u64 ts)
{
	a->taken = grow(a->taken, &a->cap_taken, a->ntaken + 1, sizeof(*a->taken));
	a->taken[a->ntaken++] = (struct anat_taken){ tid, fd, since, ts };
}

void anatomy_delivered(struct anatomy *a, __u32 tid, __s32 fd)
{
	for (size_t i = 0; i < a->ntaken; i++) {
		struct anat_taken *t = &a->taken[i];

		if (t->tid != tid || t->fd != fd)
			continue;
		anatomy_add(&a->h[ANAT_RESIDENCY], t->ts > t->since ? t->ts - t->since : 0);
		*t = a->taken[--a->ntaken];
		return;
	}
}

/*
 * The wait of tid is over: what its scans took and it did not return was
 * found not ready -- unless it returned more events than its record
 * carries (ET_WAIT_MAX_EVENTS), when the rest cannot be told apart and
 * counts as delivered (all: true).
 */
static void taken_end(struct anatomy *a, __u32 tid, bool all)
{
	for (size_t i = 0; i < a->ntaken;) {
		struct anat_taken *t = &a->taken[i];

		if (t->tid != tid) {
			i++;
			continue;
		}
		if (all)
			anatomy_add(&a->h[ANAT_RESIDENCY], t->ts > t->since ? t->ts - t->since : 0);
		*t = a->taken[--a->ntaken];
	}
}

void anatomy_scan_begin(struct anatomy *a, __u32 tid)
{
	taken_end(a, tid, false);
}

static void scan_set(struct anatomy *a, __u32 tid, __u64 ts)
{
	unsigned int i;

	for (i = 0; i < a->nscan && a->scan[i].tid != tid; i++)
		;
	if (i == a->nscan) {
		if (a->nscan < ANAT_SCANS)
			a->nscan++;
		else	/* the oldest goes: its wait has long returned, or never will */
			i = 0;
	}
	/* newest last */
	memmove(a->scan + i, a->scan + i + 1, (a->nscan - 1 - i) * sizeof(*a->scan));
	a->scan[a->nscan - 1] = (struct anat_wake){ tid, ts };
}

static void scan_drop(struct anatomy *a, __u32 tid)
{
	for (unsigned int i = 0; i < a->nscan; i++) {
		if (a->scan[i].tid != tid)
			continue;
		memmove(a->scan + i, a->scan + i + 1, (a->nscan - 1 - i) * sizeof(*a->scan));
		a->nscan--;
		return;
	}
}

__u64 anatomy_scan_ts(const struct anatomy *a, __u32 tid, __u64 dflt)
{
	for (unsigned int i = 0; i < a->nscan; i++)
		if (a->scan[i].tid == tid)
			return a->scan[i].ts;
	return dflt;
}

void anatomy_wait_exit(struct anatomy *a, const struct et_ev_wait_exit *e, __s32 maxevents,
		       __s64 timeout_ns)
{
	__u32 tid = e->hdr.tid;
	long w = wake_index(a, tid);

	/* woken, and this is the return that wakeup led to */
	if (w >= 0 && e->hdr.ts_ns >= a->wake[w].ts)
		anatomy_add(&a->h[ANAT_WAKE_RETURN], e->hdr.ts_ns - a->wake[w].ts);
	wake_drop(a, tid);
	scan_drop(a, tid);
	taken_end(a, tid, e->ret > 0 && (__u32)e->ret > e->ncopied);
	if (e->ret < 0)		/* -EINTR, -EFAULT...: no events, no timeout */
		return;
	a->waits++;
	anatomy_add(&a->h[ANAT_EVENTS_WAIT], e->ret);
	if (e->slept_ns) {
		anatomy_add(&a->h[ANAT_ASLEEP], e->slept_ns);
		anatomy_add(&a->h[ANAT_EVENTS_WAKEUP], e->ret);
	}
	if (maxevents <= 0)	/* no entry seen: began before tracing */
		return;
	a->maxevents_known++;
	a->full += e->ret == maxevents;
	if (timeout_ns > 0) {
		a->timed++;
		a->timeouts += e->ret == 0;
	}
}

void anatomy_follow(struct anatomy *a, const struct et_hdr *h)
{
	switch (h->type) {
	case ET_EV_WAIT_ENTER:
		/* a wait begins: nothing of an earlier one is pending */
		wake_drop(a, h->tid);
		scan_drop(a, h->tid);
		taken_end(a, h->tid, false);
		break;
	case ET_EV_SLEEP:
		/* woken, and asleep again in the same wait: no return came of it */
		if (wake_index(a, h->tid) >= 0) {
			a->resleeps++;
			wake_drop(a, h->tid);
		}
		break;
	case ET_EV_WAKEUP:
		wake_set(a, h->tid, h->ts_ns);
		break;
	case ET_EV_SCAN:
		scan_set(a, h->tid, h->ts_ns);
		break;
	}
}

void anatomy_forget(struct anatomy *a, __u32 tid)
{
	wake_drop(a, tid);
	scan_drop(a, tid);
	taken_end(a, tid, false);
}

void anatomy_lost(struct anatomy *a)
{
	a->nwake = 0;
	a->nscan = 0;
	a->ntaken = 0;
}

__u64 anatomy_quantile(const struct anat_hist *h, double q)
{
	__u64 rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (__u64)(q * h->count);
	if ((double)rank < q * h->count)
		rank++;		/* ceil */
	if (!rank)
		rank = 1;
	for (unsigned int b = 0; b < ANAT_BUCKETS; b++) {
		__u64 top;

		seen += h->b[b];
		if (seen < rank)
			continue;
		/* bucket b holds [2^(b-1), 2^b - 1]; the last one everything above */
		top = b == 0 ? 0 : b == ANAT_BUCKETS - 1 ? h->max : (1ULL << b) - 1;
		return top < h->max ? top : h->max;
	}
	return h->max;
}

const char *anatomy_fidelity(enum anat_kind k, const struct anat_vis *v)
{
	switch (k) {
	case ANAT_RESIDENCY:
		/* without callbacks: from the snapshots that caught an item */
		return v->callbacks ? "exact" : "sampled";
	case ANAT_WAKEUP:
	case ANAT_WAKE_RETURN:
	case ANAT_ASLEEP:
	case ANAT_EVENTS_WAKEUP:
		/* sched_switch and sched_waking: the sleep hook's fidelity */
		return v->sleeps ? "derived" : "none";
	case ANAT_EVENTS_WAIT:
		return "exact";
	case ANAT_TRANSFER:
		return v->transfers ? "exact" : "none";
	default:
		return "none";
	}
}

const char *anatomy_key(enum anat_kind k)
{
	static const char *const n[ANAT_MAX] = {
		"residency_ns", "wakeup_ns", "wake_to_return_ns", "asleep_ns", "events_per_wakeup",
		"events_per_wait", "transfer_ns",
	};

	return k < ANAT_MAX ? n[k] : "?";
}

const char *anatomy_label(enum anat_kind k)
{
	static const char *const n[ANAT_MAX] = {
		N_("ready-list residency"), N_("wakeup latency"), N_("waking to return"), N_("asleep per wait"),
		N_("events per wakeup"), N_("events per wait"), N_("transfer"),
	};

	return k < ANAT_MAX ? n[k] : "?";
}

bool anatomy_is_ns(enum anat_kind k)
{
	return k != ANAT_EVENTS_WAKEUP && k != ANAT_EVENTS_WAIT;
}
