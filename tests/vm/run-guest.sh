#!/bin/bash
# run-guest.sh [--timeout SECS] [--mem MB] [--smp N] [--append ARGS]
#              [--put SRC:DEST]... VMLINUZ GUEST_SCRIPT OUT_DIR [FILE...]
#
# Boot VMLINUZ under qemu-system-x86_64 (TCG, no KVM needed) with a throw-away
# busybox initramfs, run GUEST_SCRIPT in it and bring back every file the guest
# leaves under /out.
#
# The initramfs holds busybox-static (/init adds a symlink per applet), each FILE
# copied into /bin (mode kept; directories copied whole), GUEST_SCRIPT as
# /guest.sh and a generated /init.  /init mounts proc, sysfs, devtmpfs (/dev),
# devpts, tracefs (/sys/kernel/tracing), debugfs, bpffs (/sys/fs/bpf), cgroup2
# and tmpfs on /tmp and /out, brings lo up, runs `sh /guest.sh` with cwd /tmp,
# PATH=/bin and stdin /dev/null, its stdout+stderr going both to the console
# and to /out/guest.log.  When the script ends, every process it left behind is
# killed, dmesg is saved as /out/dmesg.log (unless the script made one),
# kernel console messages are muted, and each regular file under /out
# is sent over the serial console (ttyS0) as gzip+base64 between marker lines
# carrying a per-run random nonce, size and sha256.  A final marker carries the
# script's exit code; then the guest powers off.
#
# --put SRC:DEST puts the file SRC at the absolute path DEST in the guest
# (parent directories made), in an uncompressed cpio archive placed before
# the compressed one: a large file (a 340 MB vmlinux) costs no gzip on the
# host and no inflating under TCG, only a copy.  Give --mem enough for it
# twice (the initrd and the unpacked file) while the kernel unpacks it.
#
# The host decodes the files into OUT_DIR (relative paths kept, sizes and
# sha256 checked) and writes the raw console to OUT_DIR/console.log (the
# base64 payload is left out of it when the transfer succeeded).  Existing
# files in OUT_DIR are overwritten, others are left alone.
#
# Notes: Debian's static busybox shell runs its own applets before PATH, so a
# FILE named like an applet (sleep, ip, ...) must be called by its path
# (/bin/NAME).  The serial link moves about 100 KB/s of base64 under TCG:
# a 1 MiB incompressible file takes about 10 s; text compresses well.
#
# Exit status:
#   the guest script's exit code (0 on success) when the guest ran to the end
#     and every file arrived intact;
#   124  the timeout (default 300 s) expired and qemu was killed;
#   125  any other harness failure: bad usage, qemu failed, kernel did not
#        boot or panicked, no final marker, a file arrived corrupted.
# Failures print one line `run-guest: REASON` on stderr.
#
# Environment: QEMU (default qemu-system-x86_64), BUSYBOX (a static busybox,
# default: busybox from PATH), VM_VERBOSE=1 streams the console to stderr and
# reports the wall time.

# Single-threaded TCG: with multi-threaded TCG, Debian's 6.12 guest took an
# "Oops: int3" in __schedule while a tracepoint's static key was patched in
# (cross-modifying code racing another vCPU under emulation).  One host
# thread running both vCPUs in turn keeps SMP semantics and avoids it.

set -u
set -o pipefail

me=run-guest
fail() { echo "$me: $*" >&2; exit 125; }

timeout_s=300
mem=1024
smp=2
append_extra=
puts=()
while [ $# -gt 0 ]; do
    case $1 in
        --timeout) [ $# -ge 2 ] || fail "--timeout needs a value"; timeout_s=$2; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        --mem) [ $# -ge 2 ] || fail "--mem needs a value"; mem=$2; shift 2 ;;
        --mem=*) mem=${1#*=}; shift ;;
        --smp) [ $# -ge 2 ] || fail "--smp needs a value"; smp=$2; shift 2 ;;
        --smp=*) smp=${1#*=}; shift ;;
        --append) [ $# -ge 2 ] || fail "--append needs a value"; append_extra=$2; shift 2 ;;
        --append=*) append_extra=${1#*=}; shift ;;
        --put) [ $# -ge 2 ] || fail "--put needs SRC:DEST"; puts+=("$2"); shift 2 ;;
        --put=*) puts+=("${1#*=}"); shift ;;
        --) shift; break ;;
        -h|--help) sed -n '2,/^$/s/^# \{0,1\}//p' "$0"; exit 0 ;;
        -*) fail "unknown option $1" ;;
        *) break ;;
    esac
done
[ $# -ge 3 ] || fail "usage: $0 [--timeout SECS] [--mem MB] VMLINUZ GUEST_SCRIPT OUT_DIR [FILE...]"
vmlinuz=$1 script=$2 outdir=$3
shift 3

case $timeout_s in ''|*[!0-9]*|0) fail "bad --timeout '$timeout_s'" ;; esac
case $mem in ''|*[!0-9]*) fail "bad --mem '$mem'" ;; esac
case $smp in ''|*[!0-9]*|0) fail "bad --smp '$smp'" ;; esac
[ -f "$vmlinuz" ] && [ -r "$vmlinuz" ] || fail "no kernel image $vmlinuz"
[ -f "$script" ] && [ -r "$script" ] || fail "no guest script $script"
for p in "${puts[@]}"; do
    src=${p%%:*} dst=${p#*:}
    [ "$src" != "$p" ] && [ -f "$src" ] && [ -r "$src" ] || fail "--put $p: no file ${src:-?}"
    case $dst in
        /*/..|/*/../*|*/./*|/|*//*|*/) fail "--put $p: bad guest path $dst" ;;
        /?*) ;;
        *) fail "--put $p: the guest path must be absolute" ;;
    esac
done
for f in "$@"; do
    [ -e "$f" ] || fail "no such file $f"
    case $(basename -- "$f") in
        busybox|.|..) fail "refusing to put '$f' in /bin" ;;
    esac
done

qemu=${QEMU:-qemu-system-x86_64}
command -v "$qemu" >/dev/null 2>&1 || fail "$qemu not found (apt-get install qemu-system-x86)"
command -v cpio >/dev/null 2>&1 || fail "cpio not found (apt-get install cpio)"
busybox=${BUSYBOX:-$(command -v busybox || true)}
[ -n "$busybox" ] && [ -x "$busybox" ] || fail "busybox not found (apt-get install busybox-static)"
if command -v readelf >/dev/null 2>&1 &&
   readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
    fail "$busybox is dynamically linked (apt-get install busybox-static)"
fi

mkdir -p "$outdir" || fail "cannot create $outdir"
outdir=$(cd "$outdir" && pwd)

work=$(mktemp -d "${TMPDIR:-/tmp}/run-guest.XXXXXX") || fail "mktemp failed"
qpid=
tailpid=
cleanup() {
    [ -n "$qpid" ] && kill "$qpid" 2>/dev/null
    [ -n "$tailpid" ] && kill "$tailpid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
trap 'echo "$me: interrupted" >&2; exit 125' INT TERM HUP

# ---------------------------------------------------------------- initramfs
root=$work/root
mkdir -p "$root"/{bin,dev,proc,sys,tmp,out,run,root,etc} || fail "cannot build initramfs tree"
cp "$busybox" "$root/bin/busybox" || fail "cannot copy busybox"
# The applet symlinks are made by /init (`busybox --install -s`): one process
# there instead of hundreds of `ln` here.  It keeps files that exist, so a
# FILE named like an applet wins.
ln -sf bin "$root/sbin"
mkdir -p "$root/usr"
ln -sf ../bin "$root/usr/bin"
ln -sf ../bin "$root/usr/sbin"
# The kernel's own built-in initramfs already has /dev/console; add one anyway
# when we can, so that /init always starts with a console.
mknod -m 600 "$root/dev/console" c 5 1 2>/dev/null || true
mknod -m 666 "$root/dev/null" c 1 3 2>/dev/null || true
echo "root:x:0:0:root:/root:/bin/sh" > "$root/etc/passwd"
echo "root:x:0:" > "$root/etc/group"

for f in "$@"; do
    dst=$root/bin/$(basename -- "$f")
    rm -rf "$dst"
    cp -RL --preserve=mode -- "$f" "$dst" || fail "cannot copy $f"
    if [ -f "$f" ] && [ -x "$f" ] && command -v readelf >/dev/null 2>&1 &&
       readelf -l "$f" 2>/dev/null | grep -q 'program interpreter'; then
        echo "$me: warning: $f is dynamically linked; the guest has no libc" >&2
    fi
done
cp "$script" "$root/guest.sh" || fail "cannot copy $script"

# A per-run nonce makes the markers impossible to produce by accident.
nonce=$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')
[ ${#nonce} -eq 24 ] || fail "cannot make a nonce"
marker="@@RG-$nonce"

cat > "$root/init" <<'EOF'
#!/bin/busybox sh
# Generated by tests/vm/run-guest.sh.
/bin/busybox --install -s /bin
export PATH=/bin HOME=/root TERM=dumb
M=@@MARKER@@
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
exec </dev/console >/dev/console 2>&1
mkdir -p /dev/pts /dev/shm
mount -t devpts -o mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tracefs tracefs /sys/kernel/tracing || echo "init: cannot mount tracefs"
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t bpf bpf /sys/fs/bpf || echo "init: cannot mount bpffs"
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /out
mount -t tmpfs tmpfs /run
ip link set lo up || echo "init: cannot bring lo up"

echo "$M BOOTED $(uname -r)"
mkfifo /run/guest.fifo
tee /out/guest.log </run/guest.fifo &
teepid=$!
(cd /tmp && exec sh /guest.sh) >/run/guest.fifo 2>&1 </dev/null &
wait $!
rc=$?
# Let tee drain what the script wrote, then stop whatever the script left
# running (it could otherwise write to the console during the transfer).
i=0
while kill -0 $teepid 2>/dev/null && [ $i -lt 20 ]; do sleep 0.1; i=$((i + 1)); done
kill -9 -1 2>/dev/null
sleep 0.1
[ -e /out/dmesg.log ] || dmesg >/out/dmesg.log 2>/dev/null
dmesg -n 1 2>/dev/null

echo
echo "$M XFER-START"
cd /out
find . -type f | while IFS= read -r f; do
    [ -f "$f" ] || continue     # a name with a newline in it: skipped
    p=${f#./}
    sz=$(wc -c <"$f")
    sz=$((sz + 0))
    sum=$(sha256sum <"$f")
    echo "$M BEGIN $sz ${sum%% *} $p"
    gzip -c "$f" | base64
    echo "$M END"
done
cd /
echo "$M XFER-DONE"
echo "$M EXIT $rc"
# Give the UART time to send the tail of its buffer before power-off.
sleep 0.5
poweroff -f
sleep 2
echo o >/proc/sysrq-trigger
EOF
sed -i "s/@@MARKER@@/$marker/" "$root/init"
chmod 755 "$root/init"

initrd=$work/initrd
: >"$initrd"
if [ ${#puts[@]} -gt 0 ]; then
    # links to the files, archived as their contents (cpio -L): no copy
    big=$work/big
    for p in "${puts[@]}"; do
        src=${p%%:*} dst=${p#*:}
        mkdir -p "$big$(dirname -- "$dst")" || fail "cannot stage $dst"
        ln -sfn "$(readlink -f -- "$src")" "$big$dst" || fail "cannot stage $dst"
    done
    # the kernel reads concatenated archives, compressed or not
    # (Documentation/driver-api/early-userspace/buffer-format.rst)
    ( cd "$big" && find . -mindepth 1 -print0 | LC_ALL=C sort -z |
      cpio --null -o -H newc -R 0:0 -L --quiet ) >"$initrd" ||
        fail "cannot build the archive of --put files"
fi
( cd "$root" && find . -print0 | LC_ALL=C sort -z |
  cpio --null -o -H newc -R 0:0 --quiet | gzip -1 ) >>"$initrd" ||
    fail "cannot build the initramfs"

# --------------------------------------------------------------------- boot
raw=$work/console.raw
: >"$raw"
append="console=ttyS0 quiet panic=-1 $append_extra"
start=$(date +%s.%N)
if [ "${VM_VERBOSE:-0}" = 1 ]; then
    tail -n +1 -f "$raw" >&2 &
    tailpid=$!
fi
# -serial file: keeps qemu away from the terminal; stdin is /dev/null.
timeout -k 5 "$timeout_s" "$qemu" \
    -machine pc -accel tcg,thread=single -cpu "${VM_CPU:-max}" -smp "$smp" -m "$mem" \
    -kernel "$vmlinuz" -initrd "$initrd" -append "$append" \
    -nographic -monitor none -serial "file:$raw" -nic none -no-reboot \
    </dev/null >"$work/qemu.out" 2>&1 &
qpid=$!
wait $qpid 2>/dev/null
qrc=$?
qpid=
end=$(date +%s.%N)
if [ -n "$tailpid" ]; then
    sleep 0.2
    kill "$tailpid" 2>/dev/null
    wait "$tailpid" 2>/dev/null
    tailpid=
fi
[ "${VM_VERBOSE:-0}" = 1 ] &&
    echo "$me: $(basename "$vmlinuz"): qemu ran $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }') s" >&2


# ------------------------------------------------------------------- decode
# Only the part after the last XFER-START line is read; base64 lines are
# those made of base64 characters only, so stray kernel lines are skipped.
xfer=$work/xfer
mkdir -p "$xfer"
tr -d '\r' <"$raw" | awk -v M="$marker" -v D="$xfer" '
    function field(n) { split($0, a, " "); return a[n] }
    # Marker lines may follow terminal escapes on the same line: cut those.
    (m = index($0, M " ")) > 0 {
        $0 = substr($0, m)
        word = field(2)
        if (word == "XFER-START") {
            started = 1; nfile = 0; cur = ""; done = 0
            printf "" > (D "/manifest")
            next
        }
        if (!started) next
        if (word == "BEGIN") {
            nfile++; cur = D "/" nfile ".b64"; printf "" > cur
            # path = everything after the 5th space-separated field
            rest = $0
            for (k = 0; k < 4; k++) sub(/^[^ ]* /, "", rest)
            hdr[nfile] = field(3) " " field(4) " " rest
            next
        }
        if (word == "END") {
            if (cur != "") { close(cur); print nfile " " hdr[nfile] >> (D "/manifest") }
            cur = ""; next
        }
        if (word == "XFER-DONE") { done = 1; cur = ""; next }
        if (word == "EXIT") { print field(3) > (D "/exit"); next }
        next
    }
    cur != "" && /^[A-Za-z0-9+\/=]+$/ { print >> cur }
    END {
        if (started) print (done ? "done" : "partial") > (D "/state")
    }
'

bad=
if [ -f "$xfer/manifest" ]; then
    while IFS=' ' read -r n sz sum path; do
        case $path in
            ''|/*|..|../*|*/../*|*/..)
                bad="unsafe path '$path'"; continue ;;
        esac
        dst=$outdir/$path
        mkdir -p "$(dirname -- "$dst")" || { bad="cannot create directory for $path"; continue; }
        if ! base64 -d <"$xfer/$n.b64" 2>/dev/null | gzip -dc >"$xfer/$n.data" 2>/dev/null; then
            bad="$path arrived corrupted (bad base64/gzip)"; continue
        fi
        got=$(sha256sum <"$xfer/$n.data"); got=${got%% *}
        gsz=$(wc -c <"$xfer/$n.data")
        if [ "$got" != "$sum" ] || [ "$gsz" -ne "$sz" ]; then
            bad="$path arrived corrupted (checksum mismatch)"; continue
        fi
        mv -f "$xfer/$n.data" "$dst" || bad="cannot write $dst"
    done <"$xfer/manifest"
fi

# The console log: raw, but without the base64 payload when every file arrived.
if [ -z "$bad" ] && [ "$(cat "$xfer/state" 2>/dev/null)" = "done" ]; then
    LC_ALL=C awk -v M="$marker" '
        index($0, M " BEGIN ") { print; skip = 1; next }
        index($0, M " END")    { skip = 0 }
        !skip
    ' "$raw" >"$outdir/console.log"
else
    cp "$raw" "$outdir/console.log"
fi

# ------------------------------------------------------------------ verdict
panic_line() {
    tr -d '\r' <"$raw" | grep -a -m1 -E 'Kernel panic|BUG:|Oops:' | cut -c1-160
}
elapsed=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%d", b - a }')
if [ "$qrc" -gt 128 ] && { [ "$qrc" -ne 137 ] || [ "$elapsed" -lt "$timeout_s" ]; }; then
    fail "qemu died of signal $((qrc - 128)) after ${elapsed}s"
fi
if [ "$qrc" -eq 124 ] || [ "$qrc" -eq 137 ]; then
    if ! grep -aq "$marker BOOTED" "$raw"; then
        echo "$me: timed out after ${timeout_s}s; the kernel never reached /init" >&2
    elif ! grep -aq "$marker XFER-START" "$raw"; then
        echo "$me: timed out after ${timeout_s}s; the guest script did not finish" >&2
    else
        echo "$me: timed out after ${timeout_s}s during the file transfer" >&2
    fi
    exit 124
fi
# qemu exits 0 when someone else sends it SIGTERM/SIGINT/SIGHUP; it says so.
qerr=$(grep -m1 -v '^$' "$work/qemu.out" 2>/dev/null | cut -c1-200)
sig=$(grep -m1 'terminating on signal' "$work/qemu.out" 2>/dev/null)
[ -n "$sig" ] && fail "qemu was killed from outside: $sig"
if ! grep -aq "$marker BOOTED" "$raw"; then
    p=$(panic_line)
    [ -n "$p" ] && fail "the kernel did not reach /init: $p"
    [ "$qrc" -ne 0 ] && fail "qemu failed (status $qrc)${qerr:+: $qerr}"
    fail "the kernel did not reach /init (see $outdir/console.log)${qerr:+; qemu: $qerr}"
fi
if [ ! -s "$xfer/exit" ]; then
    p=$(panic_line)
    [ -n "$p" ] && fail "the guest stopped without a final marker: $p"
    [ "$qrc" -ne 0 ] && fail "qemu failed (status $qrc) before the final marker${qerr:+: $qerr}"
    fail "the guest stopped without a final marker (see $outdir/console.log)${qerr:+; qemu: $qerr}"
fi
[ "$(cat "$xfer/state" 2>/dev/null)" = "done" ] || fail "the file transfer did not complete"
[ -z "$bad" ] || fail "$bad"
rc=$(cat "$xfer/exit")
case $rc in ''|*[!0-9]*) fail "bad exit code '$rc' in the final marker" ;; esac
if [ "$rc" -ne 0 ]; then
    echo "$me: guest script exited with status $rc" >&2
    [ "$rc" -gt 255 ] && rc=255
fi
exit "$rc"
