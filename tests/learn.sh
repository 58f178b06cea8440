#!/bin/bash
# `epolltrace learn`: the list, a lesson's errors, every linked lesson run
# headless (--json) and checked step by step against its workload's ground
# truth (tests/check_lesson.py), a lesson recorded and replayed (no root),
# a cut-off lesson recording refused.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: learn.sh EPOLLTRACE OUTDIR
# LESSONS="a b" narrows the lessons run (default: every one `learn` lists);
# LEARN_ATTACH=MODE runs them with --attach MODE (the guests: fentry, kprobe).
set -u
ET=$(readlink -f "$1") OUT=$2
HERE=$(dirname "$(readlink -f "$0")")
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
ATTACH=${LEARN_ATTACH:+--attach $LEARN_ATTACH}
MODE=${LEARN_ATTACH:-auto}

pass() { echo "PASS learn: $1"; }
fail() { echo "FAIL learn: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

# ---- the list -----------------------------------------------------------------
LC_ALL=C LANG=C "$ET" learn >"$OUT/list.txt" 2>"$OUT/list.err"
rc=$?
core="structures wakeup lt-et oneshot"
missing=
for n in $core; do
	grep -q "^$n  *[A-Z]" "$OUT/list.txt" || missing="$missing $n"
done
bad=$(grep -vc '^[a-z-]\+  *[^ ].*$' "$OUT/list.txt")
if [ $rc = 0 ] && [ -z "$missing" ] && [ "$bad" = 0 ] && [ ! -s "$OUT/list.err" ]; then
	pass "the list: $(wc -l <"$OUT/list.txt") lessons, one a line, name then title"
else
	fail "the list" "rc=$rc missing:$missing bad=$bad $(head -c 300 "$OUT/list.txt" "$OUT/list.err")"
fi
ALL=$(awk '{print $1}' "$OUT/list.txt")
# in Korean, where this build has the catalogues: the same names, every title translated
if "$ET" learn --lang ko >"$OUT/list-ko.txt" 2>"$OUT/list-ko.err"; then
	if [ "$(awk '{print $1}' "$OUT/list-ko.txt")" = "$ALL" ] &&
		! LC_ALL=C grep -q '^[a-z-]*  *[ -~]*$' "$OUT/list-ko.txt"; then
		pass "the list in Korean (--lang ko): the same names, every title in Hangul"
	else
		fail "the list in Korean" "$(head -c 300 "$OUT/list-ko.txt")"
	fi
fi
LESSONS=${LESSONS:-$ALL}
# the lesson a check prefers, if it is run; else the first one run
pick() { tr ' ' '\n' <<<"$LESSONS" | grep -x "$1" || tr ' ' '\n' <<<"$LESSONS" | grep . | head -1; }

# ---- errors -------------------------------------------------------------------
"$ET" learn no-such-lesson --json >"$OUT/unknown.out" 2>"$OUT/unknown.err"
rc=$?
if [ $rc = 2 ] && [ ! -s "$OUT/unknown.out" ] && [ "$(wc -l <"$OUT/unknown.err")" = 1 ] &&
	grep -q "unknown lesson 'no-such-lesson'" "$OUT/unknown.err"; then
	pass "an unknown lesson: one line, exit 2 ($(cat "$OUT/unknown.err"))"
else
	fail "an unknown lesson" "rc=$rc $(cat "$OUT/unknown.out" "$OUT/unknown.err")"
fi
"$ET" learn wakeup --json --pace 1 >"$OUT/pace.out" 2>"$OUT/pace.err"
rc=$?
if [ $rc = 2 ] && [ ! -s "$OUT/pace.out" ] && [ "$(wc -l <"$OUT/pace.err")" = 1 ] &&
	grep -q -- "--pace applies to the lesson screen" "$OUT/pace.err"; then
	pass "--pace with --json: one line, exit 2"
else
	fail "--pace with --json" "rc=$rc $(cat "$OUT/pace.err")"
fi
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ET" learn wakeup --json \
		>"$OUT/noroot.out" 2>"$OUT/noroot.err"
	rc=$?
	if [ $rc = 1 ] && [ ! -s "$OUT/noroot.out" ] && [ "$(wc -l <"$OUT/noroot.err")" = 1 ] &&
		grep -q "needs root" "$OUT/noroot.err"; then
		pass "without root: one line, exit 1"
	else
		fail "without root" "rc=$rc $(cat "$OUT/noroot.out" "$OUT/noroot.err")"
	fi
fi

# ---- every lesson, headless, against its truth -------------------------------
[ -n "$LESSONS" ] || fail "lessons to run" "learn lists none"
for n in $LESSONS; do
	# shellcheck disable=SC2086
	timeout 60 "$ET" learn "$n" --json $ATTACH --truth "$OUT/$n.truth" \
		>"$OUT/$n.jsonl" 2>"$OUT/$n.err"
	rc=$?
	if [ $rc != 0 ]; then
		fail "$n ($MODE): learn --json" "rc=$rc $(head -c 300 "$OUT/$n.err")"
		continue
	fi
	pass "$n ($MODE): learn --json ran every step ($(grep -c '"type":"lesson"' "$OUT/$n.jsonl") lesson records, $(wc -l <"$OUT/$n.jsonl") lines)"
	python3 "$HERE/check_lesson.py" "$OUT/$n.jsonl" "$OUT/$n.truth" | sed "s/^\(PASS\|FAIL\) /\1 learn: ($MODE) /"
done

# ---- a reader that stops reading ends the lesson, cleanly ------------------------
n=$(pick structures)
# shellcheck disable=SC2086
timeout 60 "$ET" learn "$n" --json $ATTACH 2>"$OUT/head.err" | head -3 >"$OUT/head.out"
rc=${PIPESTATUS[0]}
sleep 0.5
left=$(ps -eo comm= | grep -c "^lesson:$n")
if [ "$rc" = 0 ] && [ "$(wc -l <"$OUT/head.out")" = 3 ] && [ ! -s "$OUT/head.err" ] &&
	[ "$left" = 0 ]; then
	pass "$n: learn --json | head -3: exit 0, nothing on stderr, no workload left"
else
	fail "$n: learn --json | head -3" "rc=$rc left=$left $(head -c 200 "$OUT/head.err")"
fi

# ---- a step that fails: its reason, the step, exit 1, no workload left ----------
# (wakeup's step 3 needs SCHED_FIFO: without CAP_SYS_NICE it cannot be exact)
if command -v capsh >/dev/null && tr ' ' '\n' <<<"$LESSONS" | grep -qx wakeup; then
	# shellcheck disable=SC2016
	capsh --drop=cap_sys_nice -- -c '"$0" learn wakeup --json $1 >"$2/fail.out" 2>"$2/fail.err"' \
		"$ET" "$ATTACH" "$OUT"
	rc=$?
	left=$(ps -eo comm= | grep -c "^lesson:wakeup")
	if [ $rc = 1 ] && [ "$left" = 0 ] && grep -q "SCHED_FIFO for the two sends" "$OUT/fail.err" &&
		grep -q "lesson wakeup: step 3 failed" "$OUT/fail.err" &&
		! grep -q '"phase":"end"' "$OUT/fail.out"; then
		pass "wakeup without CAP_SYS_NICE: step 3 fails with its reason, exit 1, no END, no workload left"
	else
		fail "wakeup without CAP_SYS_NICE" "rc=$rc left=$left $(cat "$OUT/fail.err")"
	fi
fi

# ---- the checker can fail: a step's snapshot taken away, a step's records moved --
n=$(pick wakeup)
if [ -s "$OUT/$n.jsonl" ]; then
	python3 - "$OUT/$n.jsonl" "$OUT/doctored.jsonl" <<'PY'
import json, sys
out, step = [], None
for l in open(sys.argv[1]).read().splitlines():
    r = json.loads(l)
    if r.get("type") == "lesson":
        step = r["step"] if r["phase"] == "before" else None
    # step 2's snapshot round and pictures vanish
    if step == 2 and r.get("type") in ("snapshot", "snap_round"):
        continue
    out.append(l)
open(sys.argv[2], "w").write("\n".join(out) + "\n")
PY
	if ! python3 "$HERE/check_lesson.py" "$OUT/doctored.jsonl" "$OUT/$n.truth" \
		>"$OUT/doctored.txt" 2>&1 && grep -q "no snapshot round before its AFTER" "$OUT/doctored.txt"; then
		pass "check_lesson.py fails a stream whose step 2 has no snapshot"
	else
		fail "check_lesson.py on a doctored stream" "$(grep FAIL "$OUT/doctored.txt" | head -3)"
	fi
fi

# ---- recorded, then replayed without root --------------------------------------
n=$(pick lt-et)
# shellcheck disable=SC2086
timeout 60 "$ET" learn "$n" --json $ATTACH --record "$OUT/rec.etr" --truth "$OUT/rec.truth" \
	>"$OUT/rec-live.jsonl" 2>"$OUT/rec.err"
rc=$?
chmod 755 "$OUT"
chmod 644 "$OUT/rec.etr" 2>/dev/null
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups "$ET" replay --json "$OUT/rec.etr" \
		>"$OUT/rec-replay.jsonl" 2>"$OUT/replay.err"
else
	"$ET" replay --json "$OUT/rec.etr" >"$OUT/rec-replay.jsonl" 2>"$OUT/replay.err"
fi
rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] && grep -q '^lesson  *'"$n" <("$ET" info "$OUT/rec.etr") &&
	diff "$OUT/rec-live.jsonl" "$OUT/rec-replay.jsonl" >"$OUT/rec.diff" &&
	[ "$(grep -c '"type":"lesson"' "$OUT/rec-replay.jsonl")" -gt 2 ]; then
	pass "$n: learn --record, then replay --json without root: the same stream, line for line ($(wc -l <"$OUT/rec-replay.jsonl") lines); info names the lesson"
else
	fail "$n: learn --record then replay --json" "rc=$rc rc2=$rc2 $(head -c 200 "$OUT/rec.err" "$OUT/replay.err" "$OUT/rec.diff" 2>/dev/null)"
fi
if [ $rc2 = 0 ]; then
	python3 "$HERE/check_lesson.py" "$OUT/rec-replay.jsonl" "$OUT/rec.truth" >"$OUT/rec-check.txt"
	if [ $? = 0 ]; then
		pass "$n: the replayed lesson passes check_lesson.py ($(grep -c ^PASS "$OUT/rec-check.txt") checks)"
	else
		fail "$n: the replayed lesson against its truth" "$(grep FAIL "$OUT/rec-check.txt" | head -2)"
	fi
fi

# ---- a cut-off lesson recording --------------------------------------------------
if [ -s "$OUT/rec.etr" ]; then
	size=$(stat -c %s "$OUT/rec.etr")
	head -c $((size * 2 / 3)) "$OUT/rec.etr" >"$OUT/cut.etr"
	"$ET" replay --json "$OUT/cut.etr" >"$OUT/cut.jsonl" 2>"$OUT/cut.err"
	rc=$?
	if [ $rc != 0 ] && grep -q "is cut off after step [0-9]* of [0-9]* (the recording is truncated)" \
		"$OUT/cut.err" && ! grep -q '"phase":"end"' "$OUT/cut.jsonl"; then
		pass "a cut-off lesson recording: exit $rc, $(grep -c . "$OUT/cut.err") line(s): $(grep "cut off after" "$OUT/cut.err")"
	else
		fail "a cut-off lesson recording" "rc=$rc $(cat "$OUT/cut.err")"
	fi
fi

# ---- --record alone, off a terminal: the file only, every stop ----------------------
n=$(pick oneshot)
# shellcheck disable=SC2086
timeout 60 "$ET" learn "$n" $ATTACH --record "$OUT/alone.etr" --truth "$OUT/alone.truth" \
	</dev/null >"$OUT/alone.out" 2>"$OUT/alone.err"
rc=$?
"$ET" replay --json "$OUT/alone.etr" >"$OUT/alone.jsonl" 2>>"$OUT/alone.err"
rc2=$?
if [ $rc = 0 ] && [ $rc2 = 0 ] && [ ! -s "$OUT/alone.out" ] &&
	python3 "$HERE/check_lesson.py" "$OUT/alone.jsonl" "$OUT/alone.truth" >"$OUT/alone-check.txt"; then
	pass "$n: learn --record alone off a terminal: every stop in the file, nothing on stdout"
else
	fail "$n: learn --record alone" "rc=$rc rc2=$rc2 $(head -c 200 "$OUT/alone.err" "$OUT/alone.out"; grep -s FAIL "$OUT/alone-check.txt" | head -2)"
fi
exit 0
