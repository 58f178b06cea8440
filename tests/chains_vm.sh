#!/bin/bash
# Where waiters wait, on a stock Debian kernel under QEMU where fentry and
# kprobes work (tests/chains.sh runs the host's tracepoint mode): the wait
# hook is then do_epoll_wait's fentry or kprobe, whose registers are the
# syscall's entry registers all the same (task_pt_regs).  tests/chain_load.c,
# static, with and without frame pointers, traced in each mode: the exact
# chain.  About 20 s of TCG per kernel (2026-12-01, this 2-core host, shared).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: chains_vm.sh EPOLLTRACE OUTDIR
# Environment: VM_CACHE (the kernels, as tests/run-all.sh), VM_KERNELS,
# VM_CHAIN_MODES (default "fentry kprobe").  The guest runs
# build/epolltrace.static, beside EPOLLTRACE.
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
ROOT=$(dirname "$D")
STATIC=$(dirname "$ET")/build/epolltrace.static
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
VM_KERNELS=${VM_KERNELS-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
VM_CHAIN_MODES=${VM_CHAIN_MODES:-"fentry kprobe"}
CHAIN="epoll_wait,chain_inner,chain_middle,chain_outer,main"
rm -rf "$OUT"
mkdir -p "$OUT/bin"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS chains vm: $*"; }
fail() { echo "FAIL chains vm: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }

if [ ! -x "$STATIC" ]; then
	fail "the static binary" "$STATIC is missing (make static)"
	exit 0
fi
cp "$STATIC" "$OUT/bin/epolltrace"
if ! gcc -static -g -O2 -fno-omit-frame-pointer "$D/chain_load.c" -o "$OUT/bin/load_fp" \
	2>"$OUT/build.err" ||
	! gcc -static -g -O2 -fomit-frame-pointer "$D/chain_load.c" -o "$OUT/bin/load_nofp" \
	2>>"$OUT/build.err"; then
	fail "the static workloads build" "$(cat "$OUT/build.err")"
	exit 0
fi
cat >"$OUT/guest.sh" <<EOF
#!/bin/sh
for mode in $VM_CHAIN_MODES; do
	for b in fp nofp; do
		/bin/epolltrace --json --attach=\$mode -- /bin/load_\$b 1 >/out/\$mode-\$b.jsonl \
			2>/out/\$mode-\$b.err
		echo \$? >/out/\$mode-\$b.rc
	done
done
EOF
for pkg in $VM_KERNELS; do
	vmlinuz=$("$D/vm/fetch-kernel.sh" "$VM_CACHE" "$pkg" 2>"$OUT/fetch-$pkg.err")
	if [ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ]; then
		fail "$pkg: fetch kernel" "$(cat "$OUT/fetch-$pkg.err")"
		continue
	fi
	kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	G=$OUT/$kver
	if ! "$D/vm/run-guest.sh" --timeout "${VM_TIMEOUT:-600}" "$vmlinuz" "$OUT/guest.sh" "$G" \
		"$OUT/bin/epolltrace" "$OUT/bin/load_fp" "$OUT/bin/load_nofp" >"$OUT/$kver.log" 2>&1
	then
		fail "$kver: guest run" "$(tail -n 5 "$OUT/$kver.log")"
		continue
	fi
	for mode in $VM_CHAIN_MODES; do
		for b in fp nofp; do
			name="$kver $mode, $b: the waiter's chain"
			if [ "$(cat "$G/$mode-$b.rc" 2>/dev/null)" != 0 ]; then
				fail "$name" "rc $(cat "$G/$mode-$b.rc" 2>/dev/null) \
					$(tail -n 3 "$G/$mode-$b.err" 2>/dev/null)"
			elif ! grep -q "\"src\":\"$mode\"" "$G/$mode-$b.jsonl"; then
				fail "$name" "no record from $mode: $(head -c 300 "$G/$mode-$b.jsonl")"
			elif r=$(python3 "$D/check_chains.py" record "$G/$mode-$b.jsonl" 0 "$CHAIN" \
				2>&1); then
				pass "$name ($r)"
			else
				fail "$name" "$r"
			fi
		done
	done
done
