#!/bin/sh
# The detectors (cli/model/detect.h) against workloads that provoke each of
# them and similar ones that must not (the diag-* scenarios,
# cli/workloads/diag.c): each scenario traced with --json (tests/diag_run.sh,
# also recorded), its "finding" records held to the scenario's ground truth
# (tests/check_findings.py), and the records themselves must show the case
# clearly on its side of the default threshold (--raw); for a few, replay
# --json of the recording must find the same.  A detector the session's
# mode cannot see (tests/diag_unseen.sh, from the session record) is
# checked where it can be seen (tests/diagnose_vm.sh, the guests' kprobe
# and fentry modes); here its positive check only holds that what is found
# is right, and says so.  About 45 s on this 2-core host.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: diagnose.sh EPOLLTRACE OUTDIR   (DIAG_MODE: --attach mode, default auto;
#        DIAG_SCENARIOS: the detectors, default all eight; DIAG_WORKLOAD: see
#        tests/diag_run.sh)
set -u
ET=$(readlink -f "$1") OUT=$2
D=$(dirname "$(readlink -f "$0")")
MODE=${DIAG_MODE:-auto}
DETS=${DIAG_SCENARIOS:-"herd exclusive-imbalance lt-spin maxevents-sat busy-poll zero-wakeups
	stale-reg long-residency"}
# replayed as well: one that threads make, one of one thread, one that needs a snapshot
REPLAYED="herd lt-spin stale-reg"
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
# each run (tests/diag_run.sh) ends what it started

pass() { echo "PASS diagnose: $*"; }
fail() { echo "FAIL diagnose: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-600)"; }

# the detectors a session cannot see, from its session record: see unseen()
. "$D/diag_unseen.sh"

for det in $DETS; do
	for sc in diag-$det diag-$det-ok; do
		R=$OUT/$sc
		if ! "$D/diag_run.sh" "$ET" "$MODE" "$sc" "$R" 2>"$R.err"; then
			fail "$sc $MODE: traced run" "$(cat "$R.err")"
			continue
		fi
		uns=$(diag_unseen "$R/trace.jsonl")
		# the case is clear in the records themselves, detectors aside
		python3 "$D/check_findings.py" --raw "$R/trace.jsonl" "$R/truth.jsonl" \
			--label "diagnose: $MODE"
		python3 "$D/check_findings.py" "$R/trace.jsonl" "$R/truth.jsonl" \
			--label "diagnose: $MODE" --unseen "$uns"
		case " $REPLAYED " in *" $det "*) ;; *) continue ;; esac
		if ! "$ET" replay "$R/rec.etr" --json >"$R/replay.jsonl" 2>"$R/replay.err" ||
			[ -s "$R/replay.err" ]; then
			fail "$sc: replay --json" "$(head -n 3 "$R/replay.err")"
			continue
		fi
		python3 "$D/check_findings.py" --same "$R/trace.jsonl" "$R/replay.jsonl" \
			--label "diagnose: $sc"
		python3 "$D/check_findings.py" "$R/replay.jsonl" "$R/truth.jsonl" \
			--label "diagnose: replay" --unseen "$uns"
	done
done
exit 0
