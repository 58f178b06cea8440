#!/bin/bash
# Lessons 5-8 on the stock Debian kernels (6.1, 6.12) under QEMU, where
# fentry and kprobes work: each lesson alone (its truth's claims), then
# traced and held at every step in each of VM_LESSON_MODES, each step's
# snapshot held against the rbr, rdllist and wq it claims, and the trace
# against the truth (tests/check_trace.py).  One guest per kernel, about
# 55 s of TCG each with two modes (2026-12-01, this 2-core host, shared).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: lessons_vm.sh EPOLLTRACE OUTDIR
# Environment: VM_CACHE (the kernels, as tests/run-all.sh), VM_KERNELS,
# VM_LESSON_MODES (default "fentry kprobe").  The guest runs
# build/epolltrace.static, beside EPOLLTRACE.
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
ROOT=$(dirname "$D")
STATIC=$(dirname "$ET")/build/epolltrace.static
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
VM_KERNELS=${VM_KERNELS-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
VM_LESSON_MODES=${VM_LESSON_MODES:-"fentry kprobe"}
LESSONS="herd nested close pool"
rm -rf "$OUT"
mkdir -p "$OUT/bin"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS lessons vm: $*"; }
fail() { echo "FAIL lessons vm: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }

if [ ! -x "$STATIC" ]; then
	fail "the static binary" "$STATIC is missing (make static)"
	exit 0
fi
cp "$STATIC" "$OUT/bin/epolltrace"
cp "$D/lesson_run.sh" "$OUT/bin/"
cat >"$OUT/guest.sh" <<EOF
#!/bin/sh
for l in $LESSONS; do
	/bin/epolltrace demo --lesson \$l --truth /out/alone-\$l.jsonl 2>/out/alone-\$l.err
	echo \$? >/out/alone-\$l.rc
done
for mode in $VM_LESSON_MODES; do
	for l in $LESSONS; do
		/bin/lesson_run.sh /bin/epolltrace \$mode \$l /out/\$mode/\$l 2>/out/\$mode-\$l.err
		echo \$? >/out/\$mode-\$l.rc
	done
done
EOF
: >"$OUT/empty.fdinfo"
for pkg in $VM_KERNELS; do
	vmlinuz=$("$D/vm/fetch-kernel.sh" "$VM_CACHE" "$pkg" 2>"$OUT/fetch-$pkg.err")
	if [ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ]; then
		fail "$pkg: fetch kernel" "$(cat "$OUT/fetch-$pkg.err")"
		continue
	fi
	kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	G=$OUT/$kver
	if ! "$D/vm/run-guest.sh" --timeout "${VM_TIMEOUT:-600}" "$vmlinuz" "$OUT/guest.sh" "$G" \
		"$OUT/bin/epolltrace" "$OUT/bin/lesson_run.sh" >"$OUT/$kver.log" 2>&1; then
		fail "$kver: guest run" "$(tail -n 5 "$OUT/$kver.log")"
		continue
	fi
	for l in $LESSONS; do
		if [ "$(cat "$G/alone-$l.rc" 2>/dev/null)" = 0 ] &&
			r=$(python3 "$D/check_lesson_truth.py" "$l" "$G/alone-$l.jsonl" 2>&1); then
			pass "$kver $l: alone, its truth holds what the lesson says"
		else
			fail "$kver $l: alone" "$(cat "$G/alone-$l.err" 2>/dev/null) ${r:-}"
		fi
		for mode in $VM_LESSON_MODES; do
			R=$G/$mode/$l
			if [ "$(cat "$G/$mode-$l.rc" 2>/dev/null)" != 0 ]; then
				fail "$kver $mode $l: traced, held at each step" \
					"$(cat "$G/$mode-$l.err" 2>/dev/null)"
				continue
			fi
			python3 "$D/check_lesson_truth.py" --as-scenario "$R/truth.jsonl" \
				"$R/scenario.jsonl"
			if r=$(python3 "$D/check_lesson_truth.py" "$l" "$R/truth.jsonl" 2>&1) &&
				r=$(python3 "$D/check_lesson_truth.py" --steps "$R/truth.jsonl" \
					"$R/trace.jsonl" "$R/marks" 2>&1) &&
				r=$(cd "$D" && python3 check_trace.py "$R/scenario.jsonl" \
					"$R/trace.jsonl" "$OUT/empty.fdinfo" "$mode" 2>&1); then
				pass "$kver $mode $l: each step's snapshot shows what it claims;" \
					"the trace agrees"
			else
				fail "$kver $mode $l: traced, held at each step" "$r"
			fi
		done
	done
done
exit 0
