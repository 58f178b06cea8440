# What the suites that run real servers share (sourced after SUITE is set,
# the suite's name in its "PASS SUITE: ..." and "FAIL SUITE: ... :: why"
# lines): a tmux server of their own (T), the background processes to kill
# at exit (PIDS), and HTTP without curl.
SOCK=epolltrace-$SUITE-$$
T() { tmux -L "$SOCK" "$@"; }
PIDS=()
cleanup() {
	T kill-server 2>/dev/null
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT

pass() { echo "PASS $SUITE: $*"; }
fail() { echo "FAIL $SUITE: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-500)"; }

# get PORT: one HTTP request to 127.0.0.1:PORT; 0 if answered
get() {
	{ exec 3<>"/dev/tcp/127.0.0.1/$1"; } 2>/dev/null || return 1
	printf 'GET / HTTP/1.0\r\n\r\n' >&3
	timeout 2 cat <&3 >/dev/null
	exec 3>&-
}

# up PORT: wait until it answers (5 s)
up() {
	for _ in $(seq 50); do
		get "$1" && return 0
		sleep 0.1
	done
	return 1
}
