#!/bin/bash
# The latency anatomy (cli/model/anatomy.c) against a workload that knows
# its own counts (tests/anatomy_load.c): traced from its first instruction
# with --json-state and recorded (-w), then replayed as --json-state,
# --summary and in the TUI.  Counts must equal the workload's; values are
# held only to bounds that are logically certain (a residency ends before
# the wait that delivered it returned; a sleep lies inside its wait), never
# to timings.  Fidelities must be those of the session's plan.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: anatomy.sh EPOLLTRACE OUTDIR   (ANAT_MODE: --attach mode, default auto)
set -u
ET=$(readlink -f "$1") OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MODE=${ANAT_MODE:-auto}
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
SOCK=epolltrace-anatomy-$$
T() { tmux -L "$SOCK" "$@"; }
trap 'T kill-server 2>/dev/null' EXIT

pass() { echo "PASS anatomy: $*"; }
fail() { echo "FAIL anatomy: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

# R W C F A_MS B_MS HOLD_MS: see anatomy_load.c
ARGS="4 20 10 10 300 5 2500"
if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread "$ROOT/tests/anatomy_load.c" \
	-o "$OUT/anatomy_load" 2>"$OUT/build.err"; then
	fail "the workload builds" "$(cat "$OUT/build.err")"
	exit 0
fi

timeout -k 5 60 "$ET" --json-state -i 0.2 --attach="$MODE" --snapshot-interval 0.1 \
	-w "$OUT/rec.etr" -- \
	"$OUT/anatomy_load" "$OUT/truth.json" $ARGS >"$OUT/state.jsonl" 2>"$OUT/trace.err"
rc=$?
if [ $rc != 0 ] || [ ! -s "$OUT/truth.json" ]; then
	fail "the workload ran traced, as its phases say" "rc $rc $(tail -n 3 "$OUT/trace.err")"
	exit 0
fi
pass "the workload ran traced, as its phases say ($(cat "$OUT/truth.json" | cut -c1-120)...)"
"$ET" info "$OUT/rec.etr" >"$OUT/info.txt" 2>"$OUT/info.err"

# ---- the live session's final state against the truth ---------------------
check() {	# STATE.jsonl LABEL
	python3 "$ROOT/tests/check_anatomy.py" "$1" "$OUT/truth.json" "$OUT/info.txt" "$2"
}
check "$OUT/state.jsonl" live

# ---- replay: the same states, the anatomy included --------------------------
if "$ET" replay "$OUT/rec.etr" --json-state -i 0.2 >"$OUT/replay.jsonl" 2>"$OUT/replay.err" &&
	[ ! -s "$OUT/replay.err" ] &&
	python3 "$ROOT/tests/check_replay.py" "$OUT/state.jsonl" "$OUT/replay.jsonl" \
		>"$OUT/check-replay.txt" 2>&1 &&
	grep -q '"anatomy":{"residency_ns":{"fidelity"' "$OUT/replay.jsonl"; then
	pass "replay --json-state: every state equal to live's, anatomy included" \
		"($(cat "$OUT/check-replay.txt"))"
else
	fail "replay --json-state equals live" \
		"$(cat "$OUT/replay.err" "$OUT/check-replay.txt" 2>/dev/null | head -n 5)"
fi
check "$OUT/replay.jsonl" replay

# ---- --summary: the four columns, from the same model ---------------------
"$ET" replay "$OUT/rec.etr" --summary -i 0.2 >"$OUT/summary.txt" 2>"$OUT/summary.err"
if python3 - "$OUT/summary.txt" "$OUT/replay.jsonl" "$OUT/truth.json" \
	>"$OUT/summary.check" 2>&1 <<'PY'
import json, sys
sys.excepthook = lambda t, e, tb: (print(f"{t.__name__}: {e}"), sys.exit(1))
tables = [x for x in open(sys.argv[1]).read().split("\n\n") if x.strip()]
t = json.load(open(sys.argv[3]))
last = tables[-1].splitlines()
head = last[1].split()
assert head[11:15] == ["RES99", "WAKE99", "EV/WK", "FULL%"], head
row = [l.split() for l in last[2:]
       if l.split()[:1] == [str(t["pid"])] and l.split()[2] == str(t["epfd"])]
assert row, "no row for the workload"
row = row[0]
st = [json.loads(l) for l in open(sys.argv[2]) if l.strip()][-1]
a = [i for i in st["instances"] if i["pid"] == t["pid"] and i["epfd"] == t["epfd"]][0]["anatomy"]
assert row[14] == "%.1f" % (100.0 * t["F"] / t["waits"]), ("FULL%", row[14])
evk = a["events_per_wakeup"]
want = "%.1f" % (evk["sum"] / evk["count"]) if evk["count"] else "-"
assert row[13] == want, ("EV/WK", row[13], want)
assert (row[11] == "-") == (not a["residency_ns"]["count"]), ("RES99", row[11])
assert (row[12] == "-") == (not a["wakeup_ns"]["count"]), ("WAKE99", row[12])
print(f"RES99 {row[11]} WAKE99 {row[12]} EV/WK {row[13]} FULL% {row[14]}")
PY
then
	pass "--summary: RES99 WAKE99 EV/WK FULL% agree with the state and the truth" \
		"($(cat "$OUT/summary.check"))"
else
	fail "--summary columns" \
		"$(cat "$OUT/summary.check" "$OUT/summary.err") $(tail -n 3 "$OUT/summary.txt")"
fi

# ---- the TUI: the instance's anatomy pane ('a'), at the end of the replay ------
# The instance is opened while the replay runs (a closed one cannot be);
# the pane must come to show every wait while the workload holds it open.
waits=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["waits"])' \
	"$OUT/truth.json")
T -f /dev/null new-session -d -s cap -x 130 -y 40 "LANG=C.UTF-8 $ET replay $OUT/rec.etr"
seen=
for _ in $(seq 100); do
	T capture-pane -p -t cap 2>/dev/null | grep -q 'anatomy_load' && { seen=1; break; }
	sleep 0.1
done
T send-keys -t cap Enter
sleep 0.2
T send-keys -t cap a
for _ in $(seq 100); do
	T capture-pane -p -t cap >"$OUT/tui.txt" 2>/dev/null
	grep -Eq "^. *events per wait +$waits " "$OUT/tui.txt" && break
	grep -q "REPLAY ENDED" "$OUT/tui.txt" && break
	sleep 0.1
done
T send-keys -t cap q
if [ -n "$seen" ] && grep -q "latency anatomy" "$OUT/tui.txt" &&
	grep -Eq "^. *events per wait +$waits " "$OUT/tui.txt" &&
	grep -q "ready-list residency" "$OUT/tui.txt"; then
	pass "TUI: a shows the instance's anatomy pane ($waits waits)"
else
	fail "TUI anatomy pane" "$(grep -E "anatomy|events per|residency" "$OUT/tui.txt" | head -n 4)"
fi

# ---- a guest with fentry and kprobes: residency exact, transfers (inline) -------
# Where make check has cached Debian's 6.12 kernel (and its -dbg vmlinux for
# the inline rung's sites), the same workload runs in it under auto, kprobe
# and inline, and the same checks judge its files here.  About 30 s (TCG).
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
K=$(ls -d "$VM_CACHE"/linux-image-6.12.*-cloud-amd64 2>/dev/null | tail -n 1)
K=${K##*/linux-image-}
VMLINUZ=$VM_CACHE/linux-image-$K/boot/vmlinuz-$K
if [ -z "$K" ] || [ ! -f "$VMLINUZ" ] || [ ! -f "$ROOT/build/epolltrace.static" ] ||
	! command -v qemu-system-x86_64 >/dev/null; then
	echo "anatomy.sh: no guest run (no cached 6.12 kernel under $VM_CACHE, or no static build)" >&2
	exit 0
fi
G=$OUT/vm
mkdir -p "$G/bin"
cp "$ROOT/build/epolltrace.static" "$G/bin/epolltrace"
files=("$G/bin/epolltrace" "$G/bin/anatomy_load")
modes="auto kprobe"
DBG=$VM_CACHE/linux-image-$K-dbg/usr/lib/debug/boot/vmlinux-$K
if [ -f "$DBG" ] &&
	"$ET" sites --vmlinux "$DBG" -o "$G/bin/sites" --force >"$G/sites.txt" 2>&1; then
	files+=("$G/bin/sites")
	modes="$modes inline"
fi
if ! gcc -std=gnu11 -O2 -static -pthread "$ROOT/tests/anatomy_load.c" -o "$G/bin/anatomy_load" \
	2>"$G/build.err"; then
	fail "guest $K: the static workload builds" "$(cat "$G/build.err")"
	exit 0
fi
# the host's arguments, but a short hold: no TUI in the guest
cat >"$G/guest.sh" <<GUEST
#!/bin/sh
for mode in $modes; do
	mkdir -p /out/\$mode
	sites=
	[ \$mode = inline ] && sites=--sites=/bin/sites
	epolltrace --json-state -i 0.5 --attach=\$mode \$sites --snapshot-interval 0.1 \\
		-w /out/\$mode/rec.etr -- /bin/anatomy_load /out/\$mode/truth.json ${ARGS% *} 100 \\
		>/out/\$mode/state.jsonl 2>/out/\$mode/trace.err
	echo \$? >/out/\$mode/rc
done
GUEST
if ! "$ROOT/tests/vm/run-guest.sh" --timeout 600 "$VMLINUZ" "$G/guest.sh" "$G/out" "${files[@]}" \
	>"$G/run.log" 2>&1; then
	fail "guest $K: run" "$(tail -n 3 "$G/run.log")"
	exit 0
fi
for mode in $modes; do
	d=$G/out/$mode
	if [ "$(cat "$d/rc" 2>/dev/null)" != 0 ]; then
		fail "guest $K $mode: the workload ran traced" "$(head -n 3 "$d/trace.err" 2>/dev/null)"
		continue
	fi
	"$ET" info "$d/rec.etr" >"$d/info.txt" 2>&1
	python3 "$ROOT/tests/check_anatomy.py" "$d/state.jsonl" "$d/truth.json" "$d/info.txt" \
		"guest $K $mode"
	if "$ET" replay "$d/rec.etr" --json-state -i 0.5 >"$d/replay.jsonl" 2>"$d/replay.err" &&
		python3 "$ROOT/tests/check_replay.py" "$d/state.jsonl" "$d/replay.jsonl" \
			>"$d/check-replay.txt" 2>&1; then
		pass "guest $K $mode: replay equals live ($(cat "$d/check-replay.txt"))"
	else
		fail "guest $K $mode: replay equals live" "$(cat "$d/replay.err" "$d/check-replay.txt")"
	fi
done
exit 0
