/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Every kernel-version difference the BPF side cares about, in one place.
 * Each is chosen by bpf_core_field_exists()/bpf_core_type_exists() against
 * the running kernel's BTF, never by uname: stable kernels backport field
 * changes (Debian's 6.1.192 has ep->refcount, 6.12.117 has ovflist_next).
 */
#ifndef EPOLLTRACE_CORE_FIXES_H
#define EPOLLTRACE_CORE_FIXES_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/*
 * epitem->next was renamed epitem->ovflist_next (mainline 2026, and the
 * stable backports: present in 6.12.117 and 6.18.44, absent in 6.1.192;
 * seen in each kernel's BTF).
 */
struct epitem___ovfl {
	struct epitem *ovflist_next;
} __attribute__((preserve_access_index));

static __always_inline struct epitem *epi_ovflist_next(struct epitem *epi)
{
	struct epitem___ovfl *n = (void *)epi;

	if (bpf_core_field_exists(n->ovflist_next))
		return BPF_CORE_READ(n, ovflist_next);
	return BPF_CORE_READ(epi, next);
}

/*
 * struct file's reference count: atomic_long_t f_count until v6.12;
 * file_ref_t f_ref from v6.13 ("fs: port files to file_ref"), where the
 * stored value is the count minus one (seen in 6.12.117's and 6.18.44's
 * BTF).
 * Returns the number of references, or 0 if it cannot be read.
 */
typedef struct {
	atomic_long_t refcnt;
} file_ref_t___new;

struct file___new {
	file_ref_t___new f_ref;
} __attribute__((preserve_access_index));

static __always_inline long file_refs(struct file *f)
{
	struct file___new *nf = (void *)f;

	if (bpf_core_field_exists(nf->f_ref))
		return BPF_CORE_READ(nf, f_ref.refcnt.counter) + 1;
	if (bpf_core_field_exists(f->f_count))
		return BPF_CORE_READ(f, f_count.counter);
	return 0;
}

/*
 * ep->refcount counts the instance's file plus one per epitem since v6.4
 * (the epoll refcount rework that also added epi->dying), backported to
 * Debian's 6.1.192 (seen in its BTF).  So watched = refcount - 1, which
 * KERNEL_FACTS.md checked live: 1001 for 1000 items.
 * Returns -1 when the field is absent: the caller counts by walking.
 */
static __always_inline long ep_watched_from_refcount(struct eventpoll *ep)
{
	if (!bpf_core_field_exists(ep->refcount))
		return -1;
	return (long)BPF_CORE_READ(ep, refcount.refs.counter) - 1;
}

/*
 * Hard/soft irq context of the current CPU.  x86's preempt count is the
 * per-cpu int __preempt_count up to v6.1 and again from v6.15, and
 * pcpu_hot.preempt_count in between (x86 pcpu_hot, v6.2 to v6.14; seen in
 * the BTF of Debian 6.1.192, 6.12.117 and 6.18.44).  Both
 * are weak ksyms: the unused branch is dead code to the verifier.  The
 * verifier resolves a per-cpu ksym through kallsyms, so a kernel without
 * CONFIG_KALLSYMS_ALL rejects any program that uses this: those programs
 * have a twin without it, one rung lower in the attach plan.
 */
extern const int __preempt_count __ksym __weak;
extern const struct pcpu_hot pcpu_hot __ksym __weak;

#define ET_PC_SOFTIRQ_OFFSET	0x00000100u
#define ET_PC_HARDIRQ_MASK	0x000f0000u
#define ET_PC_NMI_MASK		0x00f00000u

static __always_inline unsigned int irq_context_flags(unsigned int hard, unsigned int soft)
{
	unsigned int pc = 0;

	if (&__preempt_count) {
		const int *p = bpf_this_cpu_ptr(&__preempt_count);

		pc = *p;
	} else if (&pcpu_hot) {
		const struct pcpu_hot *h = bpf_this_cpu_ptr(&pcpu_hot);

		pc = h->preempt_count;
	}
	if (pc & ET_PC_NMI_MASK)
		return ET_F_NMI | ET_F_CTX_KNOWN;
	if (pc & ET_PC_HARDIRQ_MASK)
		return hard | ET_F_CTX_KNOWN;
	if (pc & ET_PC_SOFTIRQ_OFFSET)
		return soft | ET_F_CTX_KNOWN;
	return ET_F_CTX_KNOWN;
}

/*
 * Is this hrtimer one that expires in softirq context (HRTIMER_MODE_SOFT)?
 * hrtimer->is_soft appeared in v4.16 with the softirq hrtimer bases
 * ("hrtimer: Add clock bases and hrtimer mode for soft irq context");
 * before it every hrtimer expired in hard irq.  A wait's own timeout
 * (schedule_hrtimeout_range, HRTIMER_MODE_ABS) is a hard one.
 */
static __always_inline unsigned int hrtimer_is_soft(struct hrtimer *t)
{
	if (!bpf_core_field_exists(t->is_soft))
		return 0;
	return BPF_CORE_READ(t, is_soft) ? 1 : 0;
}

#endif /* EPOLLTRACE_CORE_FIXES_H */
