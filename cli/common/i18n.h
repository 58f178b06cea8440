/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_I18N_H
#define EPOLLTRACE_I18N_H

/*
 * Words a class can read: every user-visible label and narration is
 * marked here and translated through gettext's catalogues (po/, one
 * domain).  The English text is the message id.  Kernel names (rbr,
 * rdllist, wq, ep_poll_callback...) are never translated.
 *
 *   _("text")    translate now;
 *   N_("text")   mark for xgettext, translate where shown (tables, records);
 *   C_(ctx, s)   a short label that needs a context to translate.
 */
#include <libintl.h>

#define ET_TEXTDOMAIN "epolltrace"

#define _(s) gettext(s)
#define N_(s) (s)
#define C_(ctx, s) pgettext_aux(ET_TEXTDOMAIN, ctx "\004" s, s)

static inline const char *pgettext_aux(const char *domain, const char *ctx_id, const char *s)
{
	const char *t = dgettext(domain, ctx_id);

	return t == ctx_id ? s : t;
}

#endif
