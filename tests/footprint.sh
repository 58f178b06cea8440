#!/bin/bash
# Snapshots through the iterator's own output (issue 11, footprint): a
# picture larger than one read of the iterator (the kernel's seq buffer,
# PAGE_SIZE << 3) is written over several shows and comes out whole, equal
# to /proc/PID/fdinfo; the recording carries the same snapshots; no
# snapshot ring is mapped; instances that come and go while their picture
# is half-written leave well-formed snapshots.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: footprint.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS footprint: $1"; }
fail() { echo "FAIL footprint: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

# The workload: instances of N eventfds, the first R of them made ready
# (level-triggered, never read: they stay on rdllist), and one idle
# instance with S threads asleep in epoll_wait.  Prints one JSON line.
cat >"$OUT/wl.py" <<'PY'
import json, os, resource, select, signal, sys, threading, time
mode = sys.argv[1]
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))

def instance(n, nready):
    ep = select.epoll()
    fds = [os.eventfd(0) for _ in range(n)]
    for fd in fds:
        ep.register(fd, select.EPOLLIN)
    for fd in fds[:nready]:
        os.eventfd_write(fd, 1)
    return ep, fds

if mode == "big":
    keep = []
    info = {"pid": os.getpid(), "inst": []}
    for spec in sys.argv[2:-1]:
        n, r = map(int, spec.split(":"))
        ep, fds = instance(n, r)
        keep.append((ep, fds))
        info["inst"].append({"epfd": ep.fileno(), "n": n, "ready": fds[:r]})
    idle = select.epoll()
    rd, wr = os.pipe()
    idle.register(rd, select.EPOLLIN)
    tids = []
    lock = threading.Lock()
    def sleeper():
        with lock:
            tids.append(threading.get_native_id())
        idle.poll(-1)
    for _ in range(int(sys.argv[-1])):
        threading.Thread(target=sleeper, daemon=True).start()
    time.sleep(0.3)
    info["idle"] = {"epfd": idle.fileno(), "tids": sorted(tids)}
    print(json.dumps(info), flush=True)
    signal.pause()
else:
    # churn: big instances made and closed, items added and removed,
    # while the tracer's rounds walk them
    print(json.dumps({"pid": os.getpid()}), flush=True)
    ep, fds = instance(4000, 0)
    end = time.time() + float(sys.argv[2])
    i = 0
    while time.time() < end:
        tmp, tfds = instance(3000, 100)
        time.sleep(0.01)
        tmp.close()
        for fd in tfds:
            os.close(fd)
        for fd in fds[i % 2000:i % 2000 + 200]:
            ep.unregister(fd)
        for fd in fds[i % 2000:i % 2000 + 200]:
            ep.register(fd, select.EPOLLIN)
        i += 200
    signal.pause()
PY

# the kernel's view: epfd -> [(tfd, events, data)] from fdinfo
fdinfo_json() {	# pid epfd...
	python3 - "$@" <<'PY'
import json, sys
pid, out = sys.argv[1], {}
for epfd in sys.argv[2:]:
    items = []
    for line in open(f"/proc/{pid}/fdinfo/{epfd}"):
        if line.startswith("tfd:"):
            w = line.split()
            items.append([int(w[1]), int(w[3], 16), int(w[5], 16)])
    out[epfd] = sorted(items)
print(json.dumps(out))
PY
}

# ---- large instances, live and recorded ------------------------------------
exec 8< <(exec python3 "$OUT/wl.py" big 12000:7000 5000:0 3)
read -r -t 30 info <&8
WPID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "${info:-{\}}" \
	2>/dev/null)
if [ -z "$WPID" ]; then
	fail "workload" "did not start"
	exit 0
fi
PIDS+=("$WPID")
echo "$info" >"$OUT/big.info"
EPFDS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1]))
print(" ".join(str(i["epfd"]) for i in d["inst"]), d["idle"]["epfd"])' "$OUT/big.info")
# shellcheck disable=SC2086
fdinfo_json "$WPID" $EPFDS >"$OUT/big.fdinfo"
"$ET" -p "$WPID" --json -d 2.5 --snapshot-interval 0.5 -w "$OUT/big.etr" \
	>"$OUT/big.jsonl" 2>"$OUT/big.err"
rc=$?
"$ET" replay "$OUT/big.etr" --json >"$OUT/big-replay.jsonl" 2>"$OUT/big-replay.err"
rrc=$?
# the workload did not change while traced
# shellcheck disable=SC2086
fdinfo_json "$WPID" $EPFDS >"$OUT/big.fdinfo2"

python3 - "$OUT" "$rc" >"$OUT/big.check" 2>&1 <<'PY'
import json, sys
out, rc = sys.argv[1], int(sys.argv[2])
info = json.load(open(f"{out}/big.info"))
fdi = json.load(open(f"{out}/big.fdinfo"))
fdi2 = json.load(open(f"{out}/big.fdinfo2"))
err = open(f"{out}/big.err").read()
recs = [json.loads(l) for l in open(f"{out}/big.jsonl")]
snaps = [r for r in recs if r["type"] == "snapshot"]
rounds = [r for r in recs if r["type"] == "snap_round"]
res = []
def check(name, ok, detail=""):
    res.append((name, ok, detail))

check("tracer ran", rc == 0 and not err.strip() and fdi == fdi2, f"rc={rc} err={err[:200]}")
bad = [r for r in rounds if not r["complete"] or r["drops"] or r["instances"] != 3]
check(f"every round complete, 3 instances, no drops ({len(rounds)} rounds)",
      len(rounds) >= 3 and not bad, str(bad[:1]))
for inst in info["inst"]:
    epfd, n = inst["epfd"], inst["n"]
    mine = [s for s in snaps if s["epfd"] == epfd and s["owner"] == info["pid"]]
    want = fdi[str(epfd)]
    probs = []
    for s in mine:
        got = sorted([f["fd"], f["events"], f["data"]] for f in s["fds"])
        if got != want:
            probs.append(f"seq {s['seq']}: {len(got)} items, fdinfo {len(want)}")
        if s["watched"] != n or s["truncated"] or s["inexact"]:
            probs.append(f"seq {s['seq']}: watched {s['watched']} truncated {s['truncated']} "
                         f"{s['inexact']}")
        if s["ready"] != inst["ready"]:
            probs.append(f"seq {s['seq']}: ready {len(s['ready'])} of {len(inst['ready'])}, "
                         f"in order: {s['ready'][:3]} vs {inst['ready'][:3]}")
    check(f"{n} items, {len(inst['ready'])} ready: every snapshot equals fdinfo, "
          f"ready list in queue order ({len(mine)} snapshots)",
          len(mine) == len(rounds) and not probs, "; ".join(probs[:3]))
idle = info["idle"]
mine = [s for s in snaps if s["epfd"] == idle["epfd"]]
probs = [s["waiters"] for s in mine if sorted(s["waiters"]) != idle["tids"]]
check(f"the idle instance: its {len(idle['tids'])} sleepers in every snapshot",
      mine and not probs, f"{probs[:1]} vs {idle['tids']}")
# the recording carries the same snapshots (format unchanged end to end)
def key(s):
    return (s["seq"], s["ep"], json.dumps(s["fds"]), s["ready"], s["waiters"], s["watched"],
            s["truncated"], s["inexact"], s["scanning"])
rep = [json.loads(l) for l in open(f"{out}/big-replay.jsonl")]
rsnaps = [r for r in rep if r["type"] == "snapshot"]
check(f"replay of the recording: the same {len(snaps)} snapshots",
      [key(s) for s in snaps] == [key(s) for s in rsnaps],
      f"{len(rsnaps)} replayed")
for name, ok, detail in res:
    print(("PASS " if ok else "FAIL ") + name + ("" if ok else " :: " + detail))
PY
while IFS= read -r line; do
	case $line in
	PASS\ *) pass "${line#PASS }" ;;
	FAIL\ *) n=${line#FAIL }; fail "${n%% :: *}" "${n#* :: }" ;;
	*) fail "large instances (check)" "$(cat "$OUT/big.check")"; break ;;
	esac
done <"$OUT/big.check"
[ $rrc = 0 ] || fail "replay of the recording" "$(head -c 300 "$OUT/big-replay.err")"

# ---- no snapshot ring: the BPF maps mapped are the event ring's ------------
# --ring-size 1: the event ring maps 1 MiB twice; the .bss/.rodata maps are
# a few pages.  A 16 MiB snapshot ring mapped twice would add 32 MiB.
"$ET" -p "$WPID" --json --ring-size 1 -d 3 >/dev/null 2>"$OUT/maps.err" &
TP=$!
PIDS+=("$TP")
kb=
for _ in $(seq 50); do
	sleep 0.1
	grep -q bpf-map "/proc/$TP/maps" 2>/dev/null || continue
	sleep 0.5
	kb=$(awk '/^[0-9a-f]+-[0-9a-f]+ / { m = ($6 ~ /bpf-map/) } /^Rss:/ && m { s += $2 }
		END { print s + 0 }' "/proc/$TP/smaps")
	break
done
wait "$TP"
if [ -n "$kb" ] && [ "$kb" -le $((3 * 1024)) ]; then
	pass "no snapshot ring: BPF map mappings ${kb} kB with a 1 MiB event ring"
else
	fail "no snapshot ring" "BPF map mappings ${kb:-unknown} kB resident, at most 3072 expected"
fi
kill "$WPID" 2>/dev/null
exec 8<&-

# ---- a large instance in the highest fd of the newest process: where no
# newer process holds files, the iterator's last call comes right after the
# picture's first part, and must come again after the continuation (the
# QEMU guests, with no other process, always take this path) -----------------
cat >"$OUT/last.py" <<'PY'
import os, resource, select, time
h = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
resource.setrlimit(resource.RLIMIT_NOFILE, (h, h))
fds = [os.eventfd(0) for _ in range(3000)]
ep = select.epoll()		# after the eventfds: the highest fd
for fd in fds:
    ep.register(fd, select.EPOLLIN)
for fd in fds[:500]:
    os.eventfd_write(fd, 1)
time.sleep(2.5)
PY
"$ET" --json -- python3 "$OUT/last.py" >"$OUT/last.jsonl" 2>"$OUT/last.err"
rc=$?
if python3 - "$OUT/last.jsonl" >"$OUT/last.check" 2>&1 <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
snaps = [r for r in recs if r["type"] == "snapshot"]
rounds = [r for r in recs if r["type"] == "snap_round"]
assert len(snaps) >= 1, "no snapshot"
for s in snaps:
    assert s["watched"] == 3000 and len(s["fds"]) == 3000 and len(s["ready"]) == 500, \
        (s["seq"], s["watched"], len(s["fds"]), len(s["ready"]))
    assert not s["truncated"], s["inexact"]
    # the round's end comes after the picture, and counts it
    after = [r for r in rounds if r["seq"] == s["seq"]]
    assert after and after[0]["instances"] == 1 and after[0]["complete"], after
    assert recs.index(after[0]) > recs.index(s), "round end before the snapshot"
print(f"{len(snaps)} snapshots of 3000 items, 500 ready")
PY
then
	if [ $rc = 0 ] && ! grep -q . "$OUT/last.err"; then
		pass "the last file shown: whole pictures, then the round's end ($(cat "$OUT/last.check"))"
	else
		fail "the last file shown" "rc=$rc $(head -c 300 "$OUT/last.err")"
	fi
else
	fail "the last file shown" "$(tail -n 3 "$OUT/last.check")"
fi

# ---- churn: pictures of instances that change or go while half-written -------
exec 9< <(exec python3 "$OUT/wl.py" churn 4)
read -r -t 30 cinfo <&9
CPID=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pid"])' "${cinfo:-{\}}" \
	2>/dev/null)
if [ -z "$CPID" ]; then
	fail "churn workload" "did not start"
	exit 0
fi
PIDS+=("$CPID")
"$ET" -p "$CPID" --json -d 3 --snapshot-interval 0.1 >"$OUT/churn.jsonl" 2>"$OUT/churn.err"
rc=$?
kill "$CPID" 2>/dev/null
exec 9<&-
python3 - "$OUT/churn.jsonl" >"$OUT/churn.check" 2>&1 <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
snaps = [r for r in recs if r["type"] == "snapshot"]
rounds = [r for r in recs if r["type"] == "snap_round"]
assert len(rounds) >= 5, f"{len(rounds)} rounds"
assert all(r["complete"] and not r["drops"] for r in rounds), "a round incomplete"
big = [s for s in snaps if s["watched"] >= 3000]
assert big, "no large snapshot"
for s in snaps:
    # a picture is exact or says which part is not, never silently short
    if not s["truncated"]:
        assert len(s["fds"]) == s["watched"], (s["seq"], len(s["fds"]), s["watched"])
        assert not s["inexact"], s["inexact"]
    else:
        assert s["inexact"], s["seq"]
    assert len({f["fd"] for f in s["fds"]}) == len(s["fds"]), "an fd twice"
print(f"{len(rounds)} rounds, {len(snaps)} snapshots, {len(big)} of 3000+ items, "
      f"{sum(1 for s in snaps if s['truncated'])} flagged inexact")
PY
if [ $rc = 0 ] && [ $? = 0 ] && ! grep -q . "$OUT/churn.err" &&
	python3 -c 'import sys' && tail -n 1 "$OUT/churn.check" | grep -q rounds; then
	pass "instances made, changed and closed under the walks: well-formed pictures ($(tail -n 1 "$OUT/churn.check"))"
else
	fail "churn" "rc=$rc $(cat "$OUT/churn.err" "$OUT/churn.check" | tail -n 5)"
fi
