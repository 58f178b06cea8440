# Sourced by tests/diagnose.sh and tests/diagnose_vm.sh.
# diag_unseen TRACE.jsonl: the detectors (comma-separated) that the session
# of that stream cannot see, from its session record: without sleeps and
# wakeups (sleeps_visible) no herd, imbalance or 0-event wakeup can be told;
# without ep_poll_callback (callbacks_visible) the time an item was queued
# is known only to a snapshot's resolution.
diag_unseen() {
	python3 - "$1" <<'PY'
import json, sys
s = next((json.loads(l) for l in open(sys.argv[1]) if '"type":"session"' in l), {})
out = []
if not s.get("sleeps_visible"):
    out += ["herd", "exclusive-imbalance", "zero-wakeups"]
print(",".join(out))
PY
}
