// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests for the pure parts of user space: the JSON writer, kallsyms
 * name matching, record validation and snapshot assembly.  Built with
 * ASan and UBSan by `make check`.
 */
#include <stdio.h>
#include "grow.h"
#include "check.h"
#include <stdlib.h>
#include <string.h>
#include "event.h"
#include "json.h"
#include "kallsyms.h"


static char *json_of(void (*fn)(struct json_writer *))
{
	static char buf[4096];
	FILE *f = fmemopen(buf, sizeof(buf), "w");
	struct json_writer w;

	json_init(&w, f);
	fn(&w);
	fclose(f);
	return buf;
}

static void emit_nested(struct json_writer *w)
{
	json_obj_begin(w);
	json_kv_str(w, "a", "x\"y\\z\n\x01\x7f\xff");
	json_key(w, "arr");
	json_arr_begin(w);
	json_u64(w, 1);
	json_s64(w, -2);
	json_obj_begin(w);
	json_kv_bool(w, "t", true);
	json_obj_end(w);
	json_null(w);
	json_arr_end(w);
	json_kv_hex(w, "h", 0xffff8881394a4800ull);
	json_key(w, "empty");
	json_arr_begin(w);
	json_arr_end(w);
	json_kv_rate(w, "r", 2.25);
	json_kv_rate(w, "s", 0);
	json_obj_end(w);
}

static void test_json(void)
{
	const char *want = "{\"a\":\"x\\\"y\\\\z\\u000a\\u0001\\u007f\\u00ff\","
			   "\"arr\":[1,-2,{\"t\":true},null],\"h\":\"0xffff8881394a4800\","
			   "\"empty\":[],\"r\":2.2,\"s\":0.0}";
	const char *got = json_of(emit_nested);

	CHECK(!strcmp(got, want), "json: got %s", got);
}

static void test_kallsyms(void)
{
	CHECK(kallsyms_name_matches("ep_insert", "ep_insert"), "exact");
	CHECK(kallsyms_name_matches("ep_insert.isra.0", "ep_insert"), "isra");
	CHECK(kallsyms_name_matches("ep_insert.constprop.12", "ep_insert"), "constprop");
	CHECK(kallsyms_name_matches("ep_insert.constprop.0.isra.0", "ep_insert"), "nested");
	CHECK(!kallsyms_name_matches("ep_insert.cold", "ep_insert"), "cold is no entry");
	CHECK(!kallsyms_name_matches("ep_insert.isra.0.cold", "ep_insert"), "clone cold");
	CHECK(!kallsyms_name_matches("ep_insertx", "ep_insert"), "prefix only");
	CHECK(!kallsyms_name_matches("ep_insert.isra.", "ep_insert"), "no digits");
	CHECK(!kallsyms_name_matches("ep_poll_callback", "ep_poll"), "other function");
}

/* wait_chain's frames are shown: a count past the array, or a string with no end, is refused */
static void test_wait_chain_check(void)
{
	static struct et_ev_wait_chain c = { .hdr.type = ET_EV_WAIT_CHAIN, .nframes = 2,
					     .method = ET_CHAIN_DWARF };

	CHECK(!et_record_check(&c, sizeof(c)), "wait_chain ok");
	CHECK(!strcmp(et_type_name(ET_EV_WAIT_CHAIN), "wait_chain"), "wait_chain's name");
	c.nframes = ET_CHAIN_FRAMES + 1;
	CHECK(et_record_check(&c, sizeof(c)), "wait_chain nframes bound");
	c.nframes = 2;
	c.method = ET_CHAIN_DWARF_FP + 1;
	CHECK(et_record_check(&c, sizeof(c)), "wait_chain unknown method");
	c.method = ET_CHAIN_FP;
	memset(c.frame[1].sym, 'x', sizeof(c.frame[1].sym));
	CHECK(et_record_check(&c, sizeof(c)), "wait_chain symbol without its end");
	memset(c.frame[1].sym, 0, sizeof(c.frame[1].sym));
	memset(c.frame[0].module, 'x', sizeof(c.frame[0].module));
	CHECK(et_record_check(&c, sizeof(c)), "wait_chain module without its end");
	memset(c.frame[0].module, 0, sizeof(c.frame[0].module));
	memset(c.frame[5].sym, 'x', sizeof(c.frame[5].sym));
	CHECK(!et_record_check(&c, sizeof(c)), "wait_chain: frames past nframes are not read");
}

static void test_record_check(void)
{
	struct et_ev_ctl ctl = { .hdr.type = ET_EV_CTL };
	struct et_ev_snap_items items = { .hdr.type = ET_EV_SNAP_ITEMS };
	struct et_ev_wait_exit we = { .hdr.type = ET_EV_WAIT_EXIT };
	struct et_hdr bad = { .type = 999 };

	CHECK(!et_record_check(&ctl, sizeof(ctl)), "ctl ok");
	CHECK(et_record_check(&ctl, sizeof(ctl) - 1), "short ctl rejected");
	CHECK(et_record_check(&ctl, 4), "shorter than a header");
	CHECK(et_record_check(&bad, sizeof(bad)), "unknown type");
	items.n = ET_SNAP_BATCH;
	CHECK(!et_record_check(&items, sizeof(items)), "full batch ok");
	items.n = ET_SNAP_BATCH + 1;
	CHECK(et_record_check(&items, sizeof(items)), "overfull batch rejected");
	we.ncopied = ET_WAIT_MAX_EVENTS + 1;
	CHECK(et_record_check(&we, sizeof(we)), "wait_exit ncopied bound");
	CHECK(!strcmp(et_type_name(ET_EV_CALLBACK), "callback"), "type name");
	CHECK(!strcmp(et_type_name(12345), "unknown"), "unknown type name");
	test_wait_chain_check();
}

static void feed_snapshot(struct snap_asm *a, __u64 ep, int nitems, int nready,
			  int drop_batch, const struct et_snapshot **out)
{
	struct et_ev_snap_begin b = { .hdr.type = ET_EV_SNAP_BEGIN };
	struct et_ev_snap_items it = { .hdr.type = ET_EV_SNAP_ITEMS, .ep = ep };
	struct et_ev_snap_ready rd = { .hdr.type = ET_EV_SNAP_READY, .ep = ep };
	struct et_ev_snap_end e = { .hdr.type = ET_EV_SNAP_END };
	int batch = 0;

	b.in.ep = ep;
	b.in.epfd = 5;
	b.seq = 7;
	b.watched = nitems;
	*out = snap_asm_feed(a, &b.hdr, sizeof(b));
	for (int i = 0; i < nitems; i++) {
		it.item[it.n].fd = 100 + i;
		it.item[it.n].data = i;
		if (++it.n == ET_SNAP_BATCH || i == nitems - 1) {
			if (batch++ != drop_batch)
				*out = snap_asm_feed(a, &it.hdr, sizeof(it));
			it.n = 0;
		}
	}
	for (int i = 0; i < nready; i++)
		rd.fd[rd.n++] = 100 + i;
	if (nready)
		*out = snap_asm_feed(a, &rd.hdr, sizeof(rd));
	e.in.ep = ep;
	e.seq = 7;
	e.nitems = nitems;
	e.nready = nready;
	*out = snap_asm_feed(a, &e.hdr, sizeof(e));
}

static void test_snap_asm(void)
{
	struct snap_asm a = {};
	const struct et_snapshot *s;
	struct et_ev_snap_items stray = { .hdr.type = ET_EV_SNAP_ITEMS, .ep = 0x2, .n = 1 };

	feed_snapshot(&a, 0x1000, 100, 3, -1, &s);
	CHECK(s && s->nitems == 100 && s->nready == 3, "assembled 100 items, 3 ready");
	CHECK(s && s->items[99].fd == 199 && s->items[0].data == 0, "items in order");
	CHECK(s && !(s->flags & ET_F_TRUNCATED), "complete snapshot not truncated");
	CHECK(s && s->watched == 100 && s->in.epfd == 5, "header carried");

	feed_snapshot(&a, 0x1000, 100, 0, 1, &s);
	CHECK(s && s->nitems == 68 && (s->flags & ET_F_TRUNCATED),
	      "a lost batch marks the snapshot truncated (%u items)", s ? s->nitems : 0);
	CHECK(s && (s->flags & ET_F_ITEMS_CUT) && !(s->flags & ET_F_READY_CUT),
	      "... and says which part: the items (flags 0x%x)", s ? s->flags : 0);
	/* the round's end comes out once, after its snapshots */
	{
		struct et_ev_snap_round r = { .hdr.type = ET_EV_SNAP_ROUND, .seq = 7 };
		const struct et_hdr *h;

		CHECK(!snap_asm_feed(&a, &r.hdr, sizeof(r)), "a round's end is no snapshot");
		h = snap_asm_round(&a);
		CHECK(h && h->type == ET_EV_SNAP_ROUND && !(h->flags & ET_F_TRUNCATED) &&
		      ((const struct et_ev_snap_round *)h)->seq == 7 && !snap_asm_round(&a),
		      "a complete round's end, once");
	}

	/* a part of another instance in the middle: incomplete, dropped */
	{
		struct et_ev_snap_begin b = { .hdr.type = ET_EV_SNAP_BEGIN, .in.ep = 0x1 };
		unsigned long before = a.incomplete;

		snap_asm_feed(&a, &b.hdr, sizeof(b));
		CHECK(!snap_asm_feed(&a, &stray.hdr, sizeof(stray)) && a.incomplete == before + 1,
		      "foreign part drops the snapshot");
	}
	/* ... which makes its round incomplete */
	{
		struct et_ev_snap_round r = { .hdr.type = ET_EV_SNAP_ROUND, .seq = 8 };
		const struct et_hdr *h;

		snap_asm_feed(&a, &r.hdr, sizeof(r));
		h = snap_asm_round(&a);
		CHECK(h && (h->flags & ET_F_TRUNCATED), "a round with a dropped snapshot: incomplete");
	}
	/* an END with no BEGIN yields nothing */
	{
		struct et_ev_snap_end e = { .hdr.type = ET_EV_SNAP_END };

		CHECK(!snap_asm_feed(&a, &e.hdr, sizeof(e)), "END without BEGIN");
	}
	snap_asm_free(&a);
}

static void test_grow(void)
{
	int *a = NULL;
	size_t cap = 0;

	CHECK(!et_grow((void **)&a, &cap, 1, sizeof(*a)) && a && cap >= 1, "first growth");
	a[0] = 7;
	CHECK(!et_grow((void **)&a, &cap, 100, sizeof(*a)) && cap >= 100 && a[0] == 7,
	      "grows to 100, keeps what was there (cap %zu)", cap);
	CHECK(a[99] == 0 && a[cap - 1] == 0, "the new room is zeroed");
	{
		int *before = a;
		size_t c = cap;

		CHECK(!et_grow((void **)&a, &cap, 50, sizeof(*a)) && a == before && cap == c,
		      "no growth when there is room");
	}
	CHECK(et_grow((void **)&a, &cap, (size_t)-1 / 2, sizeof(*a)) == -1 && a[0] == 7,
	      "an overflowing size is refused, the array kept");
	free(a);
}

int main(void)
{
	test_grow();
	test_json();
	test_kallsyms();
	test_record_check();
	test_snap_asm();
	printf("unit: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
