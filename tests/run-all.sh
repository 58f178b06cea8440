#!/bin/bash
# Every test epolltrace has, on real kernels: this machine's own, and stock
# Debian kernels booted under qemu-system-x86_64.  Run by `make check`.
# Ends with one line: "N passed, N failed[, N skipped (reason)]".
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
ET=$ROOT/epolltrace
OUT=${OUT:-$ROOT/build/test}
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
SCENARIOS=${SCENARIOS:-"mixed threads lt-et oneshot exclusive close-watched nested thread-exit ovflist sleepers sharer"}
VM_KERNELS=${VM_KERNELS-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
VM_MODES=${VM_MODES:-"auto kprobe tracepoint inline"}
# the lessons in the guests (every one `learn` lists, unless narrowed), and how:
# a lesson costs about 5 s a mode under TCG (the attach, mostly), so each guest
# runs them in one of VM_LESSON_MODES, the modes taking turns over the guests
# (6.1: fentry, 6.12: kprobe); VM_LESSON_EVERY_MODE=1: every mode in every guest
VM_LESSON_MODES=${VM_LESSON_MODES-"fentry kprobe"}
VM_LESSON_EVERY_MODE=${VM_LESSON_EVERY_MODE:-0}
CLI_INC=$(for d in cli cli/*/; do printf -- "-I%s " "${d%/}"; done)
# a run killed by an older version of this script could leave a tmpfs
# mounted under $OUT: unmount it, or rm -rf fails and old files stay
grep -F " $OUT/" /proc/self/mountinfo | awk '{print $5}' | sort -r | xargs -r umount -l 2>/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"

PASS=0 FAIL=0 SKIP=0 SKIPWHY=""
pass() { PASS=$((PASS + 1)); echo "PASS $1"; }
fail() { FAIL=$((FAIL + 1)); echo "FAIL $1"; [ -n "${2:-}" ] && sed 's/^/    /' <<<"$2"; }
skip() { SKIP=$((SKIP + 1)); SKIPWHY="$2"; echo "SKIP $1: $2"; }
step() { echo "== $*"; }

# A suite: tests/NAME.sh ET DIR prints "PASS name" and "FAIL name :: detail"
# lines; each becomes one result here.
run_suite() {	# name
	local t=$OUT/$1.txt
	if [ ! -x "tests/$1.sh" ]; then
		fail "suite $1" "tests/$1.sh is missing"
		return
	fi
	tests/$1.sh "$ET" "$OUT/$1" >"$t" 2>"$OUT/$1.err"
	while IFS= read -r line; do
		case $line in
		PASS\ *) pass "${line#PASS }" ;;
		FAIL\ *) name=${line#FAIL }; fail "${name%% :: *}" "${name#* :: }" ;;
		esac
	done <"$t"
	grep -q . "$t" || fail "$1.sh printed nothing" "$(tail -n 5 "$OUT/$1.err")"
}

# ---- unit tests, under ASan and UBSan -----------------------------------
step "unit tests (ASan+UBSan)"
if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/unit_test.c cli/common/json.c cli/kernel/kallsyms.c \
	cli/kernel/decode.c cli/common/grow.c -o "$OUT/unit_test" 2>"$OUT/unit.build" &&
	"$OUT/unit_test" >"$OUT/unit.log" 2>&1; then
	pass "unit: $(tail -n 1 "$OUT/unit.log")"
else
	fail "unit tests" "$(cat "$OUT/unit.build" "$OUT/unit.log" 2>/dev/null | tail -n 20)"
fi

if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/model_test.c cli/model/model.c cli/model/anatomy.c cli/model/detect.c \
	cli/model/chains.c cli/common/grow.c \
	-o "$OUT/model_test" 2>"$OUT/model.build" &&
	"$OUT/model_test" >"$OUT/model.log" 2>&1; then
	pass "model semantics: $(tail -n 1 "$OUT/model.log")"
else
	fail "model semantics" "$(cat "$OUT/model.build" "$OUT/model.log" 2>/dev/null | tail -n 20)"
fi

if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/anatomy_test.c cli/model/anatomy.c cli/model/detect.c cli/model/model.c \
	cli/model/chains.c \
	cli/common/grow.c -o "$OUT/anatomy_test" 2>"$OUT/anatomy.build" &&
	"$OUT/anatomy_test" >"$OUT/anatomy.log" 2>&1; then
	pass "latency anatomy: $(tail -n 1 "$OUT/anatomy.log")"
else
	fail "latency anatomy" "$(cat "$OUT/anatomy.build" "$OUT/anatomy.log" 2>/dev/null | tail -n 20)"
fi

# the detectors: each provoked and just missed, on synthetic streams
if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/detect_test.c cli/model/detect.c \
	cli/model/anatomy.c cli/model/model.c cli/model/chains.c cli/common/grow.c -o "$OUT/detect_unit" \
	2>"$OUT/detect_unit.build" && "$OUT/detect_unit" >"$OUT/detect_unit.log" 2>&1; then
	pass "detectors: $(tail -n 1 "$OUT/detect_unit.log")"
else
	fail "detectors" "$(cat "$OUT/detect_unit.build" "$OUT/detect_unit.log" 2>/dev/null | tail -n 20)"
fi

# the metrics endpoint's figures (folding, findings, escaping); binds 127.0.0.1:19466
if gcc -std=gnu11 -D_GNU_SOURCE -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/metrics_test.c cli/model/model.c \
	cli/model/anatomy.c cli/model/detect.c cli/model/chains.c cli/common/grow.c cli/views/describe.c \
	cli/kernel/fdkind.c cli/common/log.c -lbpf -o "$OUT/metrics_test" 2>"$OUT/metrics_unit.build" &&
	"$OUT/metrics_test" >"$OUT/metrics_unit.log" 2>&1; then
	pass "metrics figures: $(tail -n 1 "$OUT/metrics_unit.log")"
else
	fail "metrics figures" \
		"$(cat "$OUT/metrics_unit.build" "$OUT/metrics_unit.log" 2>/dev/null | tail -n 20)"
fi

if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude $CLI_INC tests/tui_test.c cli/views/tui_view.c \
	cli/views/tui_tree.c cli/views/tui_anatomy.c cli/views/tui_findings.c cli/model/anatomy.c cli/model/detect.c \
	cli/views/tui_chains.c cli/model/chains.c \
	cli/views/tui_buf.c cli/views/describe.c cli/model/model.c cli/common/grow.c \
	cli/kernel/decode.c -o "$OUT/tui_test" 2>"$OUT/tui.build" &&
	"$OUT/tui_test" >"$OUT/tui.log" 2>&1; then
	pass "TUI formatting: $(tail -n 1 "$OUT/tui.log")"
else
	fail "TUI formatting" "$(cat "$OUT/tui.build" "$OUT/tui.log" 2>/dev/null | tail -n 20)"
fi

# rbr's shape: assembly, model, drawing (tui_tree.c)
if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude $CLI_INC tests/tree_test.c \
	cli/views/tui_tree.c cli/views/tui_view.c cli/views/tui_buf.c cli/views/describe.c \
	cli/views/tui_anatomy.c cli/views/tui_findings.c cli/model/model.c cli/model/anatomy.c cli/model/detect.c cli/common/grow.c \
	cli/views/tui_chains.c cli/model/chains.c \
	cli/kernel/decode.c -o "$OUT/tree_test" \
	2>"$OUT/tree.build" && "$OUT/tree_test" >"$OUT/tree.log" 2>&1; then
	pass "rb-tree shape: $(tail -n 1 "$OUT/tree.log")"
else
	fail "rb-tree shape" "$(cat "$OUT/tree.build" "$OUT/tree.log" 2>/dev/null | tail -n 20)"
fi
# the lesson layout (lesson.c's other functions are unreferenced: --gc-sections drops them)
if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -ffunction-sections -Wl,--gc-sections -Iinclude $CLI_INC \
	tests/lesson_tui_test.c cli/views/tui_lesson_view.c cli/views/tui_view.c cli/views/tui_buf.c \
	cli/views/describe.c cli/views/tui_tree.c cli/views/tui_anatomy.c cli/views/tui_findings.c cli/model/model.c \
	cli/model/anatomy.c cli/model/detect.c cli/common/grow.c cli/workloads/lesson.c cli/kernel/decode.c \
	cli/views/tui_chains.c cli/model/chains.c \
	-o "$OUT/lesson_tui_test" 2>"$OUT/lesson_tui.build" &&
	"$OUT/lesson_tui_test" >"$OUT/lesson_tui.log" 2>&1; then
	pass "TUI lesson layout: $(tail -n 1 "$OUT/lesson_tui.log")"
else
	fail "TUI lesson layout" "$(cat "$OUT/lesson_tui.build" "$OUT/lesson_tui.log" 2>/dev/null | tail -n 20)"
fi

if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Iinclude $CLI_INC tests/rec_test.c cli/recordings/recording.c cli/recordings/rec_read.c \
	cli/kernel/decode.c cli/common/grow.c cli/kernel/fdkind.c cli/common/log.c cli/common/outfile.c -lz -lbpf -o "$OUT/rec_test" 2>"$OUT/rec.build" &&
	"$OUT/rec_test" >"$OUT/rec.log" 2>&1; then
	pass "recordings, writer to reader: $(tail -n 1 "$OUT/rec.log")"
else
	fail "recordings, writer to reader" "$(cat "$OUT/rec.build" "$OUT/rec.log" 2>/dev/null | tail -n 20)"
fi

if gcc -std=gnu11 -g -O1 -Wall -Wextra -Werror -fsanitize=address,undefined \
	-fno-sanitize-recover=all -D_GNU_SOURCE -Iinclude $CLI_INC tests/sites_test.c cli/kernel/dwloc.c \
	cli/kernel/debuginfo.c cli/kernel/sites.c cli/common/json.c cli/common/grow.c \
	-ldw -lelf -o "$OUT/sites_test" 2>"$OUT/sites_test.build" &&
	"$OUT/sites_test" >"$OUT/sites_test.log" 2>&1; then
	pass "DWARF locations and build-ids: $(tail -n 1 "$OUT/sites_test.log")"
else
	fail "DWARF locations and build-ids" "$(cat "$OUT/sites_test.build" "$OUT/sites_test.log" 2>/dev/null | tail -n 20)"
fi

# the handlers only fentry/kprobe programs use, through this verifier.  The
# programs are pinned in a bpffs of a private mount namespace: it is not
# left mounted on the host, and the pins go with the namespace even if
# this run is killed
mkdir -p "$OUT/bpffs"
if clang -g -O2 -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -Iinclude -Ibpf \
	-c tests/verify_handlers.bpf.c -o "$OUT/verify.o" 2>"$OUT/verify.log" &&
	unshare -m --propagation private sh -c 'mount -t bpf bpf "$1" &&
		bpftool prog loadall "$2" "$1/verify"' sh "$OUT/bpffs" "$OUT/verify.o" \
		>>"$OUT/verify.log" 2>&1; then
	pass "verifier accepts the fentry/kprobe-only handlers"
else
	fail "verifier: fentry/kprobe-only handlers" "$(grep -v '^;' "$OUT/verify.log" | tail -n 8)"
fi

# ---- command line and errors ---------------------------------------------
step "command line"
expect_err() {	# name, expected exit (or 'nonzero'), stderr pattern, args...
	local name=$1 want=$2 pat=$3
	shift 3
	"$ET" "$@" >"$OUT/cli.out" 2>"$OUT/cli.err"
	local rc=$?
	if { [ "$want" = nonzero ] && [ $rc -ne 0 ]; } || [ "$rc" = "$want" ]; then
		if grep -q -- "$pat" "$OUT/cli.err" && [ ! -s "$OUT/cli.out" ]; then
			pass "$name"
			return
		fi
	fi
	fail "$name" "exit $rc; stderr: $(head -c 300 "$OUT/cli.err"); stdout: $(head -c 200 "$OUT/cli.out")"
}
expect_err "bad pid" 1 "no such process: 999999999" -p 999999999 --json
expect_err "bad attach mode" 2 "invalid --attach" --attach=magic
expect_err "bad duration" 2 "invalid duration" -d abc
expect_err "unknown scenario" 2 "unknown scenario" demo --scenario nope
expect_err "stray argument" 2 "unexpected argument" somefile
expect_err "--tui without a terminal" 2 "the TUI needs a terminal" --tui -p 1
expect_err "unknown theme" 2 "invalid --theme" --theme pink
# missing privileges (one line with the fix), on a fresh machine and not:
# tests/files.sh, in private mount namespaces with tracefs unmounted and
# mounted, so that the result does not depend on what ran before

# ---- probes on this machine ------------------------------------------------
step "probes on $(uname -r)"
if "$ET" probes >"$OUT/probes.txt" 2>"$OUT/probes.err"; then
	if grep -q "^ctl  *tracepoint" "$OUT/probes.txt" &&
		grep -q "result: a full mode works" "$OUT/probes.txt"; then
		pass "probes: a full mode works"
	else
		fail "probes: plan" "$(cat "$OUT/probes.txt")"
	fi
	# KERNEL_FACTS: fentry is refused (EPERM) and kprobes are absent here;
	# the report must say so rather than fail silently
	if grep -q "fentry .*Operation not permitted" "$OUT/probes.txt" &&
		grep -q "CONFIG_KPROBES" "$OUT/probes.txt"; then
		pass "probes: explains the fallback to tracepoints"
	else
		fail "probes: fallback explained" "$(cat "$OUT/probes.txt")"
	fi
else
	fail "probes exit status" "$(cat "$OUT/probes.txt" "$OUT/probes.err")"
fi
if "$ET" probes --json >"$OUT/probes.json" 2>/dev/null &&
	python3 -c '
import json,sys
p=json.load(open(sys.argv[1]))
assert p["ok"] is True, p
h={x["hook"]:x for x in p["hooks"]}
assert h["ctl"]["using"]=="tracepoint", h["ctl"]
assert h["snapshot"]["using"]=="iter", h["snapshot"]
assert any("rejected" in t for t in h["callback"]["tried"]), h["callback"]
# nothing attached: null, and the point says how the views cope (as the session record)
assert h["callback"]["using"] is None and "snapshots" in h["callback"]["point"], h["callback"]
assert {v["view"] for v in p["views"]} >= {"ready list (rdllist)","interest set (rb-tree)"}
' "$OUT/probes.json"; then
	pass "probes --json"
else
	fail "probes --json" "$(head -c 600 "$OUT/probes.json")"
fi
if "$ET" probes --attach=fentry >"$OUT/probes-fentry.txt" 2>&1; then
	fail "probes --attach=fentry must fail here (fentry is closed)"
else
	grep -q "no full mode works" "$OUT/probes-fentry.txt" &&
		pass "probes --attach=fentry fails with the fix" ||
		fail "probes --attach=fentry message" "$(cat "$OUT/probes-fentry.txt")"
fi

# ---- scenarios on this machine's kernel (tracepoint mode) ----------------
run_check() {	# label dir mode: the event stream, then the model's final state
	if python3 tests/check_trace.py "$2/truth.jsonl" "$2/trace.jsonl" "$2/fdinfo.txt" "$3" \
		>"$2/check.txt" 2>&1; then
		pass "$1: stream"
	else
		fail "$1: stream" "$(head -n 12 "$2/check.txt")"
	fi
	if python3 tests/check_state.py "$2/state.jsonl" "$2/fdinfo.txt" "$2/truth.jsonl" \
		>"$2/check-state.txt" 2>&1; then
		pass "$1: model"
	else
		fail "$1: model" "$(head -n 12 "$2/check-state.txt")"
	fi
	# rbr's shape in the final state and the last snapshots: valid
	# red-black trees in fdinfo's order
	if python3 tests/check_tree.py "$2/state.jsonl" "$2/fdinfo.txt" "$2/truth.jsonl" \
		--trace "$2/trace.jsonl" >"$2/check-tree.txt" 2>&1; then
		pass "$1: tree shape ($(cat "$2/check-tree.txt"))"
	else
		fail "$1: tree shape" "$(head -n 12 "$2/check-tree.txt")"
	fi
	# faithful replay: the recording the --json-state session wrote (-w),
	# replayed headless with the same -i, gives the same states
	if "$ET" replay "$2/state.etr" --json-state -i 0.3 >"$2/replay.jsonl" 2>"$2/replay.err" &&
		[ ! -s "$2/replay.err" ] &&
		python3 tests/check_replay.py "$2/state.jsonl" "$2/replay.jsonl" \
			>"$2/check-replay.txt" 2>&1; then
		pass "$1: replay ($(cat "$2/check-replay.txt"))"
	else
		fail "$1: replay" "$(cat "$2/replay.err" "$2/check-replay.txt" 2>/dev/null | head -n 12)"
	fi
	# inline mode: the recording carries the inline records as live showed
	# them (both sessions saw every operation after the gate), and the
	# chrome export shows them as instants
	if [ "$3" = inline ] && [ "$(basename "$2")" = mixed ]; then
		if "$ET" export "$2/state.etr" --format jsonl -o "$2/state-export.jsonl" \
			2>"$2/inline-export.err" &&
			"$ET" export "$2/state.etr" --format chrome -o "$2/state-chrome.json" \
				2>>"$2/inline-export.err" &&
			python3 - "$2/trace.jsonl" "$2/state-export.jsonl" "$2/state-chrome.json" \
				>"$2/check-inline-rec.txt" 2>&1 <<'PY'
import collections, json, sys
def count(path):
    c = collections.Counter()
    for l in open(path):
        e = json.loads(l)
        if e["type"] in ("ep_insert", "ep_poll", "ep_send_events"):
            assert e["src"] == "inline", e
            c[e["type"]] += 1
    return c
live, rec = count(sys.argv[1]), count(sys.argv[2])
assert live == rec and live["ep_insert"] > 0, (live, rec)
ev = json.load(open(sys.argv[3]))["traceEvents"]
n = sum(1 for e in ev if e["ph"] == "i" and e["name"] == "ep_insert")
assert n == live["ep_insert"], (n, live)
print(f"{live['ep_insert']} ep_insert, {live['ep_poll']} ep_poll, "
      f"{live['ep_send_events']} ep_send_events")
PY
		then
			pass "$1: the recording carries the inline records ($(cat "$2/check-inline-rec.txt"))"
		else
			fail "$1: inline records in the recording" \
				"$(cat "$2/inline-export.err" "$2/check-inline-rec.txt" 2>/dev/null | tail -n 5)"
		fi
	fi
	# inline mode, every scenario: the model's transfers (ep_send_events to
	# ep_done_scan), the callbacks they diverted to ovflist, and ep_insert
	# paired with ctl ADD, against the records its own session recorded;
	# the replay says the same
	if [ "$3" = inline ]; then
		if "$ET" export "$2/state.etr" --format jsonl -o "$2/state-records.jsonl" \
			2>"$2/inline-model.err" &&
			python3 tests/check_inline.py "$2/state.jsonl" "$2/state-records.jsonl" \
				"$2/replay.jsonl" >"$2/check-inline.txt" 2>&1; then
			pass "$1: model of the inline records ($(cat "$2/check-inline.txt"))"
		else
			fail "$1: model of the inline records" \
				"$(cat "$2/inline-model.err" "$2/check-inline.txt" 2>/dev/null | head -n 12)"
		fi
	fi
	# where ep_poll_callback is attachable (fentry in the guests), the
	# recording made in the guest exports it as instant events, here
	if [ "$3" = auto-vm ] && [ "$(basename "$2")" = mixed ]; then
		if "$ET" export "$2/state.etr" --format chrome -o "$2/chrome.json" 2>"$2/chrome.err" &&
			python3 - "$2/chrome.json" >"$2/check-chrome.txt" 2>&1 <<'PY'
import json, sys
ev = json.load(open(sys.argv[1]))["traceEvents"]
cb = [e for e in ev if e["ph"] == "i" and e["name"] == "ep_poll_callback"]
assert cb, "no ep_poll_callback instant"
assert all({"epfd", "fd", "comm"} <= set(e["args"]) for e in cb), cb[0]
print(f"{len(cb)} ep_poll_callback instants")
PY
		then
			pass "$1: chrome export ($(cat "$2/check-chrome.txt"))"
		else
			fail "$1: chrome export" "$(cat "$2/chrome.err" "$2/check-chrome.txt" 2>/dev/null | tail -n 5)"
		fi
	fi
}

step "scenarios on $(uname -r), tracepoint mode"
for sc in $SCENARIOS; do
	d=$OUT/host/$sc
	if tests/scenario.sh "$ET" tracepoint "$sc" "$d" 2>"$OUT/host-$sc.err"; then
		run_check "host $(uname -r) tracepoint $sc" "$d" tracepoint
	else
		fail "host tracepoint $sc (run)" "$(cat "$OUT/host-$sc.err")"
	fi
done

# ---- several targets, and children followed with -f --------------------------
step "-p twice, and -f"
"$ET" demo --scenario lt-et --gate --truth "$OUT/m1.truth" 2>/dev/null &
m1=$!
"$ET" demo --scenario oneshot --gate --truth "$OUT/m2.truth" 2>/dev/null &
m2=$!
for _ in $(seq 100); do
	grep -q ready "$OUT/m1.truth" 2>/dev/null && grep -q ready "$OUT/m2.truth" 2>/dev/null && break
	sleep 0.1
done
"$ET" -p $m1 -p $m2 --json >"$OUT/multi.jsonl" 2>"$OUT/multi.err" &
tp=$!
for _ in $(seq 300); do grep -q '"snapshot"' "$OUT/multi.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -USR1 $m1 $m2
for _ in $(seq 300); do
	grep -q done "$OUT/m1.truth" && grep -q done "$OUT/m2.truth" && break
	sleep 0.1
done
kill -USR1 $m1 $m2
wait $m1 $m2
wait $tp	# every target exited: the session ends by itself
if python3 - "$OUT/multi.jsonl" $m1 $m2 <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
for pid in map(int, sys.argv[2:]):
    assert any(e["type"] == "ctl" and e["owner"] == pid for e in ev), f"no ctl of {pid}"
    assert any(e["type"] == "task_exit" and e["pid"] == pid and e["group_dead"] for e in ev), pid
PY
then pass "-p twice: both traced, session ends when both exit"; else
	fail "-p twice" "$(tail -n 3 "$OUT/multi.err")"; fi

"$ET" --json -f -- sh -c "'$ET' demo --scenario lt-et; true" >"$OUT/follow.jsonl" 2>"$OUT/follow.err"
"$ET" --json -- sh -c "'$ET' demo --scenario lt-et; true" >"$OUT/nofollow.jsonl" 2>>"$OUT/follow.err"
if python3 - "$OUT/follow.jsonl" "$OUT/nofollow.jsonl" <<'PY'
import json, sys
f = [json.loads(l) for l in open(sys.argv[1])]
n = [json.loads(l) for l in open(sys.argv[2])]
forks = [e["child"] for e in f if e["type"] == "fork"]
assert forks, "no fork event with -f"
assert any(e["type"] == "ctl" and e["owner"] in forks for e in f), "child's ctl not traced"
assert not any(e["type"] == "ctl" for e in n), "child traced without -f"
PY
then pass "-f follows forked children, and only with -f"; else
	fail "-f" "$(tail -n 3 "$OUT/follow.err")"; fi

# ---- losses: a stalled reader loses records; counters stay exact ------------
step "ring-buffer overflow"
"$ET" demo --scenario mixed --scale 8 --truth "$OUT/loss.truth" >/dev/null 2>&1
per_run=$(grep -c '"t":"ctl"' "$OUT/loss.truth")
runs=40
"$ET" --json -f --ring-size 1 -- sh -c \
	"for i in \$(seq $runs); do '$ET' demo --scenario mixed --scale 8 || exit 1; done" \
	>"$OUT/loss.jsonl" 2>"$OUT/loss.err" &
tp=$!
for _ in $(seq 300); do grep -q '"ep_create"' "$OUT/loss.jsonl" 2>/dev/null && break; sleep 0.1; done
# stop the reader; the workload goes on until it is done (a zombie child)
kill -STOP $tp
sh_pid=$(pgrep -P $tp | head -n 1)
for _ in $(seq 1200); do
	[ "$(awk '{print $3}' /proc/$sh_pid/stat 2>/dev/null)" = Z ] && break
	sleep 0.1
done
kill -CONT $tp
wait $tp
if python3 - "$OUT/loss.jsonl" $((per_run * runs)) <<'PY'
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1])]
lost = sum(e["count"] for e in ev if e["type"] == "lost")
st = [e for e in ev if e["type"] == "stats"][-1]["counters"]
ctl = sum(1 for e in ev if e["type"] == "ctl")
assert lost > 0, "no loss reported"
assert st["ring_drops"] == lost, (st["ring_drops"], lost)
assert st["ctl"] == int(sys.argv[2]), ("counter", st["ctl"], "want", sys.argv[2])
assert ctl < st["ctl"], "no ctl record was lost?"
print(f"lost={lost} ctl counted={st['ctl']} ctl records={ctl}")
PY
then pass "losses reported, counters exact under overflow"; else
	fail "ring-buffer overflow" "$(tail -n 3 "$OUT/loss.err")"; fi

# ---- a real server from Debian's packages under load -----------------------
step "redis-server under redis-benchmark, tracepoint mode"
if tests/server.sh "$ET" tracepoint "$OUT/redis" 2>"$OUT/redis.err" &&
	python3 tests/check_server.py "$OUT/redis/trace.jsonl" "$OUT/redis/fdinfo.txt" \
		"$OUT/redis/accepted.txt" "$OUT/redis/summary.txt" >"$OUT/redis/check.txt" 2>&1; then
	pass "redis-server: connections, waits, final snapshot, --summary ($(head -n 1 "$OUT/redis/check.txt" | sed 's/^ *//'))"
else
	fail "redis-server" "$(cat "$OUT/redis.err" "$OUT/redis/check.txt" 2>/dev/null | head -n 12)"
fi

# ---- the classroom workload, traced live, and its ways of stopping -----------
step "the classroom workload (epolltrace demo)"
tests/classroom.sh "$OUT/classroom" >"$OUT/classroom.txt" 2>&1
while IFS= read -r line; do
	case $line in
	"PASS classroom: all checks" | "FAIL classroom: "*) ;;
	PASS\ *) pass "classroom: ${line#PASS }" ;;
	FAIL\ *) fail "classroom: ${line#FAIL }" ;;
	esac
done <"$OUT/classroom.txt"
grep -q "^PASS classroom: all checks" "$OUT/classroom.txt" ||
	fail "classroom: the run" "$(grep -A3 '^FAIL' "$OUT/classroom.txt" | head -n 12)"

# ---- the TUI in tmux: live workloads, keys, resize, monochrome ---------------
step "the TUI under tmux"
run_suite tui
step "words a class can read: catalogues, --lang, the TUI in Korean"
run_suite i18n

run_suite lessontui

# ---- the command line, files, process lifetime, outputs, the manual ----------
step "files: overwrites, symlinks, modes, cuts"
run_suite files
step "process lifetime and signals"
run_suite lifetime
step "outputs: the session record, nulls, text, options"
run_suite outputs
step "the model against the kernel under churn"
run_suite model_live
step "sites: the inlined sites from the 6.12 guest kernel's debug info"
run_suite sites
step "the inline rung on this host: why it cannot be used"
run_suite inline
step "snapshots through the iterator's output: large instances, no snapshot ring"
run_suite footprint
step "bystanders and sharers: who pays, who is traced"
run_suite bystander
step "rbr as a tree: colours and children against the kernel's"
run_suite tree
step "lessons 5-8 as workloads: alone, and traced with a snapshot at every step"
run_suite lessons
step "the manual: help, man page, completion"
run_suite manual
step "speed: the fast reader and writers give the same answers"
run_suite speed
step "lessons: learn, each lesson against its ground truth, recorded and replayed"
run_suite learn
step "latency anatomy: histograms against a workload's own counts, live and replayed"
run_suite anatomy
step "detectors: findings of the demo scenarios, live and replayed"
run_suite detect
step "where waiters wait: symbolized call chains (fp, DWARF), redis, nginx, node, replayed"
run_suite chains
step "metrics: a real Prometheus scraping --metrics, live and replayed"
run_suite metrics
step "detectors: workloads that provoke each one, and similar ones that must not"
run_suite diagnose
step "diagnosis on real servers under load: redis, nginx, node; every view and replay"
run_suite diagserver
# ---- recordings -------------------------------------------------------------
step "recordings: redis-server's, replayed, cut at random offsets, exported"
if [ -s "$OUT/redis/trace.etr" ] &&
	python3 tests/check_recording.py "$ET" "$OUT/redis" >"$OUT/redis/check-rec.txt" 2>&1; then
	pass "redis recording: $(head -n 1 "$OUT/redis/check-rec.txt")"
else
	fail "redis recording" "$(head -n 14 "$OUT/redis/check-rec.txt" 2>/dev/null)"
fi

step "recordings: bad files, safety, write errors"
RD=$OUT/rec
mkdir -p "$RD"
good=$OUT/host/mixed/state.etr
[ -s "$good" ] || good=$(ls "$OUT"/host/*/state.etr 2>/dev/null | head -n 1)
expect_bad() {	# name, stderr pattern, file: replay must fail with one line, nothing on stdout
	"$ET" replay "$3" --json >"$RD/bad.out" 2>"$RD/bad.err"
	local rc=$?
	if [ $rc -ne 0 ] && [ "$(wc -l <"$RD/bad.err")" = 1 ] && grep -q -- "$2" "$RD/bad.err"; then
		pass "$1: $(cat "$RD/bad.err")"
	else
		fail "$1" "exit $rc; stderr: $(head -c 400 "$RD/bad.err")"
	fi
}
if [ -s "$good" ]; then
	printf 'GIF89a this is no recording at all\n' >"$RD/magic.etr"
	expect_bad "bad magic" "bad magic number at offset 0" "$RD/magic.etr"
	: >"$RD/empty.etr"
	expect_bad "empty file" "truncated file header at offset 0" "$RD/empty.etr"
	head -c 13 "$good" >"$RD/short.etr"
	expect_bad "cut inside the file header" "truncated file header at offset 13" "$RD/short.etr"
	python3 - "$good" "$RD" <<'PY'
import sys
d = bytearray(open(sys.argv[1], "rb").read())
v = bytearray(d); v[8:12] = (99).to_bytes(4, "little")
open(sys.argv[2] + "/version.etr", "wb").write(v)
h = bytearray(d); h[30] ^= 0x20
open(sys.argv[2] + "/header.etr", "wb").write(h)
# the first block: flip a payload byte, then a header byte
first = 20 + int.from_bytes(d[12:16], "little")
p = bytearray(d); p[first + 48 + 5] ^= 0xff
open(sys.argv[2] + "/payload.etr", "wb").write(p)
b = bytearray(d); b[first + 9] ^= 0x01
open(sys.argv[2] + "/blockhdr.etr", "wb").write(b)
open(sys.argv[2] + "/first-block.txt", "w").write(str(first))
PY
	first=$(cat "$RD/first-block.txt")
	expect_bad "unknown version" "unknown format version 99 at offset 8" "$RD/version.etr"
	expect_bad "corrupt header" "corrupt header at offset 20: checksum" "$RD/header.etr"
	expect_bad "corrupt block payload" "corrupt block at offset $first: payload checksum" \
		"$RD/payload.etr"
	expect_bad "corrupt block header" "corrupt block at offset $first: block header checksum" \
		"$RD/blockhdr.etr"
	"$ET" info "$good" >"$RD/info.txt" 2>"$RD/info.err"
	if [ $? -eq 0 ] && [ ! -s "$RD/info.err" ] && grep -q "^kernel  *$(uname -r) " "$RD/info.txt" &&
		grep -q "^ctl  *tracepoint  *exact" "$RD/info.txt" &&
		grep -q "^targets  *[0-9]* (epolltrace)" "$RD/info.txt" &&
		grep -q "^snapshot  *[1-9]" "$RD/info.txt" && grep -q "^losses  *0 records" "$RD/info.txt" &&
		grep -q "^complete  *yes" "$RD/info.txt"; then
		pass "info: kernel, plan, targets, counts, losses"
	else
		fail "info" "$(cat "$RD/info.txt" "$RD/info.err")"
	fi
else
	fail "recordings: no scenario recording to start from"
fi
expect_err "replay in the TUI without a terminal" 2 "the TUI needs a terminal" replay "$good"
expect_err "record without -o" 2 "record: -o FILE is required" record -p 1
expect_err "export without --format" 2 "export: --format jsonl or --format chrome" export "$good"
# created 0600 and O_NOFOLLOW; an existing file only with --force
rm -f "$RD/new.etr" "$RD/link.etr"
"$ET" record -o "$RD/new.etr" -- "$ET" demo --scenario lt-et >/dev/null 2>"$RD/new.err"
if [ "$(stat -c %a "$RD/new.etr" 2>/dev/null)" = 600 ] &&
	"$ET" replay "$RD/new.etr" --json-state >/dev/null 2>&1; then
	pass "record: mode 0600, replays"
else
	fail "record: mode 0600" "$(stat -c %a "$RD/new.etr" 2>&1) $(cat "$RD/new.err")"
fi
expect_err "record: an existing file is refused" 1 "exists; use --force" \
	record -o "$RD/new.etr" -- true
ln -s "$RD/target.etr" "$RD/link.etr"
expect_err "record: a symlink is refused, even with --force" 1 "symbolic link" \
	record --force -o "$RD/link.etr" -- true
if [ ! -e "$RD/target.etr" ] &&
	"$ET" record --force -o "$RD/new.etr" -- "$ET" demo --scenario oneshot >/dev/null 2>&1 &&
	"$ET" replay "$RD/new.etr" --json | grep -q '"op":"MOD"'; then
	pass "record --force overwrites"
else
	fail "record --force overwrites"
fi
# write errors: /dev/full (ENOSPC at once), then a full tmpfs: reported,
# non-zero exit, and what was written before stays readable
expect_err "record to a full device: ENOSPC reported" 1 "No space left on device" \
	record --force -o /dev/full -- "$ET" demo --scenario lt-et
# (the tmpfs is mounted in a private mount namespace: a killed run leaves no
# mount behind for the next one's rm -rf to trip over)
mkdir -p "$RD/small"
if unshare -m --propagation private bash -c '
	ET=$1 RD=$2
	mount -t tmpfs -o size=24k tmpfs "$RD/small" || exit 99
	"$ET" -w "$RD/small/full.etr" --json -f -- sh -c \
		"for i in \$(seq 30); do \"$ET\" demo --scenario mixed --scale 4 || exit 1; done" \
		>"$RD/full.jsonl" 2>"$RD/full.err"
	echo $? >"$RD/full.rc"
	cp "$RD/small/full.etr" "$RD/full.etr"' bash "$ET" "$RD"; then
	rc=$(cat "$RD/full.rc")
	"$ET" replay "$RD/full.etr" --json >"$RD/full-replay.jsonl" 2>"$RD/full-replay.err"
	rrc=$?
	if [ $rc -ne 0 ] && grep -q "No space left on device" "$RD/full.err" && [ $rrc -eq 0 ] &&
		[ -s "$RD/full-replay.jsonl" ] && [ "$(wc -l <"$RD/full-replay.err")" = 1 ] &&
		[ "$(head -n "$(wc -l <"$RD/full-replay.jsonl")" "$RD/full.jsonl" | cmp - "$RD/full-replay.jsonl" && echo same)" = same ]; then
		pass "full disk: reported, exit $rc, the $(wc -l <"$RD/full-replay.jsonl") events written before replay"
	else
		fail "full disk" "trace exit $rc: $(head -n 2 "$RD/full.err"); replay exit $rrc: $(cat "$RD/full-replay.err")"
	fi
else
	fail "full disk: cannot mount a small tmpfs"
fi

step "recordings: the reader under libFuzzer"
FUZZ_RUNS=${FUZZ_RUNS:-20000}
mkdir -p "$OUT/fuzz/corpus"
# a seed corpus of real recordings made above (small ones), and cut copies
for f in "$OUT"/host/*/state.etr "$RD/new.etr"; do
	[ -f "$f" ] && [ "$(stat -c %s "$f")" -le 65536 ] &&
		cp "$f" "$OUT/fuzz/corpus/$(echo "$f" | md5sum | cut -c1-12).etr"
done
# and the inflated items of their first blocks, for the raw-items mode
python3 - "$OUT/fuzz/corpus" <<'PY'
import os, struct, sys, zlib
d = sys.argv[1]
for name in sorted(os.listdir(d)):
    b = open(os.path.join(d, name), "rb").read()
    off = 20 + struct.unpack("<I", b[12:16])[0]
    for k in range(4):
        if off + 48 > len(b):
            break
        plen, rlen = struct.unpack("<II", b[off + 8:off + 16])
        nit, nev = struct.unpack("<I", b[off + 20:off + 24])[0], struct.unpack("<I", b[off + 40:off + 44])[0]
        raw = zlib.decompress(b[off + 48:off + 48 + plen])
        open(os.path.join(d, f"{name}.raw{k}"), "wb").write(b"R" + struct.pack("<II", nit, nev) + raw)
        off += 48 + plen
PY
nseeds=$(ls "$OUT/fuzz/corpus" | wc -l)
# -timeout is a hang detector (seconds per input; inputs take milliseconds),
# generous because the machine may be shared
if make -s build/fuzz_reader >"$OUT/fuzz/build.log" 2>&1 &&
	build/fuzz_reader -runs="$FUZZ_RUNS" -max_len=65536 -timeout=120 \
		-artifact_prefix="$OUT/fuzz/" "$OUT/fuzz/corpus" \
		>"$OUT/fuzz/run.log" 2>&1 && grep -q "^Done $FUZZ_RUNS runs" "$OUT/fuzz/run.log"; then
	pass "fuzz_reader: $FUZZ_RUNS runs from $nseeds seeds (recordings, their blocks' items), no crash, no leak"
else
	fail "fuzz_reader" "$(tail -n 20 "$OUT/fuzz/build.log" "$OUT/fuzz/run.log" 2>/dev/null)"
fi

# ---- stock Debian kernels under QEMU ----------------------------------------
step "Debian kernels under qemu-system-x86_64"
# inline mode: the sites are resolved here from the kernel's -dbg vmlinux
# (tests/vm/fetch-dbg.sh) and the file is carried into the guest; the
# guest also tries another build's sites file, which must be refused
vm_guest_script() {	# kver other-sites-file-or-empty
	cat <<EOF
#!/bin/sh
ip link set lo up 2>/dev/null
echo "guest \$(uname -r)"
epolltrace probes > /out/probes.txt 2>&1; echo \$? > /out/probes.rc
epolltrace probes --json > /out/probes.json 2>/dev/null
if [ -f /bin/sites-$1 ]; then
	epolltrace probes --attach=inline --sites /bin/sites-$1 > /out/probes-inline.txt 2>&1
	echo \$? > /out/probes-inline.rc
	epolltrace probes --attach=inline --sites /bin/sites-$1 --json \
		> /out/probes-inline.json 2>/dev/null
fi
if [ -n "$2" ]; then
	epolltrace probes --attach=inline --sites /bin/$2 > /out/probes-other.txt 2>&1
	echo \$? > /out/probes-other.rc
fi
for mode in $VM_MODES; do
	sites=
	[ \$mode = inline ] && sites=/bin/sites-$1
	for sc in $SCENARIOS; do
		ET_SITES=\$sites scenario.sh epolltrace \$mode \$sc /out/\$mode/\$sc \
			2>/out/\$mode-\$sc.err
		echo \$? > /out/\$mode/\$sc/run.rc
	done
done
# rbr's shape (tests/check_tree.py on the host): one mode is enough, the
# snapshot iterator reads it alike in all of them
scenario.sh epolltrace auto rbtree /out/tree/rbtree 2>/out/tree-rbtree.err
echo \$? > /out/tree/rbtree/run.rc
# the lessons, headless; checked on the host (tests/check_lesson.py)
for mode in $VM_GUEST_LESSON_MODES; do
	mkdir -p /out/learn/\$mode
	sites=
	[ \$mode = inline ] && sites="--sites /bin/sites-$1"
	for l in $VM_LESSONS; do
		epolltrace learn \$l --json --attach \$mode \$sites \
			--truth /out/learn/\$mode/\$l.truth \
			> /out/learn/\$mode/\$l.jsonl 2> /out/learn/\$mode/\$l.err
		echo \$? > /out/learn/\$mode/\$l.rc
	done
done
exit 0
EOF
}
VM_LESSONS=${VM_LESSONS-$("$ET" learn 2>/dev/null | awk '{print $1}' | tr '\n' ' ')}
# the lessons a guest ran: each against its ground truth, step by step
vm_check_lessons() {	# kver dir
	local mode l d=$2
	for mode in $VM_GUEST_LESSON_MODES; do
		for l in $VM_LESSONS; do
			if [ "$(cat "$d/$mode/$l.rc" 2>/dev/null)" != 0 ]; then
				fail "vm $1 $mode lesson $l (run)" "$(head -c 400 "$d/$mode/$l.err" 2>/dev/null)"
				continue
			fi
			if python3 tests/check_lesson.py "$d/$mode/$l.jsonl" "$d/$mode/$l.truth" \
				>"$d/$mode/$l.check" 2>&1; then
				pass "vm $1 $mode lesson $l: $(grep -c '^PASS' "$d/$mode/$l.check") checks against its truth (callbacks $(grep -o '"callbacks_visible":[a-z]*' "$d/$mode/$l.jsonl" | head -1 | cut -d: -f2))"
			else
				fail "vm $1 $mode lesson $l" "$(grep -v '^PASS' "$d/$mode/$l.check" | head -5)"
			fi
		done
	done
}

# every kernel's sites file first: each guest gets another build's too
declare -A VM_SITES=()
if [[ " $VM_MODES " == *" inline "* ]]; then
	mkdir -p "$OUT/vmbin"
	for pkg in $VM_KERNELS; do
		vmlinuz=$(tests/vm/fetch-kernel.sh "$VM_CACHE" "$pkg" 2>/dev/null) || continue
		kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
		dbg=$(tests/vm/fetch-dbg.sh "$VM_CACHE" "linux-image-$kver" 2>"$OUT/fetch-dbg-$kver.err")
		if [ -z "$dbg" ] || ! "$ET" sites --vmlinux "$dbg" -o "$OUT/vmbin/sites-$kver" --force \
			>"$OUT/sites-$kver.txt" 2>&1; then
			fail "vm $kver: sites from the -dbg vmlinux" \
				"$(cat "$OUT/fetch-dbg-$kver.err" "$OUT/sites-$kver.txt" 2>/dev/null)"
			continue
		fi
		pass "vm $kver: sites resolved on the host from $(basename "$dbg")"
		VM_SITES[$kver]=$OUT/vmbin/sites-$kver
	done
fi
vm_i=0
for pkg in $VM_KERNELS; do
	# this guest's lesson modes: one, in turn, or every one
	read -r -a lesson_modes <<<"$VM_LESSON_MODES"
	VM_GUEST_LESSON_MODES=$VM_LESSON_MODES
	if [ "$VM_LESSON_EVERY_MODE" != 1 ] && [ ${#lesson_modes[@]} -gt 0 ]; then
		VM_GUEST_LESSON_MODES=${lesson_modes[vm_i % ${#lesson_modes[@]}]}
	fi
	vm_i=$((vm_i + 1))
	vmlinuz=$(tests/vm/fetch-kernel.sh "$VM_CACHE" "$pkg" 2>"$OUT/fetch-$pkg.err")
	if [ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ]; then
		fail "vm $pkg: fetch kernel" "$(cat "$OUT/fetch-$pkg.err")"
		continue
	fi
	kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	vo=$OUT/vm/$kver
	mkdir -p "$vo"
	other=
	for k in "${!VM_SITES[@]}"; do
		[ "$k" != "$kver" ] && other=sites-$k
	done
	vm_guest_script "$kver" "$other" >"$vo/guest.sh"
	mkdir -p "$OUT/vmbin"
	cp tests/scenario.sh tests/fdinfo.sh "$OUT/vmbin/"
	cp build/epolltrace.static "$OUT/vmbin/epolltrace"
	extra=()
	for k in "${!VM_SITES[@]}"; do
		extra+=("${VM_SITES[$k]}")
	done
	echo "   booting $kver"
	if ! tests/vm/run-guest.sh --timeout "${VM_TIMEOUT:-900}" "$vmlinuz" "$vo/guest.sh" "$vo/out" \
		"$OUT/vmbin/epolltrace" "$OUT/vmbin/scenario.sh" "$OUT/vmbin/fdinfo.sh" "${extra[@]}" \
		>"$vo/run.log" 2>&1; then
		fail "vm $kver: guest run" "$(tail -n 5 "$vo/run.log")"
		continue
	fi
	if [ "$(cat "$vo/out/probes.rc" 2>/dev/null)" = 0 ] &&
		grep -q "^callback  *fentry" "$vo/out/probes.txt"; then
		pass "vm $kver: probes (fentry ep_poll_callback)"
	else
		fail "vm $kver: probes" "$(cat "$vo/out/probes.txt" 2>/dev/null | head -30)"
	fi
	if [ -n "${VM_SITES[$kver]:-}" ]; then
		# the four named functions attached: three inline, ep_poll_callback by fentry
		if [ "$(cat "$vo/out/probes-inline.rc" 2>/dev/null)" = 0 ] &&
			grep -q "^ep_insert  *inline" "$vo/out/probes-inline.txt" &&
			grep -q "^ep_poll  *inline" "$vo/out/probes-inline.txt" &&
			grep -q "^ep_send_events  *inline" "$vo/out/probes-inline.txt" &&
			grep -q "^callback  *fentry  *exact  *ep_poll_callback" \
				"$vo/out/probes-inline.txt" &&
			grep -q "^INLINE SITES from the sites file" "$vo/out/probes-inline.txt" &&
			python3 -c '
import json, sys
p = json.load(open(sys.argv[1]))
i = p["inline"]
assert p["ok"] and i["links"] >= 3, i
assert {s["function"] for s in i["sites"]} >= {"ep_insert", "ep_poll", "ep_send_events"}, i
' "$vo/out/probes-inline.json" 2>"$vo/probes-inline.check"; then
			pass "vm $kver: probes --attach=inline (ep_insert, ep_poll, ep_send_events inline)"
		else
			fail "vm $kver: probes --attach=inline" "$(head -40 "$vo/out/probes-inline.txt" \
				"$vo/probes-inline.check" 2>/dev/null)"
		fi
	fi
	if [ -n "$other" ]; then
		oid=$(sed -n 's/^build-id //p' "$OUT/vmbin/$other")
		mid=$(sed -n 's/^build-id //p' "${VM_SITES[$kver]:-/dev/null}")
		if [ "$(cat "$vo/out/probes-other.rc" 2>/dev/null)" = 1 ] &&
			grep -q "another build.*$oid.*$mid" "$vo/out/probes-other.txt"; then
			pass "vm $kver: another build's sites file refused, both build-ids named"
		else
			fail "vm $kver: another build's sites file" \
				"$(tail -n 3 "$vo/out/probes-other.txt" 2>/dev/null)"
		fi
	fi
	for mode in $VM_MODES; do
		if [ "$mode" = inline ] && [ -z "${VM_SITES[$kver]:-}" ]; then
			fail "vm $kver inline: no sites file (see above)"
			continue
		fi
		for sc in $SCENARIOS; do
			d=$vo/out/$mode/$sc
			if [ "$(cat "$d/run.rc" 2>/dev/null)" != 0 ]; then
				fail "vm $kver $mode $sc (run)" "$(cat "$vo/out/$mode-$sc.err" 2>/dev/null)"
				continue
			fi
			m=$mode
			[ "$mode" = auto ] && m=auto-vm
			run_check "vm $kver $mode $sc" "$d" "$m"
		done
	done
	d=$vo/out/tree/rbtree
	if [ "$(cat "$d/run.rc" 2>/dev/null)" = 0 ] &&
		python3 tests/check_tree.py "$d/state.jsonl" "$d/fdinfo.txt" "$d/truth.jsonl" \
			--min-nodes 30 --trace "$d/trace.jsonl" >"$vo/check-tree.txt" 2>&1; then
		pass "vm $kver auto rbtree: $(cat "$vo/check-tree.txt")"
	else
		fail "vm $kver auto rbtree: the tree's shape" \
			"$(cat "$vo/out/tree-rbtree.err" "$vo/check-tree.txt" 2>/dev/null | head -n 8)"
	fi
	vm_check_lessons "$kver" "$vo/out/learn"
done

# ---- the full path: the kernel's debug info inside the guest ---------------------
# One kernel (VM_FULL, default the 6.12 one: its -dbg vmlinux is the smaller,
# 340 MB; empty: skipped) boots again with its vmlinux where Debian puts it,
# /usr/lib/debug/boot/vmlinux-R.  There plain auto mode finds it (another
# build's file earlier in the lookup order is skipped), checks its build-id,
# reads the sites, keeps them in the cache and attaches ep_insert, ep_poll
# and ep_send_events at their inlined sites; the next start takes the cache;
# a broken cache file is refused and replaced; another build's vmlinux
# (its build-id note, copied with objcopy) is refused with both build-ids;
# and the scenarios of VM_FULL_SCENARIOS run in plain auto mode, checked as
# inline mode is.
VM_FULL=${VM_FULL-linux-image-6.12-cloud-amd64}
VM_FULL_SCENARIOS=${VM_FULL_SCENARIOS:-mixed}
vm_full_script() {	# kver build-id other-build-id-or-empty
	cat <<EOF
#!/bin/sh
ip link set lo up 2>/dev/null
echo "guest \$(uname -r), its debug info at /usr/lib/debug/boot"
mkdir -p /var/cache
if [ -n "$3" ]; then
	mkdir -p /usr/lib/debug/.build-id/$(echo "$2" | cut -c1-2)
	cp /bin/vmlinux-other /usr/lib/debug/.build-id/$(echo "$2" | cut -c1-2)/$(echo "$2" | cut -c3-).debug
fi
epolltrace probes > /out/probes.txt 2>&1; echo \$? > /out/probes.rc
epolltrace probes --json > /out/probes-cached.json 2>/out/probes-cached.err
echo \$? > /out/probes-cached.rc
stat -c '%a %U %n' /var/cache/epolltrace /var/cache/epolltrace/sites \
	/var/cache/epolltrace/sites/* > /out/cache-modes.txt 2>&1
epolltrace probes --no-cache > /out/probes-nocache.txt 2>&1
echo "epolltrace-sites 1" > /var/cache/epolltrace/sites/$2
epolltrace probes > /out/probes-bad.txt 2>/out/probes-bad.err; echo \$? > /out/probes-bad.rc
epolltrace probes > /out/probes-again.txt 2>&1
if [ -n "$3" ]; then
	epolltrace probes --vmlinux /bin/vmlinux-other > /out/probes-other.txt 2>&1
	echo \$? > /out/probes-other.rc
	epolltrace probes --attach=inline --vmlinux /bin/vmlinux-other \
		> /out/probes-other-inline.txt 2>/out/probes-other-inline.err
	echo \$? > /out/probes-other-inline.rc
fi
# the scenarios start without a cache: both sessions of each resolve, and
# both keep what they read (renamed into place, one after the other)
rm -rf /var/cache/epolltrace
for sc in $VM_FULL_SCENARIOS; do
	scenario.sh epolltrace auto \$sc /out/auto/\$sc 2>/out/auto-\$sc.err
	echo \$? > /out/auto/\$sc/run.rc
done
exit 0
EOF
}
# lessons 5-8 in the same kernels, fentry and kprobe, held at every step
if [ -n "$VM_KERNELS" ]; then
	step "lessons 5-8 in the Debian kernels, held at every step"
	export VM_CACHE VM_KERNELS
	run_suite lessons_vm
	step "detectors in the Debian kernels, fentry and kprobe"
	run_suite detect_vm
	step "where waiters wait in the Debian kernels: fentry and kprobe"
	run_suite chains_vm
fi
# the detectors' workloads in the same kernels: 6.1 fentry, 6.12 kprobe
if [ -n "$VM_KERNELS" ]; then
	step "detectors in the Debian kernels (callbacks seen)"
	export VM_CACHE VM_KERNELS
	run_suite diagnose_vm
fi
full_kver=
if [ -n "$VM_FULL" ]; then
	step "the full path in a guest: its debug info there, plain auto mode"
	full_start=$(date +%s)
	vmlinuz=$(tests/vm/fetch-kernel.sh "$VM_CACHE" "$VM_FULL" 2>"$OUT/fetch-full.err")
	[ -n "$vmlinuz" ] && full_kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	dbg=
	[ -n "$full_kver" ] &&
		dbg=$(tests/vm/fetch-dbg.sh "$VM_CACHE" "linux-image-$full_kver" 2>>"$OUT/fetch-full.err")
	if [ -z "$dbg" ]; then
		fail "vm full path: the kernel and its -dbg vmlinux" "$(cat "$OUT/fetch-full.err")"
	fi
fi
if [ -n "$VM_FULL" ] && [ -n "$dbg" ]; then
	vo=$OUT/vm-full/$full_kver
	mkdir -p "$vo/bin"
	bid=$(readelf -n "$dbg" | sed -n 's/.*Build ID: //p' | head -n 1)
	# another kernel's build-id, in a small ELF file: its notes, copied
	oid=
	for pkg in $VM_KERNELS; do
		v=$(tests/vm/fetch-kernel.sh "$VM_CACHE" "$pkg" 2>/dev/null) || continue
		k=$(basename "$v" | sed 's/^vmlinuz-//')
		[ "$k" = "$full_kver" ] && continue
		od=$(tests/vm/fetch-dbg.sh "$VM_CACHE" "linux-image-$k" 2>/dev/null) || continue
		objcopy --strip-all -j .notes "$od" "$vo/bin/vmlinux-other" 2>/dev/null || continue
		oid=$(readelf -n "$vo/bin/vmlinux-other" | sed -n 's/.*Build ID: //p' | head -n 1)
		break
	done
	vm_full_script "$full_kver" "$bid" "$oid" >"$vo/guest.sh"
	cp tests/scenario.sh tests/fdinfo.sh "$vo/bin/"
	cp build/epolltrace.static "$vo/bin/epolltrace"
	files=("$vo/bin/epolltrace" "$vo/bin/scenario.sh" "$vo/bin/fdinfo.sh")
	[ -n "$oid" ] && files+=("$vo/bin/vmlinux-other")
	echo "   booting $full_kver with its vmlinux ($(( $(stat -c %s "$dbg") >> 20 )) MiB)"
	# memory: the initrd and the unpacked vmlinux, both, while it unpacks
	if ! tests/vm/run-guest.sh --timeout "${VM_TIMEOUT:-900}" --mem 2048 \
		--put "$dbg:/usr/lib/debug/boot/vmlinux-$full_kver" \
		"$vmlinuz" "$vo/guest.sh" "$vo/out" "${files[@]}" >"$vo/run.log" 2>&1; then
		fail "vm $full_kver full path: guest run" "$(tail -n 5 "$vo/run.log")"
	else
		o=$vo/out
		cache=/var/cache/epolltrace/sites/$bid
		debug=/usr/lib/debug/boot/vmlinux-$full_kver
		three_inline() {	# probes text: the four named functions attached
			grep -q "^ep_insert  *inline  *exact  *ep_insert" "$1" &&
				grep -q "^ep_poll  *inline  *exact  *ep_poll" "$1" &&
				grep -q "^ep_send_events  *inline  *exact  *ep_send_events" "$1" &&
				grep -q "^callback  *fentry  *exact  *ep_poll_callback" "$1" &&
				grep -q "^result: a full mode works" "$1"
		}
		if [ "$(cat "$o/probes.rc" 2>/dev/null)" = 0 ] && [ -n "$bid" ] &&
			three_inline "$o/probes.txt" &&
			grep -q "^INLINE SITES from the debug info $debug (build-id $bid)" "$o/probes.txt" &&
			grep -q "^  kept in the cache $cache$" "$o/probes.txt"; then
			pass "vm $full_kver full path: probes in auto mode: ep_insert, ep_poll, ep_send_events inline from $debug (build-id checked), ep_poll_callback by fentry; cached"
		else
			fail "vm $full_kver full path: probes in auto mode" "$(head -c 3000 "$o/probes.txt" 2>/dev/null)"
		fi
		if [ -n "$oid" ]; then
			if grep -q "^INLINE SITES from the debug info $debug" "$o/probes.txt"; then
				pass "vm $full_kver full path: another build's file earlier in the lookup order skipped"
			else
				fail "vm $full_kver full path: lookup order" "$(grep -A1 INLINE "$o/probes.txt")"
			fi
		fi
		if [ "$(cat "$o/probes-cached.rc" 2>/dev/null)" = 0 ] && [ ! -s "$o/probes-cached.err" ] &&
			python3 - "$o/probes-cached.json" "$cache" "$bid" >"$vo/cached.check" 2>&1 <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
i = p["inline"]
assert p["ok"] and p["attach"] == "auto", p["fix"]
assert i["from"] == "cache" and i["file"] == sys.argv[2] and i["build_id"] == sys.argv[3], i
assert i["cached"] is None and i["links"] >= 3, i
h = {x["hook"]: x for x in p["hooks"]}
for n in ("ep_insert", "ep_poll", "ep_send_events"):
    assert h[n]["using"] == "inline", h[n]
    assert [t["kind"] for t in h[n]["tried"]] == ["named", "inline"], h[n]
assert h["callback"]["using"] == "fentry", h["callback"]
PY
		then
			pass "vm $full_kver full path: the second start takes the sites from the cache (probes --json)"
		else
			fail "vm $full_kver full path: the second start" "$(cat "$vo/cached.check" "$o/probes-cached.err" 2>/dev/null | tail -n 5)"
		fi
		if [ "$(grep -c "^700 root /var/cache/epolltrace$\|^700 root /var/cache/epolltrace/sites$\|^600 root $cache$" \
			"$o/cache-modes.txt" 2>/dev/null)" = 3 ] && [ "$(wc -l <"$o/cache-modes.txt")" = 3 ]; then
			pass "vm $full_kver full path: the cache 0700/0600, one file, no temporary left"
		else
			fail "vm $full_kver full path: the cache's modes" "$(cat "$o/cache-modes.txt")"
		fi
		if three_inline "$o/probes-nocache.txt" &&
			grep -q "^INLINE SITES from the debug info $debug" "$o/probes-nocache.txt" &&
			! grep -q "kept in the cache" "$o/probes-nocache.txt"; then
			pass "vm $full_kver full path: --no-cache reads the debug info, writes no cache"
		else
			fail "vm $full_kver full path: --no-cache" "$(grep -A1 INLINE "$o/probes-nocache.txt")"
		fi
		if [ "$(cat "$o/probes-bad.rc" 2>/dev/null)" = 0 ] && three_inline "$o/probes-bad.txt" &&
			grep -q "^epolltrace: warning: the sites cache is refused: $cache: cut short (no build-id line); reading the debug info again$" \
				"$o/probes-bad.err" &&
			grep -q "^INLINE SITES from the debug info $debug" "$o/probes-bad.txt" &&
			grep -q "^  kept in the cache $cache$" "$o/probes-bad.txt" &&
			grep -q "^INLINE SITES from the cache $cache" "$o/probes-again.txt"; then
			pass "vm $full_kver full path: a broken cache file refused with a warning, resolved again and replaced"
		else
			fail "vm $full_kver full path: a broken cache file" "$(cat "$o/probes-bad.err"; grep -A1 INLINE "$o/probes-bad.txt" "$o/probes-again.txt")"
		fi
		if [ -n "$oid" ]; then
			msg="/bin/vmlinux-other is another build: its build-id is $oid, the running kernel's is $bid"
			if [ "$(cat "$o/probes-other.rc" 2>/dev/null)" = 0 ] &&
				grep -q "^  rejected   inline     ep_insert: $msg" "$o/probes-other.txt" &&
				grep -q "^ep_insert  *-  *none" "$o/probes-other.txt" &&
				[ "$(cat "$o/probes-other-inline.rc" 2>/dev/null)" = 1 ] &&
				grep -q "$msg" "$o/probes-other-inline.err"; then
				pass "vm $full_kver full path: another kernel's vmlinux (--vmlinux) refused, both build-ids named"
			else
				fail "vm $full_kver full path: another kernel's vmlinux" "$(grep inline "$o/probes-other.txt"; cat "$o/probes-other-inline.err")"
			fi
		fi
		for sc in $VM_FULL_SCENARIOS; do
			d=$o/auto/$sc
			if [ "$(cat "$d/run.rc" 2>/dev/null)" != 0 ]; then
				fail "vm $full_kver full auto $sc (run)" "$(cat "$o/auto-$sc.err" 2>/dev/null)"
				continue
			fi
			if head -n 1 "$d/trace.jsonl" | grep -q '"hook":"ep_insert","using":"inline"'; then
				pass "vm $full_kver full auto $sc: the session says ep_insert inline"
			else
				fail "vm $full_kver full auto $sc: session record" "$(head -c 600 "$d/trace.jsonl")"
			fi
			# plain auto, checked as inline mode: the records of the three
			run_check "vm $full_kver full auto $sc" "$d" inline
		done
	fi
	echo "   the full path took $(( $(date +%s) - full_start )) s"
fi

if [ $SKIP -gt 0 ]; then
	echo "$PASS passed, $FAIL failed, $SKIP skipped ($SKIPWHY)"
else
	echo "$PASS passed, $FAIL failed"
fi
[ $FAIL -eq 0 ]
