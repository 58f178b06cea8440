/* SPDX-License-Identifier: GPL-2.0 */
#ifndef EPOLLTRACE_LANG_H
#define EPOLLTRACE_LANG_H

#include <stdbool.h>

/*
 * The language words are shown in (i18n.h marks them): the locale's, or
 * --lang's.  et_lang_init() runs first in main; et_lang_set() for --lang.
 */
void et_lang_init(void);
/* "en" or "ko"; -1 for anything else (the caller says so, exit 2) */
int et_lang_set(const char *lang);
/* can the terminal show more than ASCII (a UTF-8 character set)? */
bool et_lang_utf8(void);
/* in a child about to exec a traced COMMAND: the environment as it was given */
void et_lang_restore_env(void);

#endif
