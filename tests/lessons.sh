#!/bin/bash
# Lessons 5-8 (herd, nested, close, pool: cli/workloads/lessons_more.c) as
# workloads, before `epolltrace learn` drives them:
#  - each runs alone (hidden `demo --lesson NAME --truth FILE`), exits 0,
#    and its ground truth holds what its narration claims
#    (tests/check_lesson_truth.py): wakeup counts, the epitem left under a
#    closed fd, the kernel's fdinfo at the key steps...;
#  - each runs traced in tracepoint mode (`epolltrace --json -- epolltrace
#    demo --lesson NAME --gate`), held after every step until a snapshot
#    has been taken: the trace agrees with the truth (tests/check_trace.py)
#    and every step's snapshot shows the rbr, rdllist and wq the step
#    claims, and the narration has every {N} filled in.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: lessons.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
LESSONS="herd nested close pool"

pass() { echo "PASS lessons: $1"; }
fail() { echo "FAIL lessons: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }

# ---- alone: exit status and the truth's claims --------------------------------
for l in $LESSONS; do
	T=$OUT/$l.truth.jsonl
	timeout 60 "$ET" demo --lesson "$l" --truth "$T" >"$OUT/$l.out" 2>"$OUT/$l.err"
	rc=$?
	if [ $rc = 0 ] && [ ! -s "$OUT/$l.err" ] && [ ! -s "$OUT/$l.out" ] &&
		! grep -q '"t":"error"' "$T"; then
		pass "$l runs alone (exit 0, nothing on stdout or stderr)"
	else
		fail "$l runs alone" "exit $rc: $(head -c 300 "$OUT/$l.err")"
	fi
	if r=$(python3 "$D/check_lesson_truth.py" "$l" "$T" 2>&1); then
		pass "$l: its truth holds what the lesson says"
	else
		fail "$l: its truth holds what the lesson says" "$r"
	fi
done

# the checker can fail: one claim broken in a copy of each truth that passed
for l in $LESSONS; do
	python3 "$D/check_lesson_truth.py" "$l" "$OUT/$l.truth.jsonl" >/dev/null 2>&1 || continue
	case $l in
	herd) sed 's/"side":"exclusive"\(.*\)"woken":1,/"side":"exclusive"\1"woken":2,/' ;;
	nested) sed 's/"errno":40/"errno":0/' ;;
	close) sed 's/"removes":\[{"epfd":[0-9]*,"fd":[0-9]*}\]/"removes":[]/' ;;
	pool) sed '/"t":"disarmed"/d' ;;
	esac <"$OUT/$l.truth.jsonl" >"$OUT/$l.broken.jsonl"
	if ! python3 "$D/check_lesson_truth.py" "$l" "$OUT/$l.broken.jsonl" >/dev/null 2>&1; then
		pass "$l: a broken claim is caught"
	else
		fail "$l: a broken claim is caught" "the checker passed $OUT/$l.broken.jsonl"
	fi
done

# ---- under ASan and UBSan: the lessons alone and driven, in a loop -------------
ROOT=$(dirname "$D")
INC=$(for d in "$ROOT"/cli "$ROOT"/cli/*/; do printf -- "-I%s " "${d%/}"; done)
if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -I"$ROOT/include" $INC "$D/lesson_asan.c" \
	"$ROOT"/cli/workloads/{lesson,lessons_core,lessons_more,lesson_gate,workload,ovflist,rbtree,diag}.c \
	"$ROOT/cli/common/grow.c" -lpthread -o "$OUT/lesson_asan" 2>"$OUT/lesson_asan.build" &&
	timeout 120 "$OUT/lesson_asan" >"$OUT/lesson_asan.log" 2>&1; then
	pass "alone and driven, in a loop, under ASan and UBSan"
else
	fail "under ASan and UBSan" "$(tail -n 5 "$OUT/lesson_asan.build" "$OUT/lesson_asan.log")"
fi

# ---- bad input ---------------------------------------------------------------
"$ET" demo --lesson nosuch --truth "$OUT/nosuch.jsonl" >"$OUT/bad.out" 2>"$OUT/bad.err"
rc=$?
if [ $rc = 2 ] && [ "$(wc -l <"$OUT/bad.err")" = 1 ] && grep -q "unknown lesson 'nosuch'" \
	"$OUT/bad.err" && [ ! -s "$OUT/bad.out" ] && [ ! -e "$OUT/nosuch.jsonl" ]; then
	pass "an unknown lesson: one line, exit 2, no truth file"
else
	fail "an unknown lesson" "exit $rc: $(cat "$OUT/bad.err")"
fi
"$ET" demo --lesson close --scale 2 >"$OUT/bad2.out" 2>"$OUT/bad2.err"
rc=$?
if [ $rc = 2 ] && grep -q -- "--scale applies to" "$OUT/bad2.err" && [ ! -s "$OUT/bad2.out" ]; then
	pass "demo --lesson refuses an option that does nothing there (--scale)"
else
	fail "demo --lesson refuses --scale" "exit $rc: $(cat "$OUT/bad2.err")"
fi

# ---- traced, held at every step ----------------------------------------------
if [ "$(id -u)" != 0 ]; then
	echo "SKIP lessons: traced runs need root"
	exit 0
fi
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs nodev /sys/kernel/tracing \
	2>/dev/null
: >"$OUT/empty.fdinfo"
for l in $LESSONS; do
	R=$OUT/traced-$l
	if "$D/lesson_run.sh" "$ET" tracepoint "$l" "$R" 2>"$OUT/$l.traced.err"; then
		pass "$l traced in tracepoint mode, held at each of its steps (exit 0)"
	else
		fail "$l traced, held at each step" "$(cat "$OUT/$l.traced.err")"
		continue
	fi
	T=$R/truth.jsonl J=$R/trace.jsonl M=$R/marks
	python3 "$D/check_lesson_truth.py" --as-scenario "$T" "$OUT/$l.scenario.jsonl"
	if r=$(cd "$D" && python3 check_trace.py "$OUT/$l.scenario.jsonl" "$J" "$OUT/empty.fdinfo" \
		tracepoint 2>&1); then
		pass "$l: the tracepoint-mode trace agrees with the truth (check_trace.py)"
	else
		fail "$l: the tracepoint-mode trace agrees with the truth" "$r"
	fi
	if r=$(python3 "$D/check_lesson_truth.py" --steps "$T" "$J" "$M" 2>&1); then
		pass "$l: each step's snapshot shows the rbr, rdllist and wq it claims"
	else
		fail "$l: each step's snapshot shows the rbr, rdllist and wq it claims" "$r"
	fi
	if r=$(python3 "$D/check_lesson_truth.py" "$l" "$T" 2>&1); then
		pass "$l: driven over the step protocol, its truth holds what it says"
	else
		fail "$l: driven over the step protocol, its truth holds what it says" "$r"
	fi
done
exit 0
