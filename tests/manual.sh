#!/bin/bash
# The manual: each subcommand's --help, `help`, --version, the man page
# (lint, and every option of main.c's table named in it and in --help),
# bash completion, `make install` into a DESTDIR, and the README as a front
# page whose links to docs/ resolve.  Prints one line per check: "PASS
# name" or "FAIL name :: detail"; tests/run-all.sh counts them.
#
# usage: manual.sh EPOLLTRACE OUTDIR
set -u
ET=$1 OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
shopt -s nullglob
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS manual: $1"; }
fail() { echo "FAIL manual: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
# ok NAME CONDITION-STATUS DETAIL
ok() { if [ "$2" = 0 ]; then pass "$1"; else fail "$1" "$3"; fi; }

SUBS="demo learn probes sites record replay info export help"
MAN=$ROOT/docs/epolltrace.8
COMP=$ROOT/docs/epolltrace.bash-completion

# ---- --help per subcommand, and `help` -------------------------------------
"$ET" --help >"$OUT/help-trace.txt" 2>"$OUT/help-trace.err"
rc=$?
ok "--help exits 0, on stdout only" "$([ $rc = 0 ] && [ -s "$OUT/help-trace.txt" ] &&
	[ ! -s "$OUT/help-trace.err" ]; echo $?)" "exit $rc; $(head -c 200 "$OUT/help-trace.err")"
for s in $SUBS; do
	"$ET" "$s" --help >"$OUT/help-$s.txt" 2>"$OUT/help-$s.err"
	rc=$?
	if [ $rc != 0 ] || [ -s "$OUT/help-$s.err" ]; then
		fail "$s --help" "exit $rc; stderr $(head -c 200 "$OUT/help-$s.err")"
	elif ! head -n 1 "$OUT/help-$s.txt" | grep -q "^Usage: epolltrace $s\b"; then
		fail "$s --help" "the first line does not name it: $(head -n 1 "$OUT/help-$s.txt")"
	elif ! grep -q "^Examples:" "$OUT/help-$s.txt"; then
		fail "$s --help" "no examples"
	else
		pass "$s --help: its own usage, with examples"
	fi
	if "$ET" help "$s" 2>&1 | cmp -s - "$OUT/help-$s.txt"; then
		pass "help $s equals $s --help"
	else
		fail "help $s equals $s --help" "$(diff <("$ET" help "$s" 2>&1) "$OUT/help-$s.txt" | head -5)"
	fi
	if "$ET" "$s" -h 2>&1 | cmp -s - "$OUT/help-$s.txt"; then
		pass "$s -h equals $s --help"
	else
		fail "$s -h equals $s --help" "$("$ET" "$s" -h 2>&1 | head -3)"
	fi
done
long=$(cat "$OUT"/help-*.txt | awk 'length > 80')
ok "every --help fits 80 columns" "$([ -z "$long" ]; echo $?)" "$long"
n=$(for s in trace $SUBS; do md5sum <"$OUT/help-$s.txt"; done | sort -u | wc -l)
ok "every subcommand's help differs" "$([ "$n" = 10 ]; echo $?)" "$n distinct texts of 10"
# the options after the subcommand: help still wins (replay takes a FILE)
"$ET" replay some.etr --help 2>&1 | cmp -s - "$OUT/help-replay.txt"
ok "replay FILE --help: replay's help" $? "$("$ET" replay some.etr --help 2>&1 | head -2)"
for a in "" trace; do
	# shellcheck disable=SC2086
	"$ET" help $a 2>&1 | cmp -s - "$OUT/help-trace.txt"
	ok "help ${a:-(alone)} equals --help" $? "$("$ET" help $a 2>&1 | head -2)"
done
for bad in nope "record extra"; do
	# shellcheck disable=SC2086
	"$ET" help $bad >"$OUT/bad.out" 2>"$OUT/bad.err"
	rc=$?
	if [ $rc = 2 ] && [ ! -s "$OUT/bad.out" ] && [ "$(wc -l <"$OUT/bad.err")" = 1 ] &&
		grep -q "'${bad##* }'" "$OUT/bad.err"; then
		pass "help $bad: exit 2, one line ($(cat "$OUT/bad.err"))"
	else
		fail "help $bad" "exit $rc; stdout $(head -c 100 "$OUT/bad.out"); stderr $(cat "$OUT/bad.err")"
	fi
done
"$ET" record --no-such-option >/dev/null 2>"$OUT/bad.err"
rc=$?
ok "a bad option points to the subcommand's help" "$([ $rc = 2 ] &&
	grep -q "epolltrace record --help" "$OUT/bad.err"; echo $?)" "exit $rc; $(cat "$OUT/bad.err")"

# ---- --version ----------------------------------------------------------------
want=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
v=$("$ET" --version 2>&1)
if [ -n "$want" ] && [[ $v =~ ^epolltrace\ ([0-9]+\.[0-9]+\.[0-9]+)(\ \(git\ [0-9a-f]{7,}(-dirty)?\))?$ ]] &&
	[ "${BASH_REMATCH[1]}" = "$want" ]; then
	pass "--version: $v"
else
	fail "--version" "'$v', the Makefile says '$want'"
fi
for a in -V "probes --version"; do
	# shellcheck disable=SC2086
	[ "$("$ET" $a 2>&1)" = "$v" ]
	ok "$a equals --version" $? "$("$ET" $a 2>&1)"
done
# built outside git (a tarball): the plain version, no git part
mkdir -p "$OUT/nogit"
cp -r "$ROOT/Makefile" "$ROOT/cli" "$ROOT/include" "$ROOT/bpf" "$OUT/nogit/"
line=$(make -n -C "$OUT/nogit" build/cli/help.o 2>&1 | grep -o "EPOLLTRACE_VERSION='[^']*'")
ok "without git, the version is the Makefile's" \
	"$([ "$line" = "EPOLLTRACE_VERSION='\"$want\"'" ]; echo $?)" "$line"

# ---- the man page -------------------------------------------------------------
if ! command -v man >/dev/null; then
	fail "man page" "man is not installed (man-db, in the Makefile's TEST_DEPS)"
else
	w=$(MANWIDTH=80 man --warnings -l "$MAN" 2>&1 >/dev/null)
	ok "man --warnings -l docs/epolltrace.8: no warnings" "$([ -z "$w" ]; echo $?)" "$w"
	LC_ALL=C MANWIDTH=80 man -l "$MAN" >"$OUT/man80.txt" 2>&1
	# wide, so that nothing is hyphenated across lines
	LC_ALL=C MANWIDTH=1000 man -l "$MAN" >"$OUT/man.txt" 2>&1
	missing=""
	for sec in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" ENVIRONMENT FILES \
		EXAMPLES "SEE ALSO"; do
		grep -q "^$sec\$" "$OUT/man80.txt" || missing="$missing [$sec]"
	done
	ok "the man page renders its sections" "$([ -z "$missing" ]; echo $?)" "missing:$missing"
	syn=$(sed -n '/^SYNOPSIS$/,/^DESCRIPTION$/p' "$OUT/man.txt")
	missing=""
	for s in $SUBS; do
		grep -q "epolltrace $s" <<<"$syn" || missing="$missing $s"
	done
	ok "the SYNOPSIS names every subcommand" "$([ -z "$missing" ]; echo $?)" "missing:$missing"
	awk 'length > 80' "$OUT/man80.txt" >"$OUT/long.txt"
	ok "MANWIDTH=80: no line over 80 columns" "$(grep -q '^SYNOPSIS$' "$OUT/man80.txt" &&
		[ ! -s "$OUT/long.txt" ]; echo $?)" \
		"$(head -n 2 "$OUT/long.txt")"
fi

# ---- every option is documented, in --help and in the man page ----------------
# main.c's table, and sites' own: { "name", has_arg, NULL, 'x' or OPT_... }
sed -n '/long_opts\[\] = {/,/^};/p' "$ROOT/cli/main.c" "$ROOT/cli/kernel/sites_cmd.c" \
	"$ROOT/cli/workloads/learn.c" | sort -u |
	sed -n 's/.*{ *"\([a-z-]*\)", *[a-z_]*, *NULL, *\(.*\) *}.*/\1 \2/p' >"$OUT/opts.txt"
nopts=$(wc -l <"$OUT/opts.txt")
if [ "$nopts" -lt 20 ]; then
	fail "options read from cli/main.c" "only $nopts found: the table's shape changed?"
else
	cat "$OUT"/help-*.txt >"$OUT/help-all.txt"
	nohelp="" noman=""
	while read -r name short; do
		opts="--$name"
		[[ $short =~ ^\'(.)\'$ ]] && opts="$opts -${BASH_REMATCH[1]}"
		for o in $opts; do
			grep -qE -- "(^|[^-a-z])$o([^-a-z]|\$)" "$OUT/help-all.txt" || nohelp="$nohelp $o"
			grep -qE -- "(^|[^-a-z])$o([^-a-z]|\$)" "$OUT/man.txt" || noman="$noman $o"
		done
	done <"$OUT/opts.txt"
	ok "every option of main.c ($nopts) is in some --help" "$([ -z "$nohelp" ]; echo $?)" \
		"not in any --help:$nohelp"
	ok "every option of main.c ($nopts) is in the man page" "$([ -z "$noman" ]; echo $?)" \
		"not in docs/epolltrace.8:$noman"
	# and the other way: what the texts offer, the program takes
	known=" $(awk '{ printf "--%s ", $1 } $2 ~ /^'\''.'\''$/ { printf "-%s ", substr($2, 2, 1) }' \
		"$OUT/opts.txt")"
	stale=""
	for o in $(grep -E '^ +-' "$OUT/help-all.txt" | grep -oE -- '(^| )--?[a-zA-Z][-a-z]*' | sort -u); do
		[[ $known == *" $o "* ]] || stale="$stale $o"
	done
	for o in $(sed -n '/^OPTIONS$/,/^THE TUI$/p' "$OUT/man.txt" | grep -E '^       -' |
		grep -oE -- '(^| )--?[a-zA-Z][-a-z]*' | sort -u); do
		[[ $known == *" $o "* ]] || stale="$stale man:$o"
	done
	ok "--help and the man page name no option the program lacks" \
		"$([ -z "$stale" ] && grep -q '^OPTIONS$' "$OUT/man.txt"; echo $?)" \
		"unknown:$stale"
fi

# ---- bash completion ----------------------------------------------------------
# a process to find by pid and by comm, and a zombie that must not be offered
cp /bin/sleep "$OUT/etmanualsleep"
"$OUT/etmanualsleep" 300 &
SPID=$!
pids+=("$SPID")
# (bash may reap its child before the exec; python never reaps it)
python3 -c 'import os, time
if os.fork() == 0:
    os._exit(0)
time.sleep(300)' &
ZPARENT=$!
pids+=("$ZPARENT")
mkdir -p "$OUT/comp/sub"
: >"$OUT/comp/a.etr"
: >"$OUT/comp/b.txt"
ZOMBIE=""
for _ in $(seq 50); do
	for st in /proc/[0-9]*/stat; do
		read -r l 2>/dev/null <"$st" || continue
		r=${l##*) }
		set -- $r
		if [ "$1" = Z ] && [ "$2" = "$ZPARENT" ]; then
			ZOMBIE=${l%% *}
		fi
	done
	[ -n "$ZOMBIE" ] && break
	sleep 0.1
done
# complete WORD...: the candidates, sorted, one line (the last word is the
# one being completed)
complete_words() {
	bash --norc --noprofile -c '
		source "$1" || exit 1
		shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_epolltrace
		printf "%s\n" "${COMPREPLY[@]}" | sort | tr "\n" " " | sed "s/ $//"' \
		_ "$COMP" "$ET" "$@" 2>&1
}
# ccase NAME EXPECTED WORD...: the candidates are exactly EXPECTED
ccase() {
	local name=$1 want=$2 got
	shift 2
	got=$(complete_words "$@")
	ok "completion: $name" "$([ "$got" = "$want" ]; echo $?)" "got '$got', want '$want'"
}
# chas NAME PATTERN WORD...: the candidates match PATTERN (grep -E)
chas() {
	local name=$1 want=$2 got
	shift 2
	got=" $(complete_words "$@") "
	ok "completion: $name" "$(grep -qE -- "$want" <<<"$got"; echo $?)" "got '$got'"
}
ccase "subcommands" "demo export help info learn probes record replay sites" ""
ccase "a subcommand's prefix" "record replay" re
ccase "options of the default command" "--json --json-state" --js
chas "--pid among the default command's options" " --pid " --
ccase "replay's options" "--json --json-state" replay --js
got=$(complete_words probes --)
ok "completion: probes offers only its own options" \
	"$([[ " $got " == *" --json "* && " $got " != *" --pid "* ]]; echo $?)" "got '$got'"
ccase "--attach modes" "auto fentry inline kprobe tracepoint" --attach ""
ccase "--attach=MODE" "tracepoint" -p 1 --attach = tr
ccase "export --format" "chrome jsonl" export x.etr --format ""
ccase "--theme" "dark light mono" --theme ""
ccase "demo --scenario: demo --list's names" \
	"$("$ET" demo --list | awk '{ print $1 }' | sort | tr '\n' ' ' | sed 's/ $//')" \
	demo --scenario ""
ccase "-p by comm" "$SPID" -p etmanualsl
chas "-p by pid prefix" " $SPID " -p "${SPID:0:2}"
chas "record -p" " $SPID " record -p "$SPID"
got=$(complete_words -p "$SPID,")
ok "completion: -p LIST, completes the next pid, not those listed" \
	"$([[ " $got " == *" $SPID,1 "* && " $got " != *" $SPID,$SPID "* ]]; echo $?)" \
	"got '$(cut -c1-120 <<<"$got")'"
got=" $(complete_words -p "") "
ok "completion: -p offers no kernel thread (kthreadd, 2)" \
	"$([[ $got == *" $SPID "* && $got != *" 2 "* ]]; echo $?)" "got '$(cut -c1-200 <<<"$got")'"
if [ -n "$ZOMBIE" ]; then
	ok "completion: -p offers no zombie" "$([[ $got == *" $SPID "* && $got != *" $ZOMBIE "* ]]
		echo $?)" \
		"zombie $ZOMBIE offered"
else
	fail "completion: -p offers no zombie" "could not make a zombie"
fi
for s in replay info export; do
	ccase "$s: recordings and directories" "$OUT/comp/a.etr $OUT/comp/sub" "$s" "$OUT/comp/"
done
ccase "-o: any file" "$OUT/comp/a.etr $OUT/comp/b.txt $OUT/comp/sub" \
	record -o "$OUT/comp/"
ccase "help: subcommands" "demo export help info learn probes record replay sites trace" help ""
ccase "-d: a number, nothing offered" "" -d ""
chas "-- COMMAND: commands" " bash " -p 1 -- bas

# ---- make install into a DESTDIR --------------------------------------------
D=$OUT/root
make -s -C "$ROOT" install DESTDIR="$D" PREFIX=/usr/local >"$OUT/install.log" 2>&1
rc=$?
B=$D/usr/local/bin/epolltrace
M=$D/usr/local/share/man/man8/epolltrace.8
C=$D/usr/local/share/bash-completion/completions/epolltrace
if [ $rc != 0 ]; then
	fail "make install DESTDIR" "exit $rc: $(tail -n 3 "$OUT/install.log")"
else
	# the same build as the one tested (else make rebuilt it: a stale $ET)
	ok "make install: the binary" "$([ -x "$B" ] && [ "$("$B" --version)" = "$v" ]; echo $?)" \
		"$(ls -l "$B" 2>&1); installed '$("$B" --version 2>&1)', tested '$v'"
	ok "make install: the man page, mode 0644" "$([ "$(stat -c %a "$M" 2>&1)" = 644 ]; echo $?)" \
		"$(ls -l "$M" 2>&1)"
	found=$(MANPATH=$D/usr/local/share/man man -w epolltrace 2>&1)
	ok "man finds the installed page through MANPATH" "$([ "$found" = "$M" ]; echo $?)" "$found"
	MANPATH=$D/usr/local/share/man LC_ALL=C MANWIDTH=80 man epolltrace >"$OUT/man-inst.txt" 2>&1
	ok "man epolltrace: SYNOPSIS, and the version in the footer" \
		"$(grep -q '^SYNOPSIS$' "$OUT/man-inst.txt" &&
			tail -n 1 "$OUT/man-inst.txt" | grep -q "epolltrace $want"; echo $?)" \
		"$(tail -n 1 "$OUT/man-inst.txt")"
	got=$(bash --norc --noprofile -c 'source "$1" && complete -p epolltrace' _ "$C" 2>&1)
	ok "make install: the completion, registered for epolltrace" \
		"$([ "$got" = "complete -F _epolltrace epolltrace" ]; echo $?)" "$got"
	make -s -C "$ROOT" uninstall DESTDIR="$D" PREFIX=/usr/local >>"$OUT/install.log" 2>&1
	left=$(find "$D" -type f)
	ok "make uninstall removes all three" "$([ -z "$left" ]; echo $?)" "$left"
fi

# ---- the README: a front page, its links resolve ----------------------------
R=$ROOT/README.md
n=$(wc -l <"$R")
ok "README is short ($n lines)" "$([ "$n" -le 280 ]; echo $?)" "$n lines, at most 280"
bad=""
links=$(grep -oE '\]\((docs/[^)#]*)' "$R" | sed 's/^](//' | sort -u)
for l in $links; do
	[ -e "$ROOT/$l" ] || bad="$bad $l"
done
ok "README's links to docs/ resolve" "$([ -n "$links" ] && [ -z "$bad" ]; echo $?)" \
	"missing:$bad (links: $(echo $links))"
unlinked=""
mds=("$ROOT"/docs/*.md)
[ ${#mds[@]} -ge 5 ] || unlinked=" (only ${#mds[@]} docs/*.md)"
for f in "${mds[@]}"; do
	grep -q "](docs/$(basename "$f"))" "$R" || unlinked="$unlinked $(basename "$f")"
done
ok "README links every docs/*.md" "$([ -z "$unlinked" ]; echo $?)" "not linked:$unlinked"
bad=""
for f in "$ROOT"/docs/*.md; do
	for l in $(grep -oE '\]\([^)#:]+' "$f" | sed 's/^](//' | sort -u); do
		[ -e "$(dirname "$f")/$l" ] || bad="$bad $(basename "$f"):$l"
	done
done
ok "docs/*.md: relative links resolve" "$([ -z "$bad" ]; echo $?)" "missing:$bad"
ok "README names no issue numbers" "$(! grep -nEi '\bissues? #?[0-9]' "$R" >"$OUT/issues.txt"; echo $?)" \
	"$(head -n 3 "$OUT/issues.txt")"
ok "README: the two commands, and .ci/run runs the test one" \
	"$(grep -q '^ *make demo$' "$R" && grep -q '^ *make check$' "$R" &&
		[ "$(grep -v '^#\|^set \|^cd \|^$' "$ROOT/.ci/run")" = "make check" ]; echo $?)" \
	"$(grep -v '^#' "$ROOT/.ci/run")"
exit 0
