#!/bin/bash
# Files and first contact: a fresh machine (tracefs not mounted) and an
# unprivileged user; what epolltrace writes (record -o, -w, export -o,
# demo --truth: symlinks, --force, mode 0600, never over the input, the
# old file kept when a session fails); recordings cut at every offset near
# the end; FIFOs, directories and devices given as recordings.
# Prints one line per check: "PASS name" or "FAIL name :: detail";
# tests/run-all.sh counts them.
#
# The fresh machine is made without touching the host's mounts: each such
# check runs in a private mount namespace (unshare -m) where tracefs (and
# debugfs, which would mount it again by itself) is unmounted, or mounted
# anew for the "mounted" variant.  So nothing here depends on what an
# earlier run left mounted, and nothing here leaves a mount behind.
#
# usage: files.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS files: $1"; }
fail() { echo "FAIL files: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
NOBODY=(setpriv --reuid=65534 --regid=65534 --clear-groups)

# ns STATE CMD...: CMD in a private mount namespace where tracefs is
# unmounted (STATE fresh: a just-booted machine) or mounted (STATE
# mounted).  Exit 99 if the namespace could not be set up.
ns() {
	unshare -m --propagation private sh -c '
		state=$1; shift
		for m in /sys/kernel/debug/tracing /sys/kernel/tracing /sys/kernel/debug; do
			while mountpoint -q "$m" 2>/dev/null; do umount -l "$m" || exit 99; done
		done
		grep -q " - tracefs " /proc/self/mountinfo && exit 99
		if [ "$state" = mounted ]; then
			mount -t tracefs nodev /sys/kernel/tracing || exit 99
		fi
		exec "$@"' sh "$@"
}

host_mounts() { grep -E " - (tracefs|debugfs|bpf) " /proc/self/mountinfo | awk '{print $5, $9}' | sort; }
host_before=$(host_mounts)

# ---- first contact: privileges decided before anything is mounted ----------
# one line on stderr naming the fix, nothing on stdout, non-zero exit
one_line() {	# name pattern out err rc
	if [ "$5" = 99 ]; then
		fail "$1" "the private mount namespace could not be set up"
	elif [ "$5" -ne 0 ] && [ "$(wc -l <"$4")" = 1 ] && grep -q -- "$2" "$4" && [ ! -s "$3" ]; then
		pass "$1"
	else
		fail "$1" "exit $5; stderr: $(head -c 300 "$4"); stdout: $(head -c 100 "$3")"
	fi
}
# a directory the unprivileged user may write in: only the privileges are missing
PUB=$OUT/pub
mkdir -p "$PUB"
chmod 1777 "$PUB"
for state in mounted fresh; do
	ns $state "${NOBODY[@]}" "$ET" -p 1 --json >"$OUT/np-$state.out" 2>"$OUT/np-$state.err"
	one_line "unprivileged, tracefs $state: one line, the privilege fix" "run as root" \
		"$OUT/np-$state.out" "$OUT/np-$state.err" $?
	ns $state "${NOBODY[@]}" "$ET" record -o "$PUB/np-$state.etr" -p 1 \
		>"$OUT/npr-$state.out" 2>"$OUT/npr-$state.err"
	one_line "unprivileged record, tracefs $state: one line, no file left" "run as root" \
		"$OUT/npr-$state.out" "$OUT/npr-$state.err" $?
	[ -z "$(ls -A "$PUB")" ] || fail "unprivileged record, tracefs $state: files left" "$(ls -A "$PUB")"
done

# root on a fresh machine mounts tracefs itself (in the namespace only)
ns fresh sh -c '"$0" probes >"$1/fresh-probes.txt" 2>&1; echo $? >"$1/fresh-probes.rc"
	grep -q " - tracefs " /proc/self/mountinfo && echo mounted >"$1/fresh-probes.mnt"' "$ET" "$OUT"
if [ "$(cat "$OUT/fresh-probes.rc" 2>/dev/null)" = 0 ] &&
	grep -q "result: a full mode works" "$OUT/fresh-probes.txt" && [ -s "$OUT/fresh-probes.mnt" ]; then
	pass "root, fresh machine: epolltrace mounts tracefs itself and a full mode works"
else
	fail "root, fresh machine: probes" "rc $(cat "$OUT/fresh-probes.rc" 2>/dev/null): $(tail -n 3 "$OUT/fresh-probes.txt" 2>/dev/null)"
fi

# privileged but unable to mount (no CAP_SYS_ADMIN, still CAP_BPF and
# CAP_PERFMON): the one line says what to run
ns fresh setpriv --inh-caps=-sys_admin --bounding-set=-sys_admin "$ET" -p 1 --json \
	>"$OUT/nomount.out" 2>"$OUT/nomount.err"
one_line "no CAP_SYS_ADMIN, tracefs not mounted: one line with the mount command" \
	"run: mount -t tracefs nodev /sys/kernel/tracing" "$OUT/nomount.out" "$OUT/nomount.err" $?
if grep -q "CONFIG_FTRACE_SYSCALLS" "$OUT/nomount.err"; then
	fail "no CAP_SYS_ADMIN: the kernel config is not blamed" "$(cat "$OUT/nomount.err")"
else
	pass "no CAP_SYS_ADMIN: the kernel config is not blamed"
fi

# ---- probes without privileges: what could not be checked says so ----------
for state in mounted fresh; do
	ns $state "${NOBODY[@]}" "$ET" probes >"$OUT/probes-np-$state.txt" 2>"$OUT/probes-np-$state.err"
	rc=$?
	t=$OUT/probes-np-$state.txt
	# hook rows: name, USING, FIDELITY; none may claim a rung or a fidelity
	claimed=$(awk '/^HOOK/{h=1; next} /^$/{h=0} h && /^[a-z_]+ /{print}' "$t" |
		awk '$2 != "?" && $2 != "-"')
	if [ $rc -ne 0 ] && grep -q "not checked: needs root" "$t" && [ -z "$claimed" ] &&
		! grep -q "CONFIG_FTRACE_SYSCALLS" "$t" && grep -q "^result: not checked: needs root" "$t" &&
		[ "$(wc -l <"$OUT/probes-np-$state.err")" = 1 ] &&
		grep -q "run as root" "$OUT/probes-np-$state.err"; then
		pass "probes unprivileged, tracefs $state: 'not checked: needs root', nothing claimed"
	else
		fail "probes unprivileged, tracefs $state" "rc $rc; claimed: $claimed; $(grep -E 'FTRACE|result' "$t")"
	fi
	ns $state "${NOBODY[@]}" "$ET" probes --json >"$OUT/probes-np-$state.json" 2>/dev/null
	if python3 - "$OUT/probes-np-$state.json" >"$OUT/probes-np-$state.check" 2>&1 <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["checked"] is False and p["ok"] is False, (p.get("checked"), p["ok"])
assert "run as root" in p["fix"], p["fix"]
for h in p["hooks"]:
    assert h["fidelity"] != "exact" and h["using"] is None, h
    for t in h["tried"]:
        assert not t["chosen"], t
        assert "FTRACE_SYSCALLS" not in t.get("rejected", ""), t
        assert "rejected" in t or t.get("unchecked") == "not checked: needs root", t
assert any(t.get("unchecked") for h in p["hooks"] for t in h["tried"]), "nothing unchecked"
assert all(v["fidelity"] is None and v["from"] == "not checked: needs root" for v in p["views"])
PY
	then
		pass "probes --json unprivileged, tracefs $state: checked false, nulls, unchecked rungs"
	else
		fail "probes --json unprivileged, tracefs $state" "$(tail -n 2 "$OUT/probes-np-$state.check")"
	fi
done

# ---- a recording to work on --------------------------------------------------
D=$OUT/w
rm -rf "$D"
mkdir -p "$D"
REC=$D/good.etr
"$ET" record --attach=tracepoint -o "$REC" -- "$ET" demo --scenario lt-et >/dev/null 2>"$D/good.err"
if [ ! -s "$REC" ] || ! "$ET" info "$REC" 2>/dev/null | grep -q "^complete  *yes"; then
	fail "a recording to start from" "$(cat "$D/good.err")"
	exit 0
fi
size=$(stat -c %s "$REC")
cp "$REC" "$D/keep.etr"
# no temporaries left: nothing but what the checks made themselves
temps() { find "$D" -name '.*.??????' | head -n 3; }
# same FILE: still byte for byte the recording
intact() { cmp -s "$1" "$D/keep.etr"; }

# ---- export: never over its input, never through a link, --force, 0600 ------
# expect NAME PATTERN CMD...: exit 1, one line matching PATTERN
expect() {
	local name=$1 pat=$2
	shift 2
	"$@" >"$D/x.out" 2>"$D/x.err"
	local rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$D/x.err")" = 1 ] && grep -q -- "$pat" "$D/x.err"; then
		return 0
	fi
	fail "$name" "exit $rc; stderr: $(head -c 300 "$D/x.err")"
	return 1
}
cp "$REC" "$D/in.etr"
expect "export -o its own input" "is the input file" \
	"$ET" export "$D/in.etr" --format chrome -o "$D/in.etr" --force &&
	{ cmp -s "$D/in.etr" "$REC" && pass "export -o its own input: refused, the input intact" ||
		fail "export -o its own input" "the input changed"; }
ln "$D/in.etr" "$D/hard.etr"
expect "export -o a hard link to its input" "is the input file" \
	"$ET" export "$D/in.etr" --format chrome -o "$D/hard.etr" --force &&
	{ cmp -s "$D/in.etr" "$REC" && pass "export -o a hard link of its input: refused, intact" ||
		fail "export -o a hard link of its input" "the input changed"; }
ln -s in.etr "$D/sym.etr"
expect "export from a symlink to its output" "is the input file" \
	"$ET" export "$D/sym.etr" --format jsonl -o "$D/in.etr" --force &&
	{ cmp -s "$D/in.etr" "$REC" && pass "export from a symlink onto the file it names: refused" ||
		fail "export from a symlink onto the file it names" "the input changed"; }
expect "export -o a symlink to its input" "symbolic link" \
	"$ET" export "$D/in.etr" --format chrome -o "$D/sym.etr" --force &&
	{ cmp -s "$D/in.etr" "$REC" && pass "export -o a symlink to its input: refused" ||
		fail "export -o a symlink to its input" "the input changed"; }
ln -s "$D/victim" "$D/planted.json"
expect "export -o a symlink" "symbolic link" \
	"$ET" export "$REC" --format jsonl -o "$D/planted.json" --force &&
	{ [ ! -e "$D/victim" ] && pass "export -o a symlink: refused even with --force, nothing written" ||
		fail "export -o a symlink" "the link's target was written"; }
"$ET" export "$REC" --format jsonl -o "$D/out.jsonl" 2>"$D/x.err"
if [ $? -eq 0 ] && [ "$(stat -c %a "$D/out.jsonl")" = 600 ] &&
	cmp -s "$D/out.jsonl" <("$ET" replay "$REC" --json 2>/dev/null); then
	pass "export -o NEW: mode 0600, the same stream as replay --json"
else
	fail "export -o NEW" "$(stat -c %a "$D/out.jsonl" 2>&1) $(cat "$D/x.err")"
fi
echo "old data" >"$D/out.jsonl"
chmod 644 "$D/out.jsonl"
expect "export -o an existing file without --force" "exists; use --force" \
	"$ET" export "$REC" --format jsonl -o "$D/out.jsonl" &&
	{ [ "$(cat "$D/out.jsonl")" = "old data" ] &&
		pass "export -o an existing file: refused without --force, the file intact" ||
		fail "export -o an existing file" "the file changed"; }
"$ET" export "$REC" --format chrome -o "$D/out.jsonl" --force 2>"$D/x.err"
if [ $? -eq 0 ] && [ "$(stat -c %a "$D/out.jsonl")" = 600 ] &&
	python3 -c 'import json,sys; json.load(open(sys.argv[1]))["traceEvents"]' "$D/out.jsonl"; then
	pass "export --force over a 0644 file: replaced, mode 0600"
else
	fail "export --force over a 0644 file" "$(stat -c %a "$D/out.jsonl") $(cat "$D/x.err")"
fi
expect "export -o /dev/full" "No space left on device" \
	"$ET" export "$REC" --format jsonl -o /dev/full && pass "export -o /dev/full: ENOSPC, in place"
if "$ET" export "$REC" --format jsonl -o /dev/null 2>"$D/x.err" && [ ! -s "$D/x.err" ]; then
	pass "export -o /dev/null: a device is written in place, no --force needed"
else
	fail "export -o /dev/null" "$(cat "$D/x.err")"
fi
[ -z "$(temps)" ] && pass "export: no temporary file left" || fail "export: temporaries left" "$(temps)"

# ---- record: checked first, the old file kept when the session fails --------
cp "$REC" "$D/old.etr"
chmod 644 "$D/old.etr"
"$ET" record -o "$D/old.etr" --force -p 99999999 >/dev/null 2>"$D/x.err"
rc=$?
if [ $rc -ne 0 ] && intact "$D/old.etr" && [ "$(stat -c %a "$D/old.etr")" = 644 ] &&
	[ -z "$(temps)" ] && ! grep -q "recorded" "$D/x.err"; then
	pass "record --force -p NOPID: fails, the old recording intact, no temporary left"
else
	fail "record --force -p NOPID" "exit $rc; $(stat -c '%s bytes %a' "$D/old.etr"); $(temps); $(cat "$D/x.err")"
fi
"$ET" -w "$D/old.etr" --force --json -p 99999999 >/dev/null 2>"$D/x.err"
if [ $? -ne 0 ] && intact "$D/old.etr" && [ -z "$(temps)" ]; then
	pass "-w OLD --force -p NOPID: the old recording intact"
else
	fail "-w OLD --force -p NOPID" "$(stat -c '%s bytes' "$D/old.etr"); $(cat "$D/x.err")"
fi
# an attach that fails (no privileges) after the file was opened
cp "$D/old.etr" "$D/np.etr"
chmod 666 "$D/np.etr"
chmod 777 "$D"
"${NOBODY[@]}" "$ET" record -o "$D/np.etr" --force -p 1 >/dev/null 2>"$D/x.err"
chmod 755 "$D"
if intact "$D/np.etr" && [ -z "$(temps)" ]; then
	pass "record --force, attach refused: the old recording intact"
else
	fail "record --force, attach refused" "$(stat -c '%s bytes' "$D/np.etr"); $(cat "$D/x.err")"
fi
"$ET" record --attach=tracepoint -o "$D/old.etr" --force -- "$ET" demo --scenario oneshot \
	>/dev/null 2>"$D/x.err"
if [ $? -eq 0 ] && [ "$(stat -c %a "$D/old.etr")" = 600 ] && ! intact "$D/old.etr" &&
	"$ET" info "$D/old.etr" 2>/dev/null | grep -q "^complete  *yes"; then
	pass "record --force over a 0644 recording: replaced, complete, mode 0600"
else
	fail "record --force over a 0644 recording" "$(stat -c %a "$D/old.etr"); $(cat "$D/x.err")"
fi

# Ctrl-C mid-record: what was recorded is kept, and complete
rm -f "$D/int.etr"
"$ET" record --attach=tracepoint -o "$D/int.etr" -- sleep 60 >/dev/null 2>"$D/int.err" &
rp=$!
pids+=("$rp")
for _ in $(seq 300); do [ -s "$D/int.etr" ] && break; sleep 0.1; done
kill -INT $rp
wait $rp
rc=$?
if [ $rc -eq 0 ] && "$ET" info "$D/int.etr" 2>/dev/null | grep -q "^complete  *yes"; then
	pass "record, Ctrl-C: the recording is kept and complete"
else
	fail "record, Ctrl-C" "exit $rc; $(cat "$D/int.err")"
fi
# killed outright: the recording is at its path, readable up to its last block
rm -f "$D/kill.etr"
"$ET" record --attach=tracepoint -o "$D/kill.etr" -- sleep 60 >/dev/null 2>"$D/kill.err" &
rp=$!
pids+=("$rp")
for _ in $(seq 300); do [ -s "$D/kill.etr" ] && break; sleep 0.1; done
kids=$(pgrep -P $rp)	# the traced command: once its tracer is killed, nobody stops it
kill -9 $rp $kids
wait $rp 2>/dev/null
if "$ET" replay "$D/kill.etr" --json >/dev/null 2>"$D/kill-replay.err" &&
	"$ET" info "$D/kill.etr" 2>/dev/null | grep -q "^complete  *no"; then
	pass "record, SIGKILL: the recording is at its path, readable, 'complete no'"
else
	fail "record, SIGKILL" "$(ls -la "$D" | grep kill); $(cat "$D/kill-replay.err")"
fi
find "$D" -name '.*.??????' -delete	# the kill's temporary, if it came before the first block

# ---- demo --truth: the same rules ------------------------------------------------
echo "old truth" >"$D/truth.jsonl"
chmod 644 "$D/truth.jsonl"
expect "demo --truth over an existing file" "exists; use --force" \
	"$ET" demo --scenario lt-et --truth "$D/truth.jsonl" &&
	{ [ "$(cat "$D/truth.jsonl")" = "old truth" ] &&
		pass "demo --truth EXISTING: refused without --force, intact" ||
		fail "demo --truth EXISTING" "the file changed"; }
ln -s "$D/truth-victim" "$D/truth-link"
expect "demo --truth through a symlink" "symbolic link" \
	"$ET" demo --scenario lt-et --truth "$D/truth-link" --force &&
	{ [ ! -e "$D/truth-victim" ] && pass "demo --truth SYMLINK: refused even with --force" ||
		fail "demo --truth SYMLINK" "the link's target was written"; }
"$ET" demo --scenario lt-et --truth "$D/truth.jsonl" --force >/dev/null 2>"$D/x.err"
if [ $? -eq 0 ] && [ "$(stat -c %a "$D/truth.jsonl")" = 600 ] &&
	grep -q '"t":"done"' "$D/truth.jsonl"; then
	pass "demo --truth --force over a 0644 file: replaced, mode 0600"
else
	fail "demo --truth --force" "$(stat -c %a "$D/truth.jsonl") $(cat "$D/x.err")"
fi
[ -z "$(temps)" ] && pass "record, -w, demo --truth: no temporary file left" ||
	fail "temporaries left" "$(temps)"

# ---- a cut anywhere is a cut -------------------------------------------------------
bad=""
nyes=0
for off in $(seq $((size - 64)) $((size - 1))) $(seq 0 $((size / 37 + 1)) $((size - 65))); do
	[ "$off" -lt 0 ] && continue
	head -c "$off" "$REC" >"$D/cut.etr"
	"$ET" info "$D/cut.etr" >"$D/cut.txt" 2>"$D/cut.err"
	rc=$?
	if grep -q "^complete  *yes" "$D/cut.txt"; then
		nyes=$((nyes + 1))
		bad="$bad $off"
	elif [ $rc -eq 0 ] && ! grep -q "^complete  *no" "$D/cut.txt"; then
		bad="$bad $off(no-line)"
	elif [ $rc -ne 0 ] && ! grep -q "offset" "$D/cut.err"; then
		bad="$bad $off(rc$rc)"
	fi
done
if [ -z "$bad" ]; then
	pass "info: cut at each of the last 64 offsets and 37 others: never 'complete yes'"
else
	fail "info on cut recordings" "$nyes said complete yes; offsets (of $size):$bad"
fi
bad=""
for k in 1 2 3 4 5 6; do
	head -c $((size - k)) "$REC" >"$D/cut.etr"
	"$ET" replay "$D/cut.etr" --json >/dev/null 2>"$D/cut.err"
	grep -q "cut off" "$D/cut.err" || bad="$bad $k"
done
[ -z "$bad" ] && pass "replay: the last 1 to 6 bytes cut: warned as cut off" ||
	fail "replay of a file cut by a few bytes: no warning" "bytes cut:$bad"

# ---- not a regular file: refused at once, with its type --------------------------
mkfifo "$D/fifo"
for sub in replay info export; do
	args=("$D/fifo")
	[ $sub = replay ] && args+=(--json)
	[ $sub = export ] && args+=(--format jsonl)
	timeout 20 "$ET" $sub "${args[@]}" >"$D/x.out" 2>"$D/x.err"
	rc=$?
	if [ $rc -ne 124 ] && [ $rc -ne 0 ] && [ "$(wc -l <"$D/x.err")" = 1 ] &&
		grep -q "is a FIFO" "$D/x.err" && [ ! -s "$D/x.out" ]; then
		pass "$sub FIFO (no writer): refused at once, naming the type"
	else
		fail "$sub FIFO" "exit $rc (124: hung); $(cat "$D/x.err")"
	fi
done
expect "replay a directory" "is a directory" "$ET" replay "$D" --json &&
	pass "replay DIRECTORY: one line naming the type"
expect "info a character device" "is a character device" timeout 20 "$ET" info /dev/zero &&
	pass "info /dev/zero: one line naming the type"

[ "$(host_mounts)" = "$host_before" ] && pass "the host's tracefs, debugfs and bpffs mounts unchanged" ||
	fail "the host's mounts changed" "before: $host_before; after: $(host_mounts)"
exit 0
