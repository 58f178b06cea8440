// SPDX-License-Identifier: GPL-2.0
/*
 * rbr's shape, without a kernel or a terminal: the snapshot assembly that
 * turns rb_node addresses into tree positions, the model that keeps the
 * latest shape (and calls it stale after an insert), and the drawing in
 * the attributed buffer (tui_tree.c, the instance view's 't').
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "event.h"
#include "tui_tree.h"
#include "tui_view.h"

static const struct et_inst ia = { .ep = 0xffff000000001000ull, .owner = 100, .epfd = 3 };
static __u64 now = 1000000000ULL;

/* a node of the tests' trees: fd, colour, children as positions */
#define N(fd, b, l, r) { (fd), (l), (r), (b) }

static struct model_tree mk(struct model_tree_node *n, size_t cnt, int root)
{
	return (struct model_tree){ .nodes = n, .n = cnt, .root = root, .present = true,
				    .exact = true };
}

static char *row_of(struct tbuf *b, int y)
{
	static char row[1024];

	return tbuf_row(b, y, row, sizeof(row));
}

/* ---- snapshot assembly: addresses to positions ------------------------- */

static void hdr(struct et_hdr *h, unsigned int type)
{
	memset(h, 0, sizeof(*h));
	h->ts_ns = now += 1000;
	h->pid = ia.owner;
	h->type = type;
}

/* three items 7 < 5 < 9 in tree order (by file); the middle one the root */
static const struct et_snap_item items3[3] = {
	{ .fd = 7, .file = 0x1000 }, { .fd = 5, .file = 0x2000 }, { .fd = 9, .file = 0x3000 },
};

static const struct et_snapshot *feed3(struct snap_asm *a, const struct et_snap_node *nodes,
				       unsigned int end_flags)
{
	struct et_ev_snap_begin bg = { .in = ia, .seq = 1, .watched = 3 };
	struct et_ev_snap_items it = { .ep = ia.ep, .n = 3 };
	struct et_ev_snap_shape sh = { .ep = ia.ep, .n = 3 };
	struct et_ev_snap_end end = { .in = ia, .seq = 1, .nitems = 3 };

	hdr(&bg.hdr, ET_EV_SNAP_BEGIN);
	hdr(&it.hdr, ET_EV_SNAP_ITEMS);
	hdr(&sh.hdr, ET_EV_SNAP_SHAPE);
	hdr(&end.hdr, ET_EV_SNAP_END);
	memcpy(it.item, items3, sizeof(items3));
	memcpy(sh.node, nodes, 3 * sizeof(*nodes));
	end.hdr.flags = end_flags;
	snap_asm_feed(a, &bg.hdr, sizeof(bg));
	snap_asm_feed(a, &it.hdr, sizeof(it));
	snap_asm_feed(a, &sh.hdr, sizeof(sh));
	return snap_asm_feed(a, &end.hdr, sizeof(end));
}

static void test_assembly(void)
{
	/* rb_nodes at 0xa0, 0xb0, 0xc0; 0xb0 the root (black), the others red */
	const struct et_snap_node good[3] = {
		{ .node = 0xa0, .parent_color = 0xb0 },
		{ .node = 0xb0, .left = 0xa0, .right = 0xc0, .parent_color = 1 },
		{ .node = 0xc0, .parent_color = 0xb0 },
	};
	struct et_snap_node bad[3];
	struct snap_asm a = {};
	const struct et_snapshot *s;

	s = feed3(&a, good, ET_F_SHAPE);
	CHECK(s && s->has_shape && s->root == 1, "a shape, its root at position 1");
	CHECK(s && s->tree[1].left == 0 && s->tree[1].right == 2 && s->tree[1].black &&
	      s->tree[1].parent == -1, "the root: black, children 0 and 2");
	CHECK(s && !s->tree[0].black && s->tree[0].parent == 1 && s->tree[0].left == -1 &&
	      s->tree[2].right == -1, "the leaves: red, parent 1, no children");
	CHECK(s && !(s->flags & ET_F_ITEMS_MOVED), "links that name the items: exact");

	/* a child the walk did not list: the tree moved under it */
	memcpy(bad, good, sizeof(bad));
	bad[1].right = 0xd0;
	s = feed3(&a, bad, ET_F_SHAPE);
	CHECK(s && s->has_shape && (s->flags & ET_F_ITEMS_MOVED) && s->tree[1].right == -1,
	      "a link to no item: marked moved, the link unknown (-1)");
	/* two roots */
	memcpy(bad, good, sizeof(bad));
	bad[2].parent_color = 1;
	s = feed3(&a, bad, ET_F_SHAPE);
	CHECK(s && (s->flags & ET_F_ITEMS_MOVED), "two roots: marked moved");
	/* no ET_F_SHAPE on END (the tree grew past the bound): no shape */
	s = feed3(&a, good, 0);
	CHECK(s && !s->has_shape, "END without ET_F_SHAPE: no shape");
	/* a shape batch out of step with the items: no shape, the snapshot kept */
	{
		struct et_ev_snap_begin bg = { .in = ia, .seq = 1, .watched = 3 };
		struct et_ev_snap_items it = { .ep = ia.ep, .n = 3 };
		struct et_ev_snap_shape sh = { .ep = ia.ep, .n = 2 };
		struct et_ev_snap_end end = { .in = ia, .seq = 1, .nitems = 3 };

		hdr(&bg.hdr, ET_EV_SNAP_BEGIN);
		hdr(&it.hdr, ET_EV_SNAP_ITEMS);
		hdr(&sh.hdr, ET_EV_SNAP_SHAPE);
		hdr(&end.hdr, ET_EV_SNAP_END);
		end.hdr.flags = ET_F_SHAPE;
		memcpy(it.item, items3, sizeof(items3));
		snap_asm_feed(&a, &bg.hdr, sizeof(bg));
		snap_asm_feed(&a, &it.hdr, sizeof(it));
		snap_asm_feed(&a, &sh.hdr, sizeof(sh));
		s = snap_asm_feed(&a, &end.hdr, sizeof(end));
		CHECK(s && !s->has_shape && s->nitems == 3 && !(s->flags & ET_F_ITEMS_CUT),
		      "a shape batch out of step: no shape, the items kept");
	}
	{
		struct et_ev_snap_shape sh = { .ep = ia.ep, .n = 2 };

		hdr(&sh.hdr, ET_EV_SNAP_SHAPE);
		CHECK(et_record_check(&sh.hdr, sizeof(sh)) == 0, "a SNAP_SHAPE record checks");
		sh.n = ET_SNAP_BATCH + 1;
		CHECK(et_record_check(&sh.hdr, sizeof(sh)) != 0, "n past the batch is refused");
	}
	snap_asm_free(&a);
}

/* ---- the model keeps the latest shape ------------------------------------ */

static void test_model(void)
{
	struct et_snap_item items[3];
	struct et_tree_node tree[3] = {
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
		{ .left = 0, .right = 2, .parent = -1, .black = 1 },
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
	};
	struct et_snapshot s = { .in = ia, .seq = 1, .watched = 3, .nitems = 3, .items = items,
				 .has_shape = true, .root = 1, .tree = tree };
	struct et_ev_create cr = { .in = ia };
	struct et_ev_ctl add = { .in = ia, .op = ET_CTL_ADD, .fd = 11, .file = 0x4000 };
	struct model m;
	struct model_inst *in;

	memcpy(items, items3, sizeof(items));
	model_init(&m, true);
	hdr(&cr.hdr, ET_EV_EP_CREATE);
	model_apply(&m, &cr.hdr);
	hdr(&s.hdr, ET_EV_SNAP_BEGIN);
	model_apply_snapshot(&m, &s);
	in = model_find(&m, ia.ep);
	CHECK(in && in->tree.present && in->tree.exact && !in->tree.stale && in->tree.n == 3,
	      "a snapshot with a shape: present, exact, fresh");
	CHECK(in && in->tree.root == 1 && in->tree.nodes[1].fd == 5 && in->tree.nodes[1].black &&
	      in->tree.nodes[1].left == 0 && in->tree.nodes[0].fd == 7,
	      "the shape's nodes by fd, in tree order");
	hdr(&add.hdr, ET_EV_CTL);
	model_apply(&m, &add.hdr);
	CHECK(in && in->tree.present && in->tree.stale, "an ADD since: stale, not guessed");
	s.seq = 2;
	s.flags = ET_F_TRUNCATED | ET_F_ITEMS_MOVED;
	hdr(&s.hdr, ET_EV_SNAP_BEGIN);
	model_apply_snapshot(&m, &s);
	CHECK(in && in->tree.present && !in->tree.exact && !in->tree.stale,
	      "a raced walk: the shape is not exact");
	s.seq = 3;
	s.flags = 0;
	s.has_shape = false;
	hdr(&s.hdr, ET_EV_SNAP_BEGIN);
	model_apply_snapshot(&m, &s);
	CHECK(in && !in->tree.present, "a snapshot without a shape: none kept");
	model_free(&m);
}

/* ---- drawing ------------------------------------------------------------- */

static void test_draw(void)
{
	struct model_tree_node n3[] = { N(7, 0, -1, -1), N(5, 1, 0, 2), N(9, 0, -1, -1) };
	struct model_tree t = mk(n3, 3, 1);
	struct model_tree_node cyc[] = { N(1, 1, -1, 1), N(2, 0, 0, -1) };
	struct model_tree bad = mk(cyc, 2, 0);
	struct tbuf b = {};
	int w, h;

	tbuf_resize(&b, 40, 10);
	tui_tree_size(&t, false, &w, &h);
	CHECK(w == 3 && h == 3, "3 nodes of one digit: 3 columns, 3 rows (got %dx%d)", w, h);
	tbuf_clear(&b);
	CHECK(tui_tree_draw(&b, &tglyphs_utf8, 0, 0, 3, 3, &t, false, NULL), "it fits 3x3");
	CHECK(!strcmp(row_of(&b, 0), " 5"), "the root over its centre column: '%s'", row_of(&b, 0));
	CHECK(!strcmp(row_of(&b, 1), "┌┴┐"), "edges to both children: '%s'", row_of(&b, 1));
	CHECK(!strcmp(row_of(&b, 2), "7 9"), "the children in tree order: '%s'", row_of(&b, 2));
	CHECK(tbuf_at(&b, 0, 2)->color == TC_ERROR && tbuf_at(&b, 1, 0)->color == TC_NORMAL &&
	      (tbuf_at(&b, 1, 0)->attr & TA_BOLD), "red in the red colour, black bold");
	tbuf_clear(&b);
	CHECK(tui_tree_draw(&b, &tglyphs_ascii, 0, 0, 5, 3, &t, true, NULL), "with letters");
	CHECK(!strcmp(row_of(&b, 0), "  5B"), "mono/ascii: the root '%s'", row_of(&b, 0));
	CHECK(!strcmp(row_of(&b, 1), "+-++"), "ASCII edges: '%s'", row_of(&b, 1));
	CHECK(!strcmp(row_of(&b, 2), "7R 9R"), "R and B: '%s'", row_of(&b, 2));
	tbuf_clear(&b);
	CHECK(!tui_tree_draw(&b, &tglyphs_utf8, 0, 0, 2, 3, &t, false, NULL) &&
	      tbuf_find(&b, "5") < 0, "2 columns: does not fit, nothing drawn");
	CHECK(!tui_tree_draw(&b, &tglyphs_utf8, 0, 0, 40, 2, &t, false, NULL),
	      "2 rows: does not fit");
	CHECK(!tui_tree_draw(&b, &tglyphs_utf8, 0, 0, 40, 10, &bad, false, NULL),
	      "links that make no tree (a cycle): not drawn");
	t.present = false;
	CHECK(!tui_tree_draw(&b, &tglyphs_utf8, 0, 0, 40, 10, &t, false, NULL),
	      "no shape: not drawn");
	tbuf_free(&b);
}

/* a balanced tree over positions lo..hi (in order), its root returned */
static int balanced(struct model_tree_node *n, int lo, int hi)
{
	int mid = (lo + hi) / 2;

	if (lo > hi)
		return -1;
	n[mid].fd = 100 + mid * 7;	/* 3-digit labels */
	n[mid].black = mid % 3 != 0;
	n[mid].left = balanced(n, lo, mid - 1);
	n[mid].right = balanced(n, mid + 1, hi);
	return mid;
}

/* 31 nodes: labels never overlap, and read left to right they are in order */
static void test_layout_order(void)
{
	struct model_tree_node n[31];
	struct model_tree t = mk(n, 31, balanced(n, 0, 30));
	struct tbuf b = {};
	int w, h, seen = 0, last_x = -1, last_fd = 0;
	bool ordered = true;

	tui_tree_size(&t, true, &w, &h);
	CHECK(h == 9 && w < 31 * 5, "31 nodes, 5 levels: 9 rows, %d columns", w);
	tbuf_resize(&b, w, h);
	CHECK(tui_tree_draw(&b, &tglyphs_utf8, 0, 0, w, h, &t, true, NULL), "drawn");
	/* every label found whole on its row; by column they ascend */
	for (int x = 0; x < w; x++) {
		for (int y = 0; y < h; y += 2) {
			struct tcell *c = tbuf_at(&b, x, y);
			int fd = 0, k = x;

			if (!c || c->ch < '0' || c->ch > '9' ||
			    (x > 0 && tbuf_at(&b, x - 1, y)->ch != ' '))
				continue;
			while (k < w && tbuf_at(&b, k, y)->ch >= '0' && tbuf_at(&b, k, y)->ch <= '9')
				fd = fd * 10 + (int)(tbuf_at(&b, k++, y)->ch - '0');
			ordered &= x > last_x && fd > last_fd;
			last_x = x;
			last_fd = fd;
			seen++;
		}
	}
	CHECK(seen == 31 && ordered, "%d labels found, left to right in order: %d", seen, ordered);
	tbuf_free(&b);
}

/*
 * Inserting 3 after 1 and 2 (ascending): 3 goes right of 2, red under red;
 * its uncle is missing, so rb_insert_color rotates left at 1 and recolours:
 * 2 becomes the black root, 1 and 3 its red children.
 */
static void test_change(void)
{
	struct model_tree_node before_n[] = { N(1, 1, -1, 1), N(2, 0, -1, -1) };
	struct model_tree_node after_n[] = { N(1, 0, -1, -1), N(2, 1, 0, 2), N(3, 0, -1, -1) };
	struct model_tree before = mk(before_n, 2, 0), after = mk(after_n, 3, 1);
	struct model_tree none = { .root = -1 };
	unsigned char mark[3];
	struct tbuf b = {};
	int used, y;

	{
		struct model_tree kept;

		CHECK(tui_tree_copy(&kept, &before) && kept.nodes != before.nodes &&
		      kept.n == 2 && kept.nodes[0].right == 1, "a shape kept by copy");
		tui_tree_release(&kept);
		CHECK(!kept.present && !kept.nodes, "and released");
	}
	CHECK(tui_tree_diff(&before, &after, mark) == 3, "three nodes changed");
	CHECK(mark[2] == TT_NEW, "3 is new");
	CHECK(mark[1] == (TT_RECOLOURED | TT_MOVED), "2: recoloured and moved (now the root)");
	CHECK(mark[0] == (TT_RECOLOURED | TT_MOVED), "1: recoloured and moved (under 2)");
	tbuf_resize(&b, 60, 12);
	used = tui_tree_draw_change(&b, &tglyphs_utf8, 0, 0, 60, 12, &before, &after, false);
	CHECK(used == 5, "side by side: title, 3 rows of tree, the line of changes (%d)", used);
	CHECK(strstr(row_of(&b, 0), "before") && strstr(row_of(&b, 0), "after"),
	      "titled before and after: '%s'", row_of(&b, 0));
	y = tbuf_find(&b, "inserted: 3");
	CHECK(y == 4 && strstr(row_of(&b, y), "recoloured: 1, 2") &&
	      strstr(row_of(&b, y), "moved by a rotation: 1, 2"),
	      "the changes named: '%s'", y >= 0 ? row_of(&b, y) : "");
	CHECK(strstr(row_of(&b, 1), "1B") && strstr(row_of(&b, 1), "2B"),
	      "letters on both sides (the lit nodes lose their colour): '%s'", row_of(&b, 1));
	/* in order left to right on both sides: 1 2 | 1 2 3 */
	{
		char r3[256];
		const char *p;

		snprintf(r3, sizeof(r3), "%s", row_of(&b, 3));
		p = strstr(r3, "1R");
		CHECK(p && strstr(p, "3R") && strstr(row_of(&b, 3), "2R") < p,
		      "before's 2 left of after's 1, after's 1 left of its 3: '%s'", r3);
	}
	{
		int x = (int)(strstr(row_of(&b, 3), "3R") - row_of(&b, 3));
		struct tcell *c = tbuf_at(&b, x, 3);

		CHECK(c && c->color == TC_CHANGED && (c->attr & TA_REVERSE),
		      "the new node lit, reversed");
	}
	/* narrow: one above the other (side by side takes 3 + 3 + 5 columns) */
	tbuf_free(&b);
	tbuf_resize(&b, 10, 14);
	used = tui_tree_draw_change(&b, &tglyphs_utf8, 0, 0, 10, 14, &before, &after, false);
	CHECK(used == 10 && tbuf_find(&b, "before") == 0 && tbuf_find(&b, "after") == 5,
	      "stacked when narrow (%d rows, after at %d)", used, tbuf_find(&b, "after"));
	CHECK(tui_tree_draw_change(&b, &tglyphs_utf8, 0, 0, 10, 6, &before, &after, false) == 0,
	      "too small: nothing");
	/* removal: after is before without 3 */
	tbuf_free(&b);
	tbuf_resize(&b, 60, 12);
	used = tui_tree_draw_change(&b, &tglyphs_utf8, 0, 0, 60, 12, &after, &before, false);
	CHECK(used > 0 && tbuf_find(&b, "removed: 3") >= 0, "a removal names the node removed");
	/* the first insert: before is empty */
	tbuf_clear(&b);
	used = tui_tree_draw_change(&b, &tglyphs_utf8, 0, 0, 60, 12, &none, &before, false);
	CHECK(used > 0 && tbuf_find(&b, "(empty)") >= 0 && tbuf_find(&b, "inserted: 1, 2") >= 0,
	      "from an empty tree");
	tbuf_free(&b);
}

/* ---- the instance view's 't' --------------------------------------------- */

static void test_instance_view(void)
{
	struct et_snap_item items[3];
	struct et_tree_node tree[3] = {
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
		{ .left = 0, .right = 2, .parent = -1, .black = 1 },
		{ .left = -1, .right = -1, .parent = 1, .black = 0 },
	};
	struct et_snapshot s = { .in = ia, .seq = 1, .watched = 3, .nitems = 3, .items = items,
				 .has_shape = true, .root = 1, .tree = tree };
	struct et_ev_create cr = { .in = ia };
	struct et_ev_ctl add = { .in = ia, .op = ET_CTL_ADD, .fd = 11, .file = 0x4000 };
	struct model m;
	struct tui t;
	struct tbuf b = {};
	int y;

	memcpy(items, items3, sizeof(items));
	model_init(&m, true);
	tui_init(&t, &m, &tglyphs_utf8);
	hdr(&cr.hdr, ET_EV_EP_CREATE);
	tui_apply(&t, &cr.hdr, sizeof(cr));
	hdr(&s.hdr, ET_EV_SNAP_BEGIN);
	tui_apply_snapshot(&t, &s);
	t.sel_ep = ia.ep;
	t.screen = SCR_INSTANCE;
	t.now_ns = now;
	tbuf_resize(&b, 100, 30);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "rbr: 3 epitems, tree order") >= 0 &&
	      tbuf_find(&b, "order: the kernel's (file, fd) key") < 0, "without 't': the list");
	t.tree_shape = true;
	tbuf_clear(&b);
	tui_format(&t, &b);
	y = tbuf_find(&b, "order: the kernel's (file, fd) key");
	CHECK(y >= 0 && tbuf_find(&b, "rbr: 3 epitems, as a tree") >= 0,
	      "'t': the tree, and the line about the order");
	CHECK(tbuf_find(&b, "┌┴┐") >= 0, "the edges drawn");
	t.letters = true;
	tbuf_clear(&b);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "5B") >= 0 && tbuf_find(&b, "7R") >= 0, "letters in mono");
	hdr(&add.hdr, ET_EV_CTL);
	tui_apply(&t, &add.hdr, sizeof(add));
	tbuf_clear(&b);
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "an insert or removal came since") >= 0, "stale: said so");
	/* too narrow for the tree: the list again */
	tbuf_free(&b);
	tbuf_resize(&b, 60, 16);
	t.letters = false;
	{
		struct model_inst *in = model_find(&m, ia.ep);
		struct model_tree_node wide[40];

		for (int i = 0; i < 40; i++)
			wide[i] = (struct model_tree_node){ 100 + i, -1, i + 1 < 40 ? i + 1 : -1, 1 };
		free(in->tree.nodes);
		in->tree.nodes = malloc(sizeof(wide));
		memcpy(in->tree.nodes, wide, sizeof(wide));
		in->tree.n = in->tree.cap = 40;
		in->tree.root = 0;
	}
	tui_format(&t, &b);
	CHECK(tbuf_find(&b, "order: the kernel's (file, fd) key") < 0 &&
	      tbuf_find(&b, "rbr: 4 epitems") >= 0, "a tree that does not fit: the list");
	tbuf_free(&b);
	tui_free(&t);
	model_free(&m);
}

int main(void)
{
	test_assembly();
	test_model();
	test_draw();
	test_layout_order();
	test_change();
	test_instance_view();
	printf("tree: %d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
