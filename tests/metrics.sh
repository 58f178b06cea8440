#!/bin/bash
# The metrics endpoint (--metrics, cli/views/metrics.c) scraped by a real
# Prometheus (Debian's package, started here on loopback with its own
# config and storage in OUTDIR, scraping every second), while epolltrace
# traces a workload that knows its own counts (tests/anatomy_load.c) and
# while a replay of that session serves its final figures.  The values
# are checked through Prometheus's HTTP query API against the workload's
# truth; the text is parsed by python3-prometheus-client's OpenMetrics
# parser (promtool check metrics reads only the Prometheus text format:
# it refuses # EOF, # UNIT and the info type).  Also: the HTTP answers
# (404, 405, HEAD, 503 when the clients are all taken, 431, timeouts), the
# TUI and record modes, --metrics-max folding, bad arguments, a port in use.
# Ports 19460-19479.
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: metrics.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
PY=/usr/bin/python3	# Debian's, with python3-prometheus-client
CHK="$PY $ROOT/tests/check_metrics.py"
P_LIVE=19460 P_REPLAY=19461 P_MAX=19462 P_TUI=19463 P_REC=19464 P_ANY=19465 P_PROM=19479
SOCK=epolltrace-metrics-$$
T() { tmux -L "$SOCK" "$@"; }
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
	T kill-server 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS metrics: $(echo "$*" | tr '\n' ' ')"; }
fail() { echo "FAIL metrics: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }
ok() {	# NAME STATUS DETAIL
	if [ "$2" = 0 ]; then pass "$1${3:+ ($3)}"; else fail "$1" "$3"; fi
}

# R W C F A_MS B_MS HOLD_MS (anatomy_load.c): a second of work, then held
WORK="2 10 5 5 100 5"
if ! gcc -std=gnu11 -O2 -Wall -Wextra -Werror -pthread "$ROOT/tests/anatomy_load.c" \
	-o "$OUT/anatomy_load" 2>"$OUT/build.err"; then
	fail "the workload builds" "$(cat "$OUT/build.err")"
	exit 0
fi
if ! $PY -c 'import prometheus_client' 2>/dev/null || ! command -v prometheus >/dev/null; then
	fail "prometheus and python3-prometheus-client are installed" "make deps installs them"
	exit 0
fi

# until FILE exists and is not empty (at most S seconds)
wait_file() {
	for _ in $(seq $(($2 * 10))); do [ -s "$1" ] && return 0; sleep 0.1; done
	return 1
}
# until PORT answers /metrics with 200 (at most S seconds)
wait_port() {
	for _ in $(seq $(($2 * 10))); do
		[ "$($CHK http "127.0.0.1:$1" GET /metrics /dev/null 2>/dev/null)" = 200 ] && return 0
		sleep 0.1
	done
	return 1
}
# scrape PORT into FILE until its figures are the truth's (the last records
# may still be in the ring when the truth is written)
scrape_until() {	# PORT FILE TRUTH
	for _ in $(seq 30); do
		$CHK http "127.0.0.1:$1" GET /metrics "$2" >/dev/null 2>&1 &&
			$CHK values "$2" "$3" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

# ---- bad arguments: one line, exit 2 -------------------------------------
for arg in foo 0 70000 1.2.3.4.5:80 "[::1]9464" "host.example:9464" ""; do
	"$ET" --json --metrics "$arg" -- true >"$OUT/bad.out" 2>"$OUT/bad.err"
	rc=$?
	ok "--metrics '$arg' refused: one line, exit 2" \
		"$([ $rc = 2 ] && [ "$(wc -l <"$OUT/bad.err")" = 1 ] && [ ! -s "$OUT/bad.out" ] &&
		   grep -q "invalid --metrics" "$OUT/bad.err"; echo $?)" "rc $rc: $(cat "$OUT/bad.err")"
done
"$ET" --json --metrics-max 2 -- true >/dev/null 2>"$OUT/bad.err"
rc=$?
ok "--metrics-max without --metrics refused" \
	"$([ $rc = 2 ] && grep -q -- "--metrics-max applies to --metrics" "$OUT/bad.err"; echo $?)" \
	"rc $rc: $(cat "$OUT/bad.err")"
"$ET" info /dev/null --metrics $P_ANY >/dev/null 2>"$OUT/bad.err"
rc=$?
ok "--metrics where no model is fed (info) refused" \
	"$([ $rc = 2 ] && grep -q -- "--metrics applies to" "$OUT/bad.err"; echo $?)" \
	"rc $rc: $(cat "$OUT/bad.err")"

# ---- Prometheus, on loopback, scraping the live and the replay ports ----------
cat >"$OUT/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: live
    static_configs: [{targets: ["127.0.0.1:$P_LIVE"]}]
  - job_name: replay
    static_configs: [{targets: ["127.0.0.1:$P_REPLAY"]}]
EOF
prometheus --config.file="$OUT/prometheus.yml" --storage.tsdb.path="$OUT/tsdb" \
	--web.listen-address="127.0.0.1:$P_PROM" --log.level=warn >"$OUT/prometheus.log" 2>&1 &
PIDS+=($!)
ready=
for _ in $(seq 100); do
	$PY -c "import urllib.request as u; u.urlopen('http://127.0.0.1:$P_PROM/-/ready', timeout=1)" \
		2>/dev/null && { ready=1; break; }
	sleep 0.1
done
ok "Prometheus starts on 127.0.0.1:$P_PROM" "$([ -n "$ready" ]; echo $?)" \
	"$(tail -n 3 "$OUT/prometheus.log")"

# ---- live: --json-state and --metrics, recorded too ------------------------
"$ET" --json-state -i 0.5 --metrics $P_LIVE -w "$OUT/rec.etr" -- \
	"$OUT/anatomy_load" "$OUT/truth.json" $WORK 6000 >"$OUT/state.jsonl" 2>"$OUT/live.err" &
LIVE=$!
PIDS+=($LIVE)
if wait_file "$OUT/truth.json" 30 && scrape_until $P_LIVE "$OUT/live.resp" "$OUT/truth.json"; then
	pass "live: /metrics has the workload's figures while it holds ($($CHK values \
		"$OUT/live.resp" "$OUT/truth.json"))"
else
	fail "live: /metrics has the workload's figures" \
		"$($CHK values "$OUT/live.resp" "$OUT/truth.json" 2>&1) $(tail -n 3 "$OUT/live.err")"
fi
r=$($CHK lint "$OUT/live.resp" 2>&1)
ok "live: the answer is OpenMetrics 1.0 (Content-Type, ends # EOF, names, HELP, UNIT)" $? "$r"
st=$($CHK http 127.0.0.1:$P_LIVE GET /nope "$OUT/404.resp" 2>&1)
ok "GET /nope: 404" "$([ "$st" = 404 ]; echo $?)" "$st"
st=$($CHK http 127.0.0.1:$P_LIVE POST /metrics "$OUT/405.resp" 2>&1)
ok "POST /metrics: 405 with Allow" \
	"$([ "$st" = 405 ] && grep -q "^Allow: GET, HEAD" "$OUT/405.resp"; echo $?)" "$st"
st=$($CHK http 127.0.0.1:$P_LIVE HEAD /metrics "$OUT/head.resp" 2>&1)
ok "HEAD /metrics: 200, headers only" \
	"$([ "$st" = 200 ] && grep -q "^Content-Length: [1-9]" "$OUT/head.resp" &&
	   ! grep -q "# EOF" "$OUT/head.resp"; echo $?)" "$st"
wait $LIVE
rc=$?
ok "live: the session ends with the workload, exit 0" "$([ $rc = 0 ]; echo $?)" \
	"rc $rc $(tail -n 3 "$OUT/live.err")"
# the last state --json-state printed: the same waits
r=$($PY - "$OUT/state.jsonl" "$OUT/truth.json" <<'PY' 2>&1
import json, sys
t = json.load(open(sys.argv[2]))
st = [json.loads(l) for l in open(sys.argv[1]) if l.strip()][-1]
i = [i for i in st["instances"] if i["pid"] == t["pid"] and i["epfd"] == t["epfd"]][0]
c = i.get("counters", i)
assert c["waits"] == t["waits"], (c["waits"], t["waits"])
print(f"--json-state's final waits {c['waits']}")
PY
)
ok "live: --json-state's final state says the same waits" $? "$r"
r=$($CHK prom 127.0.0.1:$P_PROM live "$OUT/truth.json" 5m 2>&1)
ok "live: Prometheus scraped the series with the right values" $? "$r"

# ---- replay: serves during the replay, then the final figures until interrupted ----
"$ET" replay "$OUT/rec.etr" --summary --metrics $P_REPLAY >"$OUT/replay.txt" \
	2>"$OUT/replay.err" &
REPLAY=$!
PIDS+=($REPLAY)
if wait_port $P_REPLAY 20 && wait_file "$OUT/replay.err" 20 &&
	$CHK http 127.0.0.1:$P_REPLAY GET /metrics "$OUT/replay.resp" >/dev/null &&
	r=$($CHK values "$OUT/replay.resp" "$OUT/truth.json" 2>&1); then
	pass "replay --metrics: after the end, the final figures ($r)"
else
	fail "replay --metrics serves the final figures" \
		"${r:-} $(cat "$OUT/replay.err")"
fi
ok "replay --metrics: the end is said on stderr" \
	"$(grep -q "serves its final figures until interrupted" "$OUT/replay.err"; echo $?)" \
	"$(cat "$OUT/replay.err")"
r=$($CHK prom 127.0.0.1:$P_PROM replay "$OUT/truth.json" - 2>&1)
ok "replay: Prometheus scrapes the final figures (instant query)" $? "$r"
r=$($CHK lint "$OUT/replay.resp" 2>&1)
ok "replay: the answer parses as OpenMetrics" $? "$r"

# a second endpoint on the same port: one line, exit 1
"$ET" replay "$OUT/rec.etr" --json --metrics $P_REPLAY >"$OUT/inuse.out" 2>"$OUT/inuse.err"
rc=$?
ok "a port in use: one line, exit 1, nothing on stdout" \
	"$([ $rc = 1 ] && [ "$(wc -l <"$OUT/inuse.err")" = 1 ] && [ ! -s "$OUT/inuse.out" ] &&
	   grep -q "cannot listen" "$OUT/inuse.err"; echo $?)" "rc $rc: $(cat "$OUT/inuse.err")"

r=$($CHK busy 127.0.0.1:$P_REPLAY 2>&1)
ok "bounded clients, bounded requests, timeouts" $? "$r"

kill -INT $REPLAY 2>/dev/null
wait $REPLAY
rc=$?
ok "replay --metrics: Ctrl-C ends it, exit 0, its summary complete" \
	"$([ $rc = 0 ] && grep -q "(final)" "$OUT/replay.txt"; echo $?)" "rc $rc"

# ---- --metrics-max 1: two workloads, one folded into "other" --------------------
# Attached to a running shell (-p, -f) as to a server: the workloads start
# once the session has begun (its first --json line), so both are traced
# from their start and no other instance is there first.
sh -c "while [ ! -e '$OUT/go' ]; do sleep 0.05; done
	'$OUT/anatomy_load' '$OUT/truth-a.json' $WORK 4000 &
	'$OUT/anatomy_load' '$OUT/truth-b.json' $WORK 4000; wait" &
SHP=$!
PIDS+=($SHP)
"$ET" --json --metrics $P_MAX --metrics-max 1 -f -p $SHP >"$OUT/max.jsonl" 2>"$OUT/max.err" &
MAXP=$!
PIDS+=($MAXP)
wait_file "$OUT/max.jsonl" 30
touch "$OUT/go"
r=
if wait_file "$OUT/truth-a.json" 30 && wait_file "$OUT/truth-b.json" 30; then
	for _ in $(seq 30); do
		$CHK http 127.0.0.1:$P_MAX GET /metrics "$OUT/max.resp" >/dev/null 2>&1 &&
			r=$($CHK other "$OUT/max.resp" "$OUT/truth-a.json" "$OUT/truth-b.json" 2>&1) &&
			break
		sleep 0.2
	done
fi
ok "--metrics-max 1: one instance's series, the other's figures in epfd=\"other\"" \
	"$($CHK other "$OUT/max.resp" "$OUT/truth-a.json" "$OUT/truth-b.json" >/dev/null 2>&1;
	   echo $?)" "${r:-} $(cat "$OUT/max.err")"
wait $MAXP

# ---- other addresses: 0.0.0.0 works, with a warning; [::1] -----------------------
for a in "0.0.0.0:$P_ANY" "[::1]:$P_ANY"; do
	"$ET" replay "$OUT/rec.etr" --json --metrics "$a" >/dev/null 2>"$OUT/any.err" &
	ANY=$!
	PIDS+=($ANY)
	got=
	for _ in $(seq 100); do
		grep -q "final figures" "$OUT/any.err" && break
		sleep 0.1
	done
	st=$($CHK http "${a%:*}:$P_ANY" GET /metrics /dev/null 2>&1)
	[ "${a%%:*}" = "0.0.0.0" ] && st=$($CHK http "127.0.0.1:$P_ANY" GET /metrics /dev/null 2>&1)
	if [ "${a%%:*}" = "0.0.0.0" ]; then
		ok "--metrics 0.0.0.0:PORT serves, with a warning" \
			"$([ "$st" = 200 ] && grep -q "warning.*beyond this machine" "$OUT/any.err";
			   echo $?)" "$st $(cat "$OUT/any.err")"
	else
		ok "--metrics [::1]:PORT serves, no warning" \
			"$([ "$st" = 200 ] && ! grep -q "warning" "$OUT/any.err"; echo $?)" \
			"$st $(cat "$OUT/any.err")"
	fi
	kill -INT $ANY 2>/dev/null
	wait $ANY
done

# ---- the TUI and record: the endpoint alongside ----------------------------------
T -f /dev/null new-session -d -s tui -x 130 -y 40 \
	"LANG=C.UTF-8 $ET --metrics $P_TUI -- $OUT/anatomy_load $OUT/truth-tui.json $WORK 4000"
if wait_file "$OUT/truth-tui.json" 30 &&
	scrape_until $P_TUI "$OUT/tui.resp" "$OUT/truth-tui.json"; then
	pass "TUI --metrics: the workload's figures"
else
	fail "TUI --metrics: the workload's figures" \
		"$($CHK values "$OUT/tui.resp" "$OUT/truth-tui.json" 2>&1)"
fi
T send-keys -t tui q 2>/dev/null
sleep 0.3
T kill-server 2>/dev/null

"$ET" record -o "$OUT/rec2.etr" --metrics $P_REC -- \
	"$OUT/anatomy_load" "$OUT/truth-rec.json" $WORK 4000 >"$OUT/rec.out" 2>"$OUT/rec.err" &
REC=$!
PIDS+=($REC)
if wait_file "$OUT/truth-rec.json" 30 &&
	scrape_until $P_REC "$OUT/rec.resp" "$OUT/truth-rec.json"; then
	pass "record --metrics: the workload's figures"
else
	fail "record --metrics: the workload's figures" \
		"$($CHK values "$OUT/rec.resp" "$OUT/truth-rec.json" 2>&1) $(cat "$OUT/rec.err")"
fi
wait $REC
rc=$?
ok "record --metrics: exit 0, the recording complete" \
	"$([ $rc = 0 ] && "$ET" info "$OUT/rec2.etr" >/dev/null 2>&1; echo $?)" \
	"rc $rc $(cat "$OUT/rec.err")"

# ---- a guest with fentry and kprobes: what tracepoint mode cannot serve ---------
# Where make check has cached Debian's 6.12 kernel, the workload is recorded
# in it (auto: fentry; inline: the transfers), and each recording replayed
# here with --metrics: callbacks_total, the exact residency and the transfer
# histograms are served, equal to --json-state's figures of the same file.
# About 40 s (TCG).  VM_CACHE as tests/run-all.sh.
VM_CACHE=${VM_CACHE:-$ROOT/build/vm}
K=$(ls -d "$VM_CACHE"/linux-image-6.12.*-cloud-amd64 2>/dev/null | tail -n 1)
K=${K##*/linux-image-}
VMLINUZ=$VM_CACHE/linux-image-$K/boot/vmlinuz-$K
if [ -z "$K" ] || [ ! -f "$VMLINUZ" ] || [ ! -f "$ROOT/build/epolltrace.static" ] ||
	! command -v qemu-system-x86_64 >/dev/null; then
	echo "metrics.sh: no guest run (no cached 6.12 kernel under $VM_CACHE, or no static build)" >&2
	exit 0
fi
G=$OUT/vm
mkdir -p "$G/bin"
cp "$ROOT/build/epolltrace.static" "$G/bin/epolltrace"
files=("$G/bin/epolltrace" "$G/bin/anatomy_load")
modes=auto
DBG=$VM_CACHE/linux-image-$K-dbg/usr/lib/debug/boot/vmlinux-$K
if [ -f "$DBG" ] &&
	"$ET" sites --vmlinux "$DBG" -o "$G/bin/sites" --force >"$G/sites.txt" 2>&1; then
	files+=("$G/bin/sites")
	modes="$modes inline"
fi
if ! gcc -std=gnu11 -O2 -static -pthread "$ROOT/tests/anatomy_load.c" -o "$G/bin/anatomy_load" \
	2>"$G/build.err"; then
	fail "guest $K: the static workload builds" "$(cat "$G/build.err")"
	exit 0
fi
cat >"$G/guest.sh" <<GUEST
#!/bin/sh
for mode in $modes; do
	mkdir -p /out/\$mode
	sites=
	[ \$mode = inline ] && sites=--sites=/bin/sites
	epolltrace record -o /out/\$mode/rec.etr --attach=\$mode \$sites -- \
		/bin/anatomy_load /out/\$mode/truth.json $WORK 100 2>/out/\$mode/trace.err
	echo \$? >/out/\$mode/rc
done
GUEST
if ! "$ROOT/tests/vm/run-guest.sh" --timeout 600 "$VMLINUZ" "$G/guest.sh" "$G/out" "${files[@]}" \
	>"$G/run.log" 2>&1; then
	fail "guest $K: run" "$(tail -n 3 "$G/run.log")"
	exit 0
fi
for mode in $modes; do
	d=$G/out/$mode
	if [ "$(cat "$d/rc" 2>/dev/null)" != 0 ]; then
		fail "guest $K $mode: the workload was recorded" "$(head -n 3 "$d/trace.err" 2>/dev/null)"
		continue
	fi
	"$ET" replay "$d/rec.etr" --json-state -i 0.5 >"$d/state.jsonl" 2>/dev/null
	"$ET" replay "$d/rec.etr" --json --metrics $P_ANY >/dev/null 2>"$d/replay.err" &
	GP=$!
	PIDS+=($GP)
	for _ in $(seq 100); do
		grep -q "final figures" "$d/replay.err" && break
		sleep 0.1
	done
	r=$($CHK http 127.0.0.1:$P_ANY GET /metrics "$d/metrics.resp" >/dev/null 2>&1 &&
	    $CHK values "$d/metrics.resp" "$d/truth.json" 2>&1 &&
	    $CHK seen "$d/metrics.resp" "$d/truth.json" "$d/state.jsonl" \
		"$([ $mode = inline ] && echo 1 || echo 0)" 2>&1)
	ok "guest $K $mode: the recording's figures served, callbacks and residency exact" $? \
		"$r $(cat "$d/replay.err")"
	kill -INT $GP 2>/dev/null
	wait $GP
done
exit 0
