#!/bin/bash
# The detectors on the stock Debian kernels (6.1, 6.12) under QEMU, where
# fentry and kprobes work (callbacks seen): the demo scenarios traced with
# --json in each of VM_DETECT_MODES give the findings tests/detect.sh
# expects on the host, and a small static program that keeps a registered
# fd's file open through a dup after closing the fd is found stale by the
# snapshot iterator's fd check (its twin, which keeps the fd, is not).
# About 45 s of TCG per kernel with two modes (2026-12-01, this 2-core
# host, shared).  Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: detect_vm.sh EPOLLTRACE OUTDIR
# Environment: VM_CACHE (the kernels, as tests/run-all.sh), VM_KERNELS,
# VM_DETECT_MODES (default "fentry kprobe").  The guest runs
# build/epolltrace.static, beside EPOLLTRACE.
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
ROOT=$(dirname "$D")
STATIC=$(dirname "$ET")/build/epolltrace.static
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
VM_KERNELS=${VM_KERNELS-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
VM_DETECT_MODES=${VM_DETECT_MODES:-"fentry kprobe"}
SCENARIOS="close-watched threads exclusive lt-et"
rm -rf "$OUT"
mkdir -p "$OUT/bin"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS detect vm: $*"; }
fail() { echo "FAIL detect vm: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }

if [ ! -x "$STATIC" ]; then
	fail "the static binary" "$STATIC is missing (make static)"
	exit 0
fi
cp "$STATIC" "$OUT/bin/epolltrace"
# stale 1: the registered fd closed, its file kept by a dup; stale 0: kept open
cat >"$OUT/stale.c" <<'EOF'
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev = { .events = EPOLLIN };

	if (argc < 2 || ep < 0 || pipe(p))
		return 1;
	ev.data.fd = p[0];
	if (epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev))
		return 1;
	if (atoi(argv[1])) {
		if (dup(p[0]) < 0)
			return 1;
		close(p[0]);
	}
	sleep(3);
	return 0;
}
EOF
if ! gcc -static -O2 -o "$OUT/bin/stale" "$OUT/stale.c" 2>"$OUT/stale.build"; then
	fail "the static stale program builds" "$(cat "$OUT/stale.build")"
	exit 0
fi
cat >"$OUT/guest.sh" <<EOF
#!/bin/sh
for mode in $VM_DETECT_MODES; do
	for sc in $SCENARIOS; do
		/bin/epolltrace --attach \$mode --json -- /bin/epolltrace demo --scenario \$sc \
			>/out/\$mode-\$sc.jsonl 2>/out/\$mode-\$sc.err
		echo \$? >/out/\$mode-\$sc.rc
	done
	/bin/epolltrace --attach \$mode --json -- /bin/epolltrace demo --scenario exclusive \
		--scale 20 >/out/\$mode-exclusive20.jsonl 2>/out/\$mode-exclusive20.err
	echo \$? >/out/\$mode-exclusive20.rc
	for k in 1 0; do
		/bin/epolltrace --attach \$mode --snapshot-interval 0.3 --json -- /bin/stale \$k \
			>/out/\$mode-stale\$k.jsonl 2>/out/\$mode-stale\$k.err
		echo \$? >/out/\$mode-stale\$k.rc
	done
done
EOF

# found DIR NAME: "detector" per finding record of NAME.jsonl, sorted, unique
found() {
	grep -o '"type":"finding","detector":"[a-z-]*"' "$1/$2.jsonl" 2>/dev/null |
		sed 's/.*"detector":"//; s/"$//' | sort -u | tr '\n' ' '
}

for pkg in $VM_KERNELS; do
	vmlinuz=$("$D/vm/fetch-kernel.sh" "$VM_CACHE" "$pkg" 2>"$OUT/fetch-$pkg.err")
	if [ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ]; then
		fail "$pkg: fetch kernel" "$(cat "$OUT/fetch-$pkg.err")"
		continue
	fi
	kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	G=$OUT/$kver
	if ! "$D/vm/run-guest.sh" --timeout "${VM_TIMEOUT:-600}" "$vmlinuz" "$OUT/guest.sh" "$G" \
		"$OUT/bin/epolltrace" "$OUT/bin/stale" >"$OUT/$kver.log" 2>&1; then
		fail "$kver: guest run" "$(tail -n 5 "$OUT/$kver.log")"
		continue
	fi
	for mode in $VM_DETECT_MODES; do
		for run in $SCENARIOS exclusive20 stale1 stale0; do
			if [ "$(cat "$G/$mode-$run.rc" 2>/dev/null)" != 0 ]; then
				fail "$kver $mode $run: traced" "$(tail -n 3 "$G/$mode-$run.err")"
				continue
			fi
			if ! grep -q "\"hook\":\"callback\",\"using\":\"$mode\"" "$G/$mode-$run.jsonl"; then
				fail "$kver $mode $run: callbacks by $mode" \
					"$(head -c 300 "$G/$mode-$run.jsonl")"
				continue
			fi
			f=" $(found "$G" "$mode-$run")"
			# what the scenario's behaviour decides, never what timing may
			case $run in
			close-watched|stale1) want=stale-registration none= ;;
			exclusive20) want=exclusive-imbalance none=lt-spin ;;
			threads) want= none="herd exclusive-imbalance lt-spin" ;;
			exclusive) want= none="herd exclusive-imbalance" ;;
			lt-et) want= none="lt-spin herd maxevents-saturation" ;;
			stale0) want= none=stale-registration ;;
			esac
			bad=
			[ -n "$want" ] && [ "${f/ $want /}" = "$f" ] && bad="no $want"
			for n in $none; do
				[ "${f/ $n /}" != "$f" ] && bad="$bad $n"
			done
			if [ -z "$bad" ]; then
				pass "$kver $mode $run: ${want:-no $none}"
			else
				fail "$kver $mode $run: ${want:-no $none}" "$bad (found:$f)"
			fi
		done
		if grep '"detector":"stale-registration"' "$G/$mode-stale1.jsonl" | head -n 1 |
			grep -q '"type":"snap_end","tid":null,"fd":[0-9]'; then
			pass "$kver $mode stale1: found by the snapshot iterator's fd check"
		else
			fail "$kver $mode stale1: found by the iterator" \
				"$(grep -m1 finding "$G/$mode-stale1.jsonl" | cut -c1-300)"
		fi
	done
done
exit 0
