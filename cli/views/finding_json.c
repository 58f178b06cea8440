// SPDX-License-Identifier: GPL-2.0
/*
 * A finding (detect.h) as JSON: one writer for --json's "finding" records
 * and --json-state's "findings" arrays, so that both say the same.
 */
#include <string.h>
#include "event.h"
#include "finding_json.h"
#include "i18n.h"

void json_finding(struct json_writer *w, const struct finding *f, const char *comm,
		  bool with_type)
{
	struct finding g = *f;
	char text[512];

	if (comm)
		snprintf(g.comm, sizeof(g.comm), "%s", comm);
	json_obj_begin(w);
	if (with_type)
		json_kv_str(w, "type", "finding");
	json_kv_str(w, "detector", detect_key(f->kind));
	json_kv_u64(w, "pid", f->pid);
	json_key(w, "comm");
	if (g.comm[0] && strcmp(g.comm, "?"))
		json_strn(w, g.comm, strnlen(g.comm, sizeof(g.comm)));
	else
		json_null(w);
	json_kv_s64_or_null(w, "epfd", f->epfd, f->epfd >= 0);
	json_kv_hex(w, "ep", f->ep);
	json_key(w, "fds");
	json_arr_begin(w);
	for (unsigned int i = 0; i < f->nfds; i++)
		json_s64(w, f->fds[i]);
	json_arr_end(w);
	json_key(w, "tids");
	json_arr_begin(w);
	for (unsigned int i = 0; i < f->ntids; i++)
		json_u64(w, f->tids[i]);
	json_arr_end(w);
	json_kv_u64(w, "count", f->count);
	json_kv_u64(w, "value", f->value);
	json_kv_bool(w, "confirmed", !f->unconfirmed);
	json_kv_u64(w, "first_ns", f->first_ns);
	json_kv_u64(w, "last_ns", f->last_ns);
	detect_describe(&g, text, sizeof(text));
	json_kv_str(w, "text", text);
	json_kv_str(w, "hint", _(detect_hint(f->kind)));
	json_key(w, "evidence");
	json_arr_begin(w);
	for (unsigned int i = 0; i < f->nev; i++) {
		const struct det_evidence *e = &f->ev[i];

		json_obj_begin(w);
		json_kv_u64(w, "seq", e->seq);
		json_kv_u64(w, "ts_ns", e->ts_ns);
		json_kv_str(w, "type", et_type_name(e->type));
		json_kv_u64_or_null(w, "tid", e->tid, e->tid != 0);
		json_kv_s64_or_null(w, "fd", e->fd, e->fd >= 0);
		json_obj_end(w);
	}
	json_arr_end(w);
	json_obj_end(w);
}
