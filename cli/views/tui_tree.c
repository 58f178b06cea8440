// SPDX-License-Identifier: GPL-2.0
/*
 * rbr drawn as a tree (tui_tree.h).  Each node has a row pair by depth
 * (its label, then the edges down to its children) and a centre column of
 * its own: its whole left subtree lies left of that column and its right
 * subtree right of it, so the tree reads left to right in the kernel's
 * order (the in-order walk, ep_show_fdinfo's order) and no edge can cross
 * another.  Labels of different depths may share columns, which keeps a
 * tree about half as wide as one column range per node.  A red-black tree
 * of n nodes is at most 2 log2(n + 1) deep, so the height stays small; the
 * width is what limits a tree to what fits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "i18n.h"
#include "tui_tree.h"

struct layout {
	int *x;		/* first column of each node's label */
	int *lw;	/* its width */
	int *depth;
	int w, h;
};

static void layout_free(struct layout *l)
{
	free(l->x);
	free(l->lw);
	free(l->depth);
	memset(l, 0, sizeof(*l));
}

static int label(const struct model_tree_node *n, bool letters, char *buf, size_t len)
{
	return snprintf(buf, len, "%d%s", n->fd, letters ? (n->black ? "B" : "R") : "");
}

/*
 * Lay t out; false if it has no shape, or its links do not make one tree
 * from the root (a shape read while the tree changed can be so).
 */
static bool layout(const struct model_tree *t, bool letters, struct layout *l)
{
	size_t n = t->n;
	int *queue = NULL, qh = 0, qt = 0, maxd = 0, *el, *er, *off;
	char buf[24];
	bool ok = true;

	memset(l, 0, sizeof(*l));
	if (!t->present || !n || t->root < 0 || (size_t)t->root >= n)
		return false;
	l->x = calloc(n, sizeof(int));
	l->lw = calloc(n, sizeof(int));
	l->depth = malloc(n * sizeof(int));
	queue = malloc(n * sizeof(int));
	if (!l->x || !l->lw || !l->depth || !queue) {
		free(queue);
		layout_free(l);
		return false;
	}
	for (size_t i = 0; i < n; i++)
		l->depth[i] = -1;
	/* depths, breadth first; a node reached twice is no tree */
	l->depth[t->root] = 0;
	queue[qt++] = t->root;
	while (qh < qt && ok) {
		int p = queue[qh++];
		int kids[2] = { t->nodes[p].left, t->nodes[p].right };

		for (int k = 0; k < 2; k++) {
			int c = kids[k];

			if (c < 0)
				continue;
			if ((size_t)c >= n || l->depth[c] >= 0 || qt >= (int)n) {
				ok = false;
				break;
			}
			l->depth[c] = l->depth[p] + 1;
			maxd = l->depth[c] > maxd ? l->depth[c] : maxd;
			queue[qt++] = c;
		}
	}
	el = calloc(n, sizeof(int));
	er = calloc(n, sizeof(int));
	off = calloc(n, sizeof(int));
	if (!ok || qt != (int)n || !el || !er || !off) {
		free(queue);
		free(el);
		free(er);
		free(off);
		layout_free(l);
		return false;
	}
	/*
	 * Children before parents (the breadth-first order backwards): each
	 * subtree's extent left and right of its node's centre, and where its
	 * children go: just far enough that the left subtree ends left of the
	 * centre column and the right one starts right of it.
	 */
	for (int q = qt - 1; q >= 0; q--) {
		int i = queue[q], lc = t->nodes[i].left, rc = t->nodes[i].right, h1;

		l->lw[i] = label(&t->nodes[i], letters, buf, sizeof(buf));
		h1 = (l->lw[i] - 1) / 2;
		el[i] = -h1;
		er[i] = l->lw[i] - 1 - h1;
		if (lc >= 0) {
			off[lc] = -(er[lc] + 1);
			el[i] = off[lc] + el[lc] < el[i] ? off[lc] + el[lc] : el[i];
		}
		if (rc >= 0) {
			off[rc] = -el[rc] + 1;
			er[i] = off[rc] + er[rc] > er[i] ? off[rc] + er[rc] : er[i];
		}
	}
	/* parents before children: each centre from its parent's */
	off[t->root] = -el[t->root];
	for (int q = 0; q < qt; q++) {
		int i = queue[q], kids[2] = { t->nodes[i].left, t->nodes[i].right };

		for (int k = 0; k < 2; k++)
			if (kids[k] >= 0)
				off[kids[k]] += off[i];
		l->x[i] = off[i] - (l->lw[i] - 1) / 2;
	}
	l->w = er[t->root] - el[t->root] + 1;
	l->h = 2 * maxd + 1;
	free(queue);
	free(el);
	free(er);
	free(off);
	return true;
}

void tui_tree_size(const struct model_tree *t, bool letters, int *w, int *h)
{
	struct layout l;

	*w = *h = 0;
	if (!layout(t, letters, &l))
		return;
	*w = l.w;
	*h = l.h;
	layout_free(&l);
}

static void put(struct tbuf *b, int x, int y, uint32_t ch, enum tui_color color)
{
	struct tcell *c = tbuf_at(b, x, y);

	if (c)
		*c = (struct tcell){ .ch = ch, .color = color };
}

static int centre(const struct layout *l, int i)
{
	return l->x[i] + (l->lw[i] - 1) / 2;
}

static void draw_at(struct tbuf *b, const struct tglyphs *g, int ox, int y,
		    const struct model_tree *t, const struct layout *l, bool letters,
		    const unsigned char *mark)
{
	char buf[24];

	for (size_t i = 0; i < t->n; i++) {
		const struct model_tree_node *n = &t->nodes[i];
		int ny = y + 2 * l->depth[i], c = ox + centre(l, (int)i);
		enum tui_color col = n->black ? TC_NORMAL : TC_ERROR;
		uint8_t attr = n->black ? TA_BOLD : 0;

		/* a changed node is lit; its letter still says the colour */
		if (mark && mark[i]) {
			col = TC_CHANGED;
			attr = (mark[i] & TT_NEW ? TA_REVERSE : 0) |
			       (mark[i] & TT_RECOLOURED ? TA_UNDERLINE : 0) |
			       (mark[i] & TT_MOVED ? TA_BOLD : 0);
		}
		label(n, letters, buf, sizeof(buf));
		tbuf_text(b, g, ox + l->x[i], ny, l->lw[i], col, buf);
		tbuf_paint(b, ox + l->x[i], ny, l->lw[i], col, attr);
		if (n->left < 0 && n->right < 0)
			continue;
		/* the edges: ┌──┴──┐ under the label, down to each child's centre */
		if (n->left >= 0) {
			int cl = ox + centre(l, n->left);

			put(b, cl, ny + 1, g->tl, TC_BORDER);
			for (int x = cl + 1; x < c; x++)
				put(b, x, ny + 1, g->hline, TC_BORDER);
		}
		if (n->right >= 0) {
			int cr = ox + centre(l, n->right);

			for (int x = c + 1; x < cr; x++)
				put(b, x, ny + 1, g->hline, TC_BORDER);
			put(b, cr, ny + 1, g->tr, TC_BORDER);
		}
		put(b, c, ny + 1, n->left >= 0 && n->right >= 0 ? g->btee :
				  n->left >= 0 ? g->br : g->bl, TC_BORDER);
	}
}

bool tui_tree_draw(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
		   const struct model_tree *t, bool letters, const unsigned char *mark)
{
	struct layout l;

	if (!layout(t, letters, &l))
		return false;
	if (l.w > w || l.h > h) {
		layout_free(&l);
		return false;
	}
	draw_at(b, g, x + (w - l.w) / 2, y, t, &l, letters, mark);
	layout_free(&l);
	return true;
}

struct fd_pos {
	int fd, pos;
};

static int fd_pos_cmp(const void *a, const void *b)
{
	const struct fd_pos *x = a, *y = b;

	return x->fd < y->fd ? -1 : x->fd > y->fd;
}

/* each node's parent, as an fd (-1 for the root) */
static int *parents(const struct model_tree *t)
{
	int *p = malloc((t->n ? t->n : 1) * sizeof(int));

	if (!p)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		p[i] = -1;
	for (size_t i = 0; i < t->n; i++) {
		int kids[2] = { t->nodes[i].left, t->nodes[i].right };

		for (int k = 0; k < 2; k++)
			if (kids[k] >= 0 && (size_t)kids[k] < t->n)
				p[kids[k]] = t->nodes[i].fd;
	}
	return p;
}

/* before's nodes by fd, sorted for bsearch */
static struct fd_pos *index_by_fd(const struct model_tree *t)
{
	struct fd_pos *ix = malloc((t->n ? t->n : 1) * sizeof(*ix));

	if (!ix)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		ix[i] = (struct fd_pos){ t->nodes[i].fd, (int)i };
	qsort(ix, t->n, sizeof(*ix), fd_pos_cmp);
	return ix;
}

static int find_fd(const struct fd_pos *ix, size_t n, int fd)
{
	struct fd_pos key = { fd, 0 };
	const struct fd_pos *f = bsearch(&key, ix, n, sizeof(*ix), fd_pos_cmp);

	return f ? f->pos : -1;
}

int tui_tree_diff(const struct model_tree *before, const struct model_tree *after,
		  unsigned char *mark)
{
	size_t nb = before->present ? before->n : 0;
	struct fd_pos *ix = index_by_fd(before);
	int *pb = parents(before), *pa = parents(after), changed = 0;

	for (size_t i = 0; i < after->n; i++) {
		int j = ix ? find_fd(ix, nb, after->nodes[i].fd) : -1;

		mark[i] = 0;
		if (j < 0) {
			mark[i] = TT_NEW;
		} else {
			if (before->nodes[j].black != after->nodes[i].black)
				mark[i] |= TT_RECOLOURED;
			if (pb && pa && pb[j] != pa[i])
				mark[i] |= TT_MOVED;
		}
		changed += mark[i] != 0;
	}
	free(ix);
	free(pb);
	free(pa);
	return changed;
}

/* "inserted: 7  removed: 3  recoloured: 5 9  moved: 5" */
static void change_line(char *out, size_t len, const struct model_tree *before,
			const struct model_tree *after, const unsigned char *mark)
{
	static const struct {
		unsigned char bit;
		const char *what;
	} kinds[] = {
		{ TT_NEW, N_("inserted:") },
		{ 0, N_("removed:") },
		{ TT_RECOLOURED, N_("recoloured:") },
		{ TT_MOVED, N_("moved by a rotation:") },
	};
	struct fd_pos *ix = index_by_fd(after);
	size_t o = 0;

	out[0] = 0;
	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		bool any = false;
		const struct model_tree *t = kinds[k].bit ? after : before;

		for (size_t i = 0; i < t->n && o < len; i++) {
			bool hit = kinds[k].bit ? (mark[i] & kinds[k].bit) :
				   (!ix || find_fd(ix, after->n, t->nodes[i].fd) < 0);

			if (!hit)
				continue;
			o += snprintf(out + o, len - o, "%s%s%s %d", o && !any ? "  " : "",
				      any ? "" : _(kinds[k].what), any ? "," : "", t->nodes[i].fd);
			any = true;
		}
	}
	if (!out[0])
		snprintf(out, len, "%s", _("no node changed"));
	free(ix);
}

int tui_tree_draw_change(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
			 const struct model_tree *before, const struct model_tree *after,
			 bool letters)
{
	struct model_tree empty = { .present = true, .root = -1 };
	const struct model_tree *bt = before->present ? before : &empty;
	unsigned char *mark = calloc(after->n ? after->n : 1, 1);
	struct layout lb = { 0 }, la = { 0 };
	bool hb, ha, side;
	int wb, hgt_b, wa, hgt_a, used = 0;
	char line[512];

	(void)letters;	/* changed nodes lose their colour: their letter says it */
	if (!mark)
		return 0;
	hb = layout(bt, true, &lb);
	ha = layout(after, true, &la);
	/* an empty tree (the first insert, the last removal) is drawn as "(empty)" */
	wb = hb ? lb.w : tbuf_cols(_("(empty)"));
	hgt_b = hb ? lb.h : 1;
	wa = ha ? la.w : tbuf_cols(_("(empty)"));
	hgt_a = ha ? la.h : 1;
	if ((!hb && bt->n) || (!ha && after->n))
		goto out;	/* a shape that is no tree */
	tui_tree_diff(bt, after, mark);
	change_line(line, sizeof(line), bt, after, mark);
	/* titles, trees, then the line of what changed */
	side = wb + 3 + wa <= w && 1 + (hgt_b > hgt_a ? hgt_b : hgt_a) + 1 <= h;
	if (!side && (wb > w || wa > w || 1 + hgt_b + 1 + 1 + hgt_a + 1 > h))
		goto out;
	if (side) {
		int lw = (w - 3) * wb / (wb + wa ? wb + wa : 1), xa;

		lw = lw < wb ? wb : lw;
		xa = x + lw + 3;
		tbuf_text(b, g, x, y, lw, TC_PANE_TITLE, _("before"));
		tbuf_text(b, g, xa, y, w - lw - 3, TC_PANE_TITLE, _("after"));
		if (hb)
			draw_at(b, g, x + (lw - lb.w) / 2, y + 1, bt, &lb, true, NULL);
		else
			tbuf_text(b, g, x, y + 1, lw, TC_DIM, _("(empty)"));
		if (ha)
			draw_at(b, g, xa + (w - lw - 3 - la.w) / 2, y + 1, after, &la, true, mark);
		else
			tbuf_text(b, g, xa, y + 1, w - lw - 3, TC_DIM, _("(empty)"));
		used = 1 + (hgt_b > hgt_a ? hgt_b : hgt_a);
	} else {
		int ya = y + 1 + hgt_b + 1;

		tbuf_text(b, g, x, y, w, TC_PANE_TITLE, _("before"));
		if (hb)
			draw_at(b, g, x + (w - lb.w) / 2, y + 1, bt, &lb, true, NULL);
		else
			tbuf_text(b, g, x, y + 1, w, TC_DIM, _("(empty)"));
		tbuf_text(b, g, x, ya, w, TC_PANE_TITLE, _("after"));
		if (ha)
			draw_at(b, g, x + (w - la.w) / 2, ya + 1, after, &la, true, mark);
		else
			tbuf_text(b, g, x, ya + 1, w, TC_DIM, _("(empty)"));
		used = 1 + hgt_b + 1 + 1 + hgt_a;
	}
	tbuf_text(b, g, x, y + used, w, TC_CHANGED, line);
	used++;
out:
	layout_free(&lb);
	layout_free(&la);
	free(mark);
	return used;
}

bool tui_tree_pane(struct tbuf *b, const struct tglyphs *g, int x, int y, int w, int h,
		   const struct model_tree *t, bool letters)
{
	const char *note = NULL;
	int tw, th, rows;

	tui_tree_size(t, letters, &tw, &th);
	if (!tw)
		return false;
	/* the tree, a blank row, the line about the order, and a note if any */
	if (!t->exact)
		note = _("read while the tree changed: not an exact picture");
	else if (t->stale)
		note = _("as the last snapshot read it: an insert or removal came since");
	rows = th + 2 + (note ? 1 : 0);
	if (tw > w || rows > h)
		return false;
	tui_tree_draw(b, g, x, y, w, th, t, letters, NULL);
	tbuf_text(b, g, x, y + th + 1, w, TC_DIM, _("order: the kernel's (file, fd) key"));
	if (note)
		tbuf_text(b, g, x, y + th + 2, w, TC_WARN, note);
	return true;
}

bool tui_tree_copy(struct model_tree *dst, const struct model_tree *src)
{
	*dst = *src;
	dst->nodes = NULL;
	dst->cap = 0;
	if (!src->present || !src->n)
		return true;
	dst->nodes = malloc(src->n * sizeof(*dst->nodes));
	if (!dst->nodes) {
		dst->present = false;
		dst->n = 0;
		return false;
	}
	memcpy(dst->nodes, src->nodes, src->n * sizeof(*dst->nodes));
	dst->cap = src->n;
	return true;
}

void tui_tree_release(struct model_tree *t)
{
	free(t->nodes);
	memset(t, 0, sizeof(*t));
	t->root = -1;
}
