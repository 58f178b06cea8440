#!/bin/bash
# rbr drawn as a tree: the shape a snapshot reads from the kernel's rb_nodes.
#  - the validator refuses broken trees (so the checks below can fail);
#  - scenario rbtree (ascending and descending ADDs of dup'd fds, which
#    rotate and recolour, then DELs), tracepoint mode: the final snapshot's
#    tree is a valid red-black tree in /proc/PID/fdinfo's order;
#  - its recording replays to the same states, trees included;
#  - the bound: 4097 items carry no shape (tree null), 4096 do, valid and
#    in fdinfo's order (a picture spread over several reads).
# The guests run scenario rbtree too (tests/run-all.sh, mode auto).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: tree.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
T=$(cd "$(dirname "$0")" && pwd)
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
PY=
SP=
cleanup() {
	tmux kill-session -t "et-tree-$$" 2>/dev/null
	[ -n "$SP" ] && kill "$SP" 2>/dev/null
	[ -n "$PY" ] && kill "$PY" 2>/dev/null
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS tree: $1"; }
fail() { echo "FAIL tree: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

if r=$(python3 "$T/check_tree.py" --self-test 2>&1); then
	pass "$r"
else
	fail "the validator refuses broken trees" "$r"
fi

D=$OUT/rbtree
if "$T/scenario.sh" "$ET" tracepoint rbtree "$D" 2>"$OUT/rbtree.err"; then
	if r=$(python3 "$T/check_tree.py" "$D/state.jsonl" "$D/fdinfo.txt" "$D/truth.jsonl" \
		--min-nodes 30 --trace "$D/trace.jsonl" 2>&1); then
		pass "scenario rbtree, tracepoint mode: $r"
	else
		fail "scenario rbtree, tracepoint mode" "$r"
	fi
	if "$ET" replay "$D/state.etr" --json-state -i 0.3 >"$D/replay.jsonl" 2>"$D/replay.err" &&
		r=$(python3 "$T/check_replay.py" "$D/state.jsonl" "$D/replay.jsonl" 2>&1) &&
		grep -q '"tree":{"exact":true' "$D/replay.jsonl"; then
		pass "the recording replays to the same states, trees included ($r)"
	else
		fail "replay of scenario rbtree" "$(cat "$D/replay.err") $r"
	fi
else
	fail "scenario rbtree (run)" "$(cat "$OUT/rbtree.err")"
fi

# the TUI (tmux), replaying that recording: 't' in the instance view draws
# the tree where it fits, the list where not; mono adds the letters
tui_tree() {	# name WxH theme row(g: the first, G: the last) -> screen in $OUT/tui-NAME.txt
	local s=et-tree-$$
	tmux kill-session -t "$s" 2>/dev/null
	tmux new-session -d -s "$s" -x "${2%x*}" -y "${2#*x}" \
		"'$ET' replay '$D/state.etr' --theme $3; sleep 5" || return 1
	sleep 1
	tmux send-keys -t "$s" End
	sleep 0.5
	# sorted by watched: the 40-item instance first
	tmux send-keys -t "$s" s
	sleep 0.3
	tmux send-keys -t "$s" "$4"
	sleep 0.3
	tmux send-keys -t "$s" Enter
	sleep 0.5
	tmux send-keys -t "$s" t
	sleep 0.7
	tmux capture-pane -t "$s" -p >"$OUT/tui-$1.txt"
	tmux send-keys -t "$s" q
	sleep 0.3
	tmux kill-session -t "$s" 2>/dev/null
}
if [ -s "$D/state.etr" ] && command -v tmux >/dev/null; then
	tui_tree wide 200x50 dark g
	if grep -q "rbr: 40 epitems, as a tree" "$OUT/tui-wide.txt" &&
		[ "$(grep -c "order: the kernel's (file, fd) key" "$OUT/tui-wide.txt")" = 1 ] &&
		grep -q "┴" "$OUT/tui-wide.txt"; then
		pass "TUI 200x50: 't' draws the 40 items as a tree, the order said once"
	else
		fail "TUI 200x50: the tree" "$(head -n 12 "$OUT/tui-wide.txt")"
	fi
	tui_tree narrow 80x24 dark g
	if grep -q "rbr: 40 epitems, tree order" "$OUT/tui-narrow.txt" &&
		! grep -q "order: the kernel's" "$OUT/tui-narrow.txt"; then
		pass "TUI 80x24: a tree too large for the pane, the list"
	else
		fail "TUI 80x24: the list" "$(head -n 12 "$OUT/tui-narrow.txt")"
	fi
	tui_tree mono 80x24 mono G
	if grep -q "rbr: 3 epitems, as a tree" "$OUT/tui-mono.txt" &&
		grep -Eq "[0-9]+B" "$OUT/tui-mono.txt" && grep -Eq "[0-9]+R" "$OUT/tui-mono.txt"; then
		pass "TUI mono: red and black by a letter too"
	else
		fail "TUI mono: letters" "$(head -n 12 "$OUT/tui-mono.txt")"
	fi
fi

# stale, live: snapshots far apart (60 s); the seed shows 3 items, then an
# ADD comes: the state keeps the seed's shape and says it is stale
python3 - "$OUT/stale.txt" <<'PY' &
import os, select, signal, sys, time
ep = select.epoll()
fds = [os.eventfd(0, os.EFD_NONBLOCK) for _ in range(4)]
for fd in fds[:3]:
    ep.register(fd, select.EPOLLIN)
go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
open(sys.argv[1], "w").write(f"{os.getpid()} {ep.fileno()}\n")
while not go:
    time.sleep(0.05)
ep.register(fds[3], select.EPOLLIN)
while True:
    time.sleep(1)
PY
PY=$!
for _ in $(seq 100); do [ -s "$OUT/stale.txt" ] && break; sleep 0.1; done
read -r spid sepfd <"$OUT/stale.txt"
"$ET" -p "$spid" --json-state -i 0.2 --attach=tracepoint --snapshot-interval 60 \
	>"$OUT/stale.jsonl" 2>"$OUT/stale.err" &
SP=$!
for _ in $(seq 100); do grep -q '"tree":{' "$OUT/stale.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -USR1 "$PY"
for _ in $(seq 100); do grep -q '"stale":true' "$OUT/stale.jsonl" 2>/dev/null && break; sleep 0.1; done
kill -INT "$SP"
wait "$SP"
SP=
kill "$PY"
wait "$PY" 2>/dev/null
PY=
if r=$(python3 - "$OUT/stale.jsonl" "$sepfd" 2>&1 <<'PY'
import json, sys
seen = []
for l in open(sys.argv[1]):
    o = json.loads(l)
    for i in o["instances"]:
        if i["epfd"] == int(sys.argv[2]) and i["tree"] is not None:
            seen.append((i["watched"], len(i["tree"]["nodes"]), i["tree"]["stale"], o["final"]))
assert seen and seen[0][:3] == (3, 3, False), seen[:2]
st = [s for s in seen if s[2]]
assert st and st[0][:2] == (4, 3), ("no stale state of 4 watched, 3 nodes", seen)
assert seen[-1] == (4, 4, False, True), ("the final snapshot: fresh, 4 nodes", seen[-1])
print(f"seed 3 nodes, after the ADD {len(st)} stale state(s) with the old 3, the final 4")
PY
); then
	pass "stale: $r"
else
	fail "stale between snapshots" "$r $(cat "$OUT/stale.err")"
fi

# the bound: ET_MAX_SHAPE_ITEMS (4096) items.  One eventfd dup'd into 4097
# fds; at SIGUSR1 one is removed.
ulimit -n 8192
python3 - "$OUT/big.txt" <<'PY' &
import os, select, signal, sys, time
e = os.eventfd(0, os.EFD_NONBLOCK)
ep = select.epoll()
fds = [e] + [os.dup(e) for _ in range(4096)]
for fd in fds:
    ep.register(fd, select.EPOLLIN)
go = []
signal.signal(signal.SIGUSR1, lambda *a: go.append(1))
open(sys.argv[1], "w").write(f"{os.getpid()} {ep.fileno()} {len(fds)}\n")
while not go:
    time.sleep(0.05)
ep.unregister(fds[-1])
open(sys.argv[1], "a").write("4096\n")
while True:
    time.sleep(1)
PY
PY=$!
for _ in $(seq 200); do [ -s "$OUT/big.txt" ] && break; sleep 0.1; done
read -r bpid bepfd _ <"$OUT/big.txt"
"$ET" -p "$bpid" --json-state -i 0.3 --attach=tracepoint --snapshot-interval 0.3 \
	>"$OUT/big.jsonl" 2>"$OUT/big.err" &
SP=$!
# tree_of N: the tree of the instance once it has N items, from the newest state
tree_of() {
	tail -n 2 "$OUT/big.jsonl" >"$OUT/big-last.jsonl"
	python3 - "$OUT/big-last.jsonl" "$bepfd" "$1" 2>/dev/null <<'PY'
import json, sys
last = None
for l in open(sys.argv[1]):
    try:
        o = json.loads(l)
    except ValueError:
        continue
    for i in o.get("instances", []):
        # the field must be there: null says "no shape", absent says nothing
        if i["epfd"] == int(sys.argv[2]) and i["watched"] == int(sys.argv[3]) and \
                "tree" in i and \
                (i["tree"] is None or (i["tree"]["exact"] and not i["tree"]["stale"])):
            last = i
if last is None:
    sys.exit(1)
json.dump({"instances": [last], "type": "state"}, sys.stdout)
PY
}
for _ in $(seq 150); do tree_of 4097 >"$OUT/big-4097.json" && break; sleep 0.1; done
if python3 -c 'import json,sys; i=json.load(open(sys.argv[1]))["instances"][0]
assert i["tree"] is None, "a tree of %d nodes" % len(i["tree"]["nodes"])' \
	"$OUT/big-4097.json" 2>"$OUT/big.check"; then
	pass "4097 items: no shape (tree null), the list stays"
else
	fail "4097 items: no shape" "$(cat "$OUT/big.check" "$OUT/big.err")"
fi
kill -USR1 "$PY"
for _ in $(seq 150); do tree_of 4096 >"$OUT/big-4096.json" &&
	grep -q '"tree": {' "$OUT/big-4096.json" && break; sleep 0.1; done
sh "$T/fdinfo.sh" "$bpid" >"$OUT/big-fdinfo.txt"
echo "{\"t\":\"scenario\",\"pid\":$bpid}" >"$OUT/big-truth.jsonl"
if r=$(python3 "$T/check_tree.py" "$OUT/big-4096.json" "$OUT/big-fdinfo.txt" \
	"$OUT/big-truth.jsonl" --min-nodes 4096 2>&1); then
	pass "4096 items: $r"
else
	fail "4096 items: the shape" "$r $(cat "$OUT/big.err")"
fi
exit 0
