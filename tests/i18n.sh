#!/bin/bash
# Words a class can read (issue 12, section 4): the gettext catalogues, the
# language chosen by the locale or --lang, the TUI in Korean on a real
# pseudo-terminal, masks by name and unknowns as "–".  Prints one line per
# check: "PASS name" or "FAIL name :: detail".
#
# usage: i18n.sh EPOLLTRACE OUTDIR   (from the top of the tree, as root, after make)
set -u
ET=$1 OUT=$2
mkdir -p "$OUT"
SOCK=epolltrace-i18n-$$
T() { tmux -u -L "$SOCK" "$@"; }
cleanup() {
	T kill-server 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS i18n: $1"; }
fail() { echo "FAIL i18n: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
ok() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }
# lines with Hangul in them (grep -P needs a UTF-8 locale for \x{...})
hangul() { LC_ALL=C.UTF-8 grep -cP '[\x{AC00}-\x{D7A3}]' "$@"; }

# ---- 1. the catalogues ----------------------------------------------------------
PO=cli/po/ko.po
# the template from the sources as they are now, as `make pot` makes it
if xgettext --language=C --keyword=_ --keyword=N_ --keyword=C_:1c,2 --from-code=UTF-8 \
	-o "$OUT/now.pot" $(find cli -name '*.c' | sort) 2>"$OUT/xgettext.err"; then
	pass "xgettext reads every marked string of cli/"
else
	fail "xgettext reads every marked string of cli/" "$(cat "$OUT/xgettext.err")"
fi
# every msgid of the sources has a translation (msgcmp counts untranslated
# and fuzzy entries as missing)
msgcmp "$PO" "$OUT/now.pot" >"$OUT/msgcmp.txt" 2>&1
ok "ko.po translates every message of the current sources" $? \
	"$(grep -c 'this message' "$OUT/msgcmp.txt") missing: $(head -c 300 "$OUT/msgcmp.txt")"
n=$(grep -c '^#, .*fuzzy' "$PO")
ok "ko.po has no fuzzy entry" "$n" "$n fuzzy: $(grep -A2 '^#, .*fuzzy' "$PO" | head -3)"
msgfmt --check -o "$OUT/ko.mo" "$PO" >"$OUT/msgfmt.txt" 2>&1
ok "msgfmt --check accepts ko.po (headers, c-format)" $? "$(head -c 300 "$OUT/msgfmt.txt")"
# the same placeholders in every translation: printf conversions, in order, and
# {N} placeholders, as a set (msgfmt checks only the entries xgettext flagged)
python3 - "$PO" >"$OUT/placeholders.txt" 2>&1 <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
conv = re.compile(r"%(?:\d+\$)?[-+ #0']*(?:\*|\d+)?(?:\.(?:\*|\d+))?(?:hh|h|ll|l|z|j|t|L)?[diouxXeEfgGcspn%]")
def strings(block, key):
    m = re.search(r"^%s ((?:\".*\"\n?)+)" % re.escape(key), block, re.M)
    return None if not m else "".join(re.findall(r'"(.*)"', m.group(1)))
bad = 0
for block in text.split("\n\n"):
    mid = strings(block, "msgid")
    if not mid:
        continue
    trs = [strings(block, k) for k in ("msgstr", "msgstr[0]") if strings(block, k) is not None]
    srcs = [mid] + ([strings(block, "msgid_plural")] if "msgid_plural" in block else [])
    for tr in trs:
        if not tr:
            print("untranslated:", mid); bad += 1; continue
        want = [c for c in conv.findall(srcs[0]) if c != "%%"]
        got = [c for c in conv.findall(tr) if c != "%%"]
        if got != want:
            print("printf %s != %s in %r" % (got, want, mid)); bad += 1
        if sorted(re.findall(r"\{\w+\}", srcs[0])) != sorted(re.findall(r"\{\w+\}", tr)):
            print("placeholders differ in %r" % mid); bad += 1
sys.exit(1 if bad else 0)
EOF
ok "every translation has the msgid's printf conversions and {N} placeholders" $? \
	"$(head -c 300 "$OUT/placeholders.txt")"
# kernel names stay as the kernel spells them
python3 - "$PO" >"$OUT/names.txt" 2>&1 <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8").read()
names = ["rbr", "rdllist", "ovflist", "wq", "epitem", "ep_poll_callback", "ep_insert",
         "ep_send_events", "epoll_wait", "eventpoll", "ep_poll", "ep_done_scan"]
bad = 0
for block in text.split("\n\n"):
    m = re.search(r'^msgid "(.*)"', block, re.M)
    s = re.search(r'^msgstr(?:\[0\])? ((?:".*"\n?)+)', block, re.M)
    if not m or not s or not m.group(1):
        continue
    mid = "".join(re.findall(r'"(.*)"', block.split("msgstr")[0].split("msgid", 1)[1]))
    tr = "".join(re.findall(r'"(.*)"', s.group(1)))
    for n in names:
        c = len(re.findall(r"\b%s\b" % n, mid))
        if c and len(re.findall(r"(?<![A-Za-z_])%s(?![A-Za-z_])" % n, tr)) < c:
            print("%s dropped in %r" % (n, mid[:60])); bad += 1
sys.exit(1 if bad else 0)
EOF
ok "kernel names (rbr, rdllist, wq, ep_poll_callback...) kept in every translation" $? \
	"$(head -c 300 "$OUT/names.txt")"
# make builds the catalogue beside the binary and installs it under the prefix
MO=build/locale/ko/LC_MESSAGES/epolltrace.mo
if [ -s "$MO" ] && cmp -s <(msgunfmt "$MO" 2>/dev/null) <(msgunfmt "$OUT/ko.mo"); then
	pass "make built $MO from ko.po"
else
	fail "make built $MO from ko.po" "missing or stale (run make)"
fi
rm -rf "$OUT/stage"
if make -s install DESTDIR="$OUT/stage" PREFIX=/usr >"$OUT/install.txt" 2>&1 &&
	cmp -s "$OUT/stage/usr/share/locale/ko/LC_MESSAGES/epolltrace.mo" "$MO"; then
	pass "make install puts the catalogue under PREFIX/share/locale"
else
	fail "make install puts the catalogue under PREFIX/share/locale" \
		"$(tail -n 3 "$OUT/install.txt"; ls -R "$OUT/stage" 2>&1 | head -5)"
fi
grep -q 'gettext' <(sed -n '/^BUILD_DEPS/,/^[A-Z_]* *:=/p' Makefile)
ok "the gettext package is in BUILD_DEPS (installed when missing)" $? "$(grep -A1 '^BUILD_DEPS' Makefile)"

# ---- 2. the language: locale, LANGUAGE, --lang ----------------------------------
# `demo --text` (the classroom workload, traced) shows the log's words
words() {	# NAME EXPECT(ko|en) ENV... -- ARGS...
	local name=$1 want=$2 envs=() f
	shift 2
	while [ "$1" != -- ]; do envs+=("$1"); shift; done
	shift
	f=$OUT/words-$(echo "$name" | tr -c 'a-zA-Z0-9' _).txt
	env -i PATH="$PATH" "${envs[@]}" "$ET" demo --text -d 1.5 "$@" >"$f" 2>"$f.err"
	local rc=$? hangul
	hangul=$(hangul "$f")
	if [ $rc != 0 ]; then
		fail "$name" "exit $rc: $(head -c 200 "$f.err")"
	elif [ "$want" = ko ] && [ "$hangul" -gt 0 ] && grep -qE 'epoll_wait ret .* 이벤트 [0-9]+개' "$f"; then
		pass "$name"
	elif [ "$want" = en ] && [ "$hangul" = 0 ] && grep -qE 'epoll_wait ret .* [0-9]+ events?' "$f"; then
		pass "$name"
	else
		fail "$name" "want $want, $hangul Hangul lines: $(grep -m2 'epoll_wait ret' "$f")"
	fi
}
words "LANG=ko_KR.UTF-8 (a locale not generated here) speaks Korean" ko LANG=ko_KR.UTF-8 --
words "LANG=ko_KR.UTF-8 with --lang en speaks English" en LANG=ko_KR.UTF-8 -- --lang en
words "no locale at all (C) with --lang ko speaks Korean" ko -- --lang ko
words "LANGUAGE=ko under C.UTF-8 speaks Korean" ko LANG=C.UTF-8 LANGUAGE=ko --
words "LC_ALL=C speaks English" en LC_ALL=C LANG=ko_KR.UTF-8 --
words "LC_MESSAGES=ko_KR.UTF-8 speaks Korean" ko LANG=C.UTF-8 LC_MESSAGES=ko_KR.UTF-8 --

"$ET" demo --lang fr -d 1 >"$OUT/badlang.out" 2>"$OUT/badlang.err"
rc=$?
if [ $rc = 2 ] && [ ! -s "$OUT/badlang.out" ] && [ "$(wc -l <"$OUT/badlang.err")" = 1 ] &&
	grep -q "invalid --lang 'fr': use en or ko" "$OUT/badlang.err"; then
	pass "--lang fr: one line, exit 2"
else
	fail "--lang fr: one line, exit 2" "exit $rc: $(cat "$OUT/badlang.err" "$OUT/badlang.out" | head -3)"
fi
"$ET" record --lang ko -o "$OUT/x.etr" -- true >/dev/null 2>"$OUT/reclang.err"
rc=$?
if [ $rc = 2 ] && grep -q -- '--lang applies to tracing, replay, demo and probes' "$OUT/reclang.err"; then
	pass "record --lang: refused where it shows no words, exit 2"
else
	fail "record --lang: refused where it shows no words, exit 2" "exit $rc: $(cat "$OUT/reclang.err")"
fi

# the traced COMMAND gets the environment as it was given, not --lang's LANGUAGE
env -i PATH="$PATH" LANG=C.UTF-8 "$ET" --lang ko --text -d 3 -- \
	sh -c 'echo "LANGUAGE=${LANGUAGE-unset}" >&2' >/dev/null 2>"$OUT/child.err"
if grep -q '^LANGUAGE=unset$' "$OUT/child.err"; then
	pass "--lang is epolltrace's: COMMAND does not inherit its LANGUAGE"
else
	fail "--lang is epolltrace's: COMMAND does not inherit its LANGUAGE" "$(head -3 "$OUT/child.err")"
fi

# machine-read output stays English and unchanged
env -i PATH="$PATH" LANG=ko_KR.UTF-8 "$ET" demo --lang ko --json -d 1.5 >"$OUT/ko.json" 2>/dev/null
if [ -s "$OUT/ko.json" ] && [ "$(hangul "$OUT/ko.json")" = 0 ] &&
	python3 -c 'import json,sys; [json.loads(l) for l in open(sys.argv[1])]' "$OUT/ko.json"; then
	pass "--json under --lang ko: JSON, no Hangul"
else
	fail "--json under --lang ko: JSON, no Hangul" "$(hangul "$OUT/ko.json") lines with Hangul"
fi
env -i PATH="$PATH" LANG=ko_KR.UTF-8 "$ET" probes --lang ko --json >"$OUT/probes-ko.json" 2>/dev/null
"$ET" probes --json >"$OUT/probes-en.json" 2>/dev/null
if [ -s "$OUT/probes-ko.json" ] && cmp -s "$OUT/probes-ko.json" "$OUT/probes-en.json"; then
	pass "probes --json is the same in Korean (strerror too)"
else
	fail "probes --json is the same in Korean (strerror too)" "$(diff "$OUT/probes-en.json" "$OUT/probes-ko.json" | head -3)"
fi
# ---- 3. masks by name, unknowns as "–", in the log a person reads ---------------
f=$OUT/masks.txt
env -i PATH="$PATH" LANG=C.UTF-8 "$ET" demo --text -d 2 >"$f" 2>/dev/null
bad=$(grep -E 'events=(0x|EPOLL)|=-1|requeued| -1 |epfd -1|epfd \?' "$f" | head -2)
if grep -q 'events=IN|ONESHOT' "$f" && grep -q 'events=IN|ET' "$f" && [ -z "$bad" ]; then
	pass "the log names masks (IN|ONESHOT, IN|ET), never hex, -1 or ?"
else
	fail "the log names masks (IN|ONESHOT, IN|ET), never hex, -1 or ?" \
		"${bad:-no IN|ONESHOT or IN|ET: $(grep -m1 events= "$f")}"
fi
if grep -q 'ep_send_events .*left on the ready list: –' "$f" ||
	grep -qE 'ep_send_events .*[0-9]+ left on the ready list' "$f"; then
	pass "ep_send_events: what it left on rdllist, or – where the hook cannot read it"
else
	fail "ep_send_events: what it left on rdllist, or – where the hook cannot read it" \
		"$(grep -m1 ep_send_events "$f")"
fi

# ---- 4. the TUI in Korean on a pseudo-terminal ------------------------------------
# tmux gives the pty; the screen is read back with capture-pane
T -f /dev/null new-session -d -s keep "sleep 3600"
T set-option -g default-terminal xterm-256color
T new-session -d -s ko -x 100 -y 30 \
	"env -i PATH='$PATH' TERM=xterm-256color LANG=ko_KR.UTF-8 $ET demo; sleep 30"
screen() { T capture-pane -p -t ko 2>/dev/null; }
wait_screen() {	# PATTERN [TENTHS]
	local i=0
	while ! screen | grep -Eq -- "$1"; do
		i=$((i + 1))
		[ $i -gt "${2:-100}" ] && return 1
		sleep 0.1
	done
}
# display columns of each line, Hangul two each
cols() {
	python3 -c '
import sys, unicodedata
for l in sys.stdin.read().split("\n"):
    print(sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in l), l)'
}
if wait_screen '개요: 인스턴스 [0-9]+개' 150 && wait_screen 'pipeline' 100; then
	pass "TUI: the overview's title in Korean (LANG=ko_KR.UTF-8)"
else
	fail "TUI: the overview's title in Korean (LANG=ko_KR.UTF-8)" "$(screen | head -3)"
fi
screen >"$OUT/tui-overview.txt"
# the 감시 (WATCHED) header right-aligned over the counts: same end column
python3 - "$OUT/tui-overview.txt" >"$OUT/tui-align.txt" 2>&1 <<'EOF'
import re, sys, unicodedata
def w(s):
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)
lines = open(sys.argv[1], encoding="utf-8").read().split("\n")
head = lines[1]
i = head.index("감시")
end = w(head[:i]) + 4
rows = [l for l in lines[2:] if re.match(r"^ +\d+ \S", l)]
assert rows, "no instance row"
for r in rows:
    # the count ending at that column: digits, then a blank
    cells = []
    for c in r:
        cells += [c] * (2 if unicodedata.east_asian_width(c) in "WF" else 1)
    assert cells[end - 1].isdigit() and cells[end] == " ", (end, r)
print("ok", end, len(rows))
EOF
ok "TUI: 감시 ends in the column its counts end in" $? "$(tail -n 2 "$OUT/tui-align.txt")"
T send-keys -t ko Enter
if wait_screen 'rbr: epitem [0-9]+개, 트리 순서' 50 && wait_screen 'wq: [0-9]+개 잠듦' 50; then
	pass "TUI: the instance view's panes in Korean, kernel names kept"
else
	fail "TUI: the instance view's panes in Korean, kernel names kept" "$(screen | head -4)"
fi
sleep 1
screen >"$OUT/tui-instance.txt"
bad=$(cols <"$OUT/tui-instance.txt" | awk '$2 ~ /^(│|├|┌|└)/ && $1 != 100' | head -2)
if [ -z "$bad" ] && grep -q '준비 리스트' "$OUT/tui-instance.txt"; then
	pass "TUI: every boxed row is exactly 100 columns (Hangul counted double)"
else
	fail "TUI: every boxed row is exactly 100 columns (Hangul counted double)" \
		"${bad:-no 준비 리스트 on the status line}"
fi
# step mode: pause, Space: the narration in Korean, whose event it is
T send-keys -t ko p
sleep 0.5
T send-keys -t ko ' '
pid=$(sed -n '1s/.*pid \([0-9]*\) .*/\1/p' "$OUT/tui-instance.txt")
if wait_screen '커널이 방금 한 일' 30 && wait_screen "pid $pid tid [0-9]+ epfd [0-9]+:" 30; then
	pass "TUI: Space explains the next event of this instance in Korean, with its pid, tid, epfd"
else
	fail "TUI: Space explains the next event of this instance in Korean, with its pid, tid, epfd" \
		"$(screen | tail -6)"
fi
screen >"$OUT/tui-step.txt"
T send-keys -t ko q

# ---- 5. step mode in a replay: only the instance on screen ------------------------
"$ET" demo --text -d 3 -w "$OUT/demo.etr" --force >/dev/null 2>&1
T new-session -d -s rp -x 100 -y 30 \
	"env -i PATH='$PATH' TERM=xterm-256color LANG=C.UTF-8 $ET replay $OUT/demo.etr --lang ko; sleep 30"
rscreen() { T capture-pane -p -t rp 2>/dev/null; }
for _ in $(seq 50); do rscreen | grep -q '재생' && break; sleep 0.1; done
T send-keys -t rp p '<'
sleep 0.3
# past both processes' set-up (a burst of one instance's records) to where
# their events interleave: else six steps can pass nothing to skip
for _ in $(seq 40); do T send-keys -t rp .; sleep 0.05; done
# the second row: the forked pipeline, the quieter of the two
T send-keys -t rp j Enter
sleep 0.4
title=$(rscreen | head -1)
before=$(rscreen | tail -1 | grep -oE '#[0-9]+/' | tr -dc 0-9)
whose=()
for _ in $(seq 6); do
	T send-keys -t rp .
	sleep 0.25
	whose+=("$(rscreen | grep -oE 'pid [0-9]+ tid [0-9]+ epfd [0-9]+:' | sed 's/ tid [0-9]*//')")
done
after=$(rscreen | tail -1 | grep -oE '#[0-9]+/' | tr -dc 0-9)
want=$(sed -n 's/.*pid \([0-9]*\) (.*) epfd \([0-9]*\).*/pid \1 epfd \2:/p' <<<"$title")
others=$(printf '%s\n' "${whose[@]}" | grep -vxF -- "$want" | head -2)
if [ -n "$want" ] && [ -z "$others" ] && [ "${#whose[@]}" = 6 ] && [ -n "$before" ] &&
	[ -n "$after" ] && [ $((after - before)) -gt 6 ]; then
	pass "replay: 6 steps on the pipeline's instance stop only at its events (#$before to #$after)"
else
	fail "replay: 6 steps on the pipeline's instance stop only at its events" \
		"want '$want'; others: $others; #$before to #$after; $(rscreen | tail -5)"
fi
T send-keys -t rp q
