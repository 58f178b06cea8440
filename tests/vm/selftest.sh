#!/bin/bash
# selftest.sh — test the VM harness (fetch-kernel.sh, run-guest.sh) itself.
#
# For each kernel package in VM_KERNELS (default: the Debian 12 cloud kernels
# linux-image-cloud-amd64 and linux-image-6.12-cloud-amd64):
#   1. a static C program runs in the guest (uname, size of
#      /sys/kernel/btf/vmlinux), a 1 MiB random file written to /out comes
#      back with the sha256 the guest printed, and run-guest.sh exits 0;
#   2. a guest script that writes a file and exits 3 makes run-guest.sh exit
#      3, and the file still comes back;
#   3. a guest script that sleeps forever is killed by a short --timeout and
#      run-guest.sh fails (exit 124) in about that time.
# Prints one line per check and `N passed, N failed`; exits 1 if any failed.
#
# Environment: VM_CACHE (kernel cache, default build/vm under the project
# root), VM_KERNELS (space-separated package names), CC (default gcc).
# Outputs of each boot are kept under $VM_CACHE/selftest/ for inspection.

set -u

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cache=${VM_CACHE:-build/vm}
case $cache in /*) ;; *) cache=$root/$cache ;; esac
kernels=${VM_KERNELS:-linux-image-cloud-amd64 linux-image-6.12-cloud-amd64}
cc=${CC:-gcc}

passed=0
failed=0
pass() { echo "PASS  $*"; passed=$((passed + 1)); }
failc() { echo "FAIL  $*"; failed=$((failed + 1)); }
check() {   # check NAME CONDITION-COMMAND...
    local name=$1; shift
    if "$@"; then pass "$name"; else failc "$name"; fi
}

mkdir -p "$cache" || { echo "selftest: cannot create $cache" >&2; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/vm-selftest.XXXXXX") || exit 1
trap 'rm -rf "$work"' EXIT

# ------------------------------------------------------------ the guest bits
cat >"$work/probe.c" <<'EOF'
#include <stdio.h>
#include <sys/stat.h>
#include <sys/utsname.h>

int main(void)
{
	struct utsname u;
	struct stat st;

	if (uname(&u) != 0) {
		perror("uname");
		return 1;
	}
	printf("probe: uname %s %s %s\n", u.sysname, u.release, u.machine);
	if (stat("/sys/kernel/btf/vmlinux", &st) == 0)
		printf("probe: btf %lld\n", (long long)st.st_size);
	else
		printf("probe: btf missing\n");
	return 0;
}
EOF
if ! "$cc" -static -O2 -Wall -o "$work/probe" "$work/probe.c" 2>"$work/cc.err"; then
    failc "build a static probe program ($(head -n 1 "$work/cc.err"))"
    echo "$passed passed, $failed failed"
    exit 1
fi
pass "build a static probe program"
echo "probe data file" >"$work/probe.dat"

cat >"$work/transfer.sh" <<'EOF'
probe
[ -f /bin/probe.dat ] && echo "data: $(cat /bin/probe.dat)"
[ -x /bin/probe ] && echo "exec bit kept"
head -c 1048576 /dev/urandom >/out/random.bin
sha256sum /out/random.bin | sed 's/^/guestsum: /'
mkdir -p /out/sub/dir
echo nested >"/out/sub/dir/a file"
[ -d /sys/kernel/tracing/events/syscalls/sys_enter_epoll_wait ] && echo "tracefs: ok"
echo "the end"
EOF
cat >"$work/exit3.sh" <<'EOF'
echo "about to fail" >/out/note.txt
echo "exiting 3"
exit 3
EOF
cat >"$work/hang.sh" <<'EOF'
echo "sleeping forever"
while :; do sleep 1000; done
EOF

# ------------------------------------------------------------------ per kernel
for pkg in $kernels; do
    echo "== $pkg"
    if ! vmlinuz=$("$here/fetch-kernel.sh" "$cache" "$pkg"); then
        failc "$pkg: fetch the kernel"
        continue
    fi
    pass "$pkg: fetch the kernel ($(basename "$vmlinuz"))"
    out=$cache/selftest/$pkg
    rm -rf "$out"

    # 1. program runs, 1 MiB file comes back intact, exit 0.
    o=$out/transfer
    start=$(date +%s)
    "$here/run-guest.sh" --timeout 240 "$vmlinuz" "$work/transfer.sh" "$o" \
        "$work/probe" "$work/probe.dat" 2>"$work/err"
    rc=$?
    echo "      (transfer boot: $(( $(date +%s) - start )) s, exit $rc)"
    [ -s "$work/err" ] && sed 's/^/      stderr: /' "$work/err"
    check "$pkg: guest script exit 0 gives exit 0" [ "$rc" -eq 0 ]
    log=$o/guest.log
    check "$pkg: guest.log came back" grep -q '^the end$' "$log"
    check "$pkg: static program ran (uname)" grep -q '^probe: uname Linux .* x86_64$' "$log"
    check "$pkg: /sys/kernel/btf/vmlinux present" grep -Eq '^probe: btf [1-9][0-9]*$' "$log"
    check "$pkg: data file and exec bit kept" \
        bash -c 'grep -q "^data: probe data file$" "$1" && grep -q "^exec bit kept$" "$1"' _ "$log"
    check "$pkg: tracefs has syscalls/sys_enter_epoll_wait" grep -q '^tracefs: ok$' "$log"
    gsum=$(sed -n 's/^guestsum: \([0-9a-f]\{64\}\) .*/\1/p' "$log" 2>/dev/null)
    hsum=$(sha256sum <"$o/random.bin" 2>/dev/null | cut -d' ' -f1)
    hsize=$(stat -c %s "$o/random.bin" 2>/dev/null || echo 0)
    same_file() { [ -n "$gsum" ] && [ "$gsum" = "$hsum" ] && [ "$hsize" -eq 1048576 ]; }
    check "$pkg: 1 MiB random file came back intact" same_file
    check "$pkg: nested path came back" \
        bash -c '[ "$(cat "$1/sub/dir/a file")" = nested ]' _ "$o"
    check "$pkg: console.log kept" grep -aq 'exec bit kept' "$o/console.log"

    # 2. exit 3 propagates; files still come back.
    o=$out/exit3
    "$here/run-guest.sh" --timeout 120 "$vmlinuz" "$work/exit3.sh" "$o" 2>"$work/err"
    rc=$?
    check "$pkg: guest script exit 3 gives exit 3" [ "$rc" -eq 3 ]
    check "$pkg: files come back after a failing script" \
        grep -q '^about to fail$' "$o/note.txt"

    # 3. a hung guest is killed by the timeout.
    o=$out/hang
    t=20
    start=$(date +%s)
    "$here/run-guest.sh" --timeout $t "$vmlinuz" "$work/hang.sh" "$o" 2>"$work/err"
    rc=$?
    took=$(( $(date +%s) - start ))
    reason=$(head -n 1 "$work/err")
    echo "      (hang: exit $rc after $took s: $reason)"
    killed() { [ "$rc" -eq 124 ] && [ "$took" -le $((t + 15)) ] && [ -n "$reason" ]; }
    check "$pkg: hung guest killed by --timeout $t (exit 124, ${took}s)" killed
    check "$pkg: hung guest had started its script" grep -aq 'sleeping forever' "$o/console.log"
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
