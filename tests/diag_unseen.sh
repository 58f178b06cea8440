# Sourced by tests/diagnose.sh and tests/diagnose_vm.sh.
# diag_unseen TRACE.jsonl: the detectors (comma-separated) that the session
# of that stream cannot see, from its session record: without sleeps and
# wakeups (sleeps_visible) no herd, imbalance or 0-event wakeup can be told;
# without ep_poll_callback (callbacks_visible) the time an item was queued
# is known only to a snapshot's resolution, and a herd's fd (its callback's)
# is not known: "herd:fds" (a herd finding need not name one).
diag_unseen() {
	python3 - "$1" <<'PY'
import json, sys
s = next((json.loads(l) for l in open(sys.argv[1]) if '"type":"session"' in l), {})
out = []
if not s.get("sleeps_visible"):
    out += ["herd", "exclusive-imbalance", "zero-wakeups"]
# a herd's fd is its callback's: without callbacks a herd names no fd
if not s.get("callbacks_visible"):
    out += ["herd:fds"]
print(",".join(out))
PY
}
