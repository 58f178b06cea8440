#!/bin/bash
# The detectors' suite (tests/diagnose.sh) in the stock Debian kernels under
# QEMU, where ep_poll_callback is seen (kprobe, fentry): every diag-*
# scenario traced in the guest (tests/diag_run.sh), its stream and truth
# brought back and checked here (tests/check_findings.py: the records show
# the case, the findings name it, or not); the guest's recordings of a few
# replayed here must find the same.  One mode a guest by default: 6.1 in
# fentry mode, the others in kprobe mode (DIAG_VM_MODES: these modes in
# every guest).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: diagnose_vm.sh EPOLLTRACE OUTDIR
# Environment: VM_CACHE (the kernels, as tests/run-all.sh), VM_KERNELS,
# DIAG_VM_MODES, DIAG_SCENARIOS (the detectors, default all eight),
# DIAG_WORKLOAD_STATIC (the scenarios from another static binary).  The
# guest runs build/epolltrace.static, beside EPOLLTRACE.
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
ROOT=$(dirname "$D")
STATIC=$(dirname "$ET")/build/epolltrace.static
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
VM_KERNELS=${VM_KERNELS-"linux-image-cloud-amd64 linux-image-6.12-cloud-amd64"}
DETS=${DIAG_SCENARIOS:-"herd exclusive-imbalance lt-spin maxevents-sat busy-poll zero-wakeups
	stale-reg long-residency"}
DETS=$(echo $DETS)
REPLAYED="herd lt-spin stale-reg"
rm -rf "$OUT"
mkdir -p "$OUT/bin"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS diagnose vm: $*"; }
fail() { echo "FAIL diagnose vm: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }
. "$D/diag_unseen.sh"

if [ ! -x "$STATIC" ]; then
	fail "the static binary" "$STATIC is missing (make static)"
	exit 0
fi
cp "$STATIC" "$OUT/bin/epolltrace"
cp "$D/diag_run.sh" "$OUT/bin/"
# DIAG_WORKLOAD_STATIC: another static binary whose demo runs the scenarios
WLBIN=
if [ -n "${DIAG_WORKLOAD_STATIC:-}" ]; then
	cp "$DIAG_WORKLOAD_STATIC" "$OUT/bin/workload"
	WLBIN=$OUT/bin/workload
fi
for pkg in $VM_KERNELS; do
	vmlinuz=$("$D/vm/fetch-kernel.sh" "$VM_CACHE" "$pkg" 2>"$OUT/fetch-$pkg.err")
	if [ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ]; then
		fail "$pkg: fetch kernel" "$(cat "$OUT/fetch-$pkg.err")"
		continue
	fi
	kver=$(basename "$vmlinuz" | sed 's/^vmlinuz-//')
	modes=${DIAG_VM_MODES:-}
	if [ -z "$modes" ]; then
		case $kver in
		6.1.*) modes=fentry ;;
		*) modes=kprobe ;;
		esac
	fi
	G=$OUT/$kver
	cat >"$OUT/guest-$kver.sh" <<EOF
#!/bin/sh
[ -x /bin/workload ] && export DIAG_WORKLOAD=/bin/workload
for mode in $modes; do
	for det in $DETS; do
		for sc in diag-\$det diag-\$det-ok; do
			/bin/diag_run.sh /bin/epolltrace \$mode \$sc /out/\$mode/\$sc \
				2>/out/\$mode-\$sc.err
			echo \$? >/out/\$mode-\$sc.rc
		done
	done
done
EOF
	if ! "$D/vm/run-guest.sh" --timeout "${VM_TIMEOUT:-900}" "$vmlinuz" "$OUT/guest-$kver.sh" \
		"$G" "$OUT/bin/epolltrace" "$OUT/bin/diag_run.sh" $WLBIN >"$OUT/$kver.log" 2>&1; then
		fail "$kver: guest run" "$(tail -n 5 "$OUT/$kver.log")"
		continue
	fi
	for mode in $modes; do
		for det in $DETS; do
			for sc in diag-$det diag-$det-ok; do
				R=$G/$mode/$sc
				if [ "$(cat "$G/$mode-$sc.rc" 2>/dev/null)" != 0 ]; then
					fail "$kver $mode $sc: traced run" \
						"$(cat "$G/$mode-$sc.err" 2>/dev/null)"
					continue
				fi
				uns=$(diag_unseen "$R/trace.jsonl")
				python3 "$D/check_findings.py" --raw "$R/trace.jsonl" \
					"$R/truth.jsonl" --label "diagnose vm: $kver $mode"
				python3 "$D/check_findings.py" "$R/trace.jsonl" "$R/truth.jsonl" \
					--label "diagnose vm: $kver $mode" --unseen "$uns"
				case " $REPLAYED " in *" $det "*) ;; *) continue ;; esac
				# the guest's recording, replayed here
				if ! "$ET" replay "$R/rec.etr" --json >"$R/replay.jsonl" \
					2>"$R/replay.err" || [ -s "$R/replay.err" ]; then
					fail "$kver $mode $sc: replay --json" "$(head -n 3 "$R/replay.err")"
					continue
				fi
				python3 "$D/check_findings.py" --same "$R/trace.jsonl" \
					"$R/replay.jsonl" --label "diagnose vm: $kver $mode $sc"
			done
		done
	done
done
exit 0
