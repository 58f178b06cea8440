// SPDX-License-Identifier: GPL-2.0
/*
 * Which language, and where its catalogue is (GNU gettext, one domain:
 * i18n.h).  The locale chooses (LANGUAGE, LC_ALL, LC_MESSAGES, LANG, as
 * every gettext program), or --lang en|ko.
 */
#include <langinfo.h>
#include <limits.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "i18n.h"
#include "lang.h"

#ifndef ET_LOCALEDIR
#define ET_LOCALEDIR "/usr/local/share/locale"
#endif

static char *given_language;	/* LANGUAGE as the environment gave it, or NULL */
static bool had_language;
static bool ascii_only;

/* the language part ("ko") of the first locale variable set, as setlocale reads them */
static void env_language(char *buf, size_t len)
{
	static const char *const vars[] = { "LC_ALL", "LC_MESSAGES", "LANG" };

	buf[0] = 0;
	for (size_t i = 0; i < sizeof(vars) / sizeof(vars[0]); i++) {
		const char *v = getenv(vars[i]);

		if (v && *v) {
			snprintf(buf, len, "%.*s", (int)strcspn(v, "_.@"), v);
			return;
		}
	}
}

/* the catalogues: $EPOLLTRACE_LOCALEDIR, the build tree beside the binary, the prefix */
static void bind_catalogues(void)
{
	const char *dir = getenv("EPOLLTRACE_LOCALEDIR");
	char exe[PATH_MAX], tree[PATH_MAX + 16];
	ssize_t n;

	if (!dir || !*dir) {
		dir = ET_LOCALEDIR;
		n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
		if (n > 0) {
			exe[n] = 0;
			*strrchr(exe, '/') = 0;
			/* ./epolltrace from a checkout: `make` built build/locale */
			snprintf(tree, sizeof(tree), "%s/build/locale", exe);
			if (!access(tree, R_OK | X_OK))
				dir = tree;
		}
	}
	bindtextdomain(ET_TEXTDOMAIN, dir);
	/*
	 * glibc's own messages (strerror, strsignal) follow LC_MESSAGES and
	 * LANGUAGE too: "Operation not permitted" would turn Korean inside
	 * probes --json and the recordings' notes, which programs read.  Our
	 * catalogue only: libc's domain is bound where no catalogue is.
	 */
	bindtextdomain("libc", "/nonexistent/epolltrace-keeps-libc-english");
	/* the catalogues are UTF-8, and so is what the TUI decodes */
	bind_textdomain_codeset(ET_TEXTDOMAIN, "UTF-8");
	textdomain(ET_TEXTDOMAIN);
}

void et_lang_init(void)
{
	char lang[32];
	const char *l = getenv("LANGUAGE");

	had_language = l != NULL;
	given_language = l ? strdup(l) : NULL;
	if (!setlocale(LC_ALL, "")) {
		/*
		 * The environment names a locale that is not generated here
		 * (LANG=ko_KR.UTF-8 on a stock Debian, which ships C.UTF-8
		 * only): setlocale fails and everything stays "C", where
		 * glibc (2.36, checked) ignores LANGUAGE and gettext
		 * translates nothing.  C.UTF-8 gives the character set (wide
		 * characters, wcwidth for Hangul), and LANGUAGE, which glibc
		 * honours under C.UTF-8, keeps the language the locale asked
		 * for.
		 */
		env_language(lang, sizeof(lang));
		setlocale(LC_ALL, "C.UTF-8");
		if (lang[0] && strcmp(lang, "C") && strcmp(lang, "POSIX") &&
		    !(l && *l))
			setenv("LANGUAGE", lang, 1);
	}
	/*
	 * Numbers are printed and parsed the C way whatever the locale:
	 * JSON, the recordings' text and -d 0.5 must not get a decimal
	 * comma under de_DE.
	 */
	setlocale(LC_NUMERIC, "C");
	ascii_only = strcmp(nl_langinfo(CODESET), "UTF-8") != 0;
	bind_catalogues();
}

int et_lang_set(const char *lang)
{
	const char *msgs = setlocale(LC_MESSAGES, NULL);

	if (strcmp(lang, "en") && strcmp(lang, "ko"))
		return -1;
	/*
	 * LANGUAGE outranks LC_ALL and LANG in gettext, but not under the
	 * "C" locale: there the messages' locale becomes C.UTF-8 first.
	 * Korean needs a UTF-8 character set too (Hangul has no ASCII form).
	 */
	if (!msgs || !strcmp(msgs, "C") || !strcmp(msgs, "POSIX"))
		setlocale(LC_MESSAGES, "C.UTF-8");
	if (!strcmp(lang, "ko") && ascii_only && setlocale(LC_CTYPE, "C.UTF-8"))
		ascii_only = false;
	setenv("LANGUAGE", lang, 1);
	return 0;
}

bool et_lang_utf8(void)
{
	return !ascii_only;
}

void et_lang_restore_env(void)
{
	if (had_language)
		setenv("LANGUAGE", given_language ? given_language : "", 1);
	else
		unsetenv("LANGUAGE");
}
