#!/bin/bash
# The inline rung on this host (auto, --attach=inline, --sites FILE,
# --vmlinux FILE): where it cannot be used, `probes` says why (no kprobes,
# no debug info and the package to install, another build's sites file or
# vmlinux with both build-ids), --attach=inline fails with that one line,
# and nothing else changes (no sites cache is made).  The cache itself is
# unit-tested in tests/sites_test.c.
# The rung itself attaches only in the QEMU guests (tests/run-all.sh,
# "Debian kernels under qemu-system-x86_64", mode inline).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: inline.sh EPOLLTRACE OUTDIR
set -u
ET=$(readlink -f "$1") OUT=$2
rm -rf "$OUT"
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")

pass() { echo "PASS inline: $1"; }
fail() { echo "FAIL inline: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

R=$(uname -r)
unset EPOLLTRACE_VMLINUX
# the running kernel's GNU build-id, from its notes (type 3, name "GNU")
RUNNING=$(python3 - <<'PY'
import struct
b = open("/sys/kernel/notes", "rb").read()
o = 0
while o + 12 <= len(b):
    nsz, dsz, typ = struct.unpack("<III", b[o:o + 12])
    name = b[o + 12:o + 12 + nsz]
    d = o + 12 + ((nsz + 3) & ~3)
    if typ == 3 and name.rstrip(b"\0") == b"GNU":
        print(b[d:d + dsz].hex())
        break
    o = d + ((dsz + 3) & ~3)
PY
)
kprobes=yes
[ -e /sys/bus/event_source/devices/kprobe/type ] || kprobes=no
have_dbg=
for f in /usr/lib/debug/boot/vmlinux-$R /usr/lib/debug/lib/modules/$R/vmlinux \
	 /lib/modules/$R/build/vmlinux /boot/vmlinux-$R; do
	[ -e "$f" ] && have_dbg=$f
done

# ---- probes, auto: the three hooks, rejected with the reason ---------------
"$ET" probes >"$OUT/probes.txt" 2>"$OUT/probes.err"
rc=$?
why=$(grep "^  rejected   inline     ep_insert: " "$OUT/probes.txt")
ok=yes
[ "$kprobes" = no ] && ! grep -q "kprobes unavailable" <<<"$why" && ok=no
[ -z "$have_dbg" ] && ! grep -q "no debug info for the running kernel $R (build-id $RUNNING)" \
	<<<"$why" && ok=no
if [ $rc = 0 ] && [ $ok = yes ] && [ -n "$why" ] &&
	grep -q "^ep_poll  *-  *none  *not by name" "$OUT/probes.txt" &&
	grep -q "^  rejected   inline     ep_send_events: " "$OUT/probes.txt" &&
	! grep -q "^INLINE SITES" "$OUT/probes.txt" &&
	grep -q "^result: a full mode works" "$OUT/probes.txt"; then
	pass "probes: the inline rung rejected with its reason (kprobes $kprobes, debug info ${have_dbg:-none})"
else
	fail "probes: the inline rung's reason" "rc=$rc $why $(tail -n 3 "$OUT/probes.txt")"
fi
# on Debian, the package to install
if [ -z "$have_dbg" ] && grep -qx "ID=debian" /etc/os-release 2>/dev/null; then
	if grep -q "install linux-image-$R-dbg" <<<"$why"; then
		pass "probes: names the package linux-image-$R-dbg"
	else
		fail "probes: the package to install" "$why"
	fi
fi

"$ET" probes --json >"$OUT/probes.json" 2>/dev/null
if python3 - "$OUT/probes.json" >"$OUT/probes.check" 2>&1 <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
assert p["inline"] is None, p["inline"]
h = {x["hook"]: x for x in p["hooks"]}
for n in ("ep_insert", "ep_poll", "ep_send_events"):
    assert h[n]["using"] is None and h[n]["fidelity"] == "none", h[n]
    assert not h[n]["required"], h[n]
    t = h[n]["tried"]
    # the ranking: the function by name, then its inlined sites
    assert [x["kind"] for x in t] == ["named", "inline"], t
    assert all(x["point"] == n and x["rejected"] and not x["chosen"] for x in t), t
PY
then
	pass "probes --json: inline null, the three hooks with their rejected rungs, named then inline"
else
	fail "probes --json" "$(tail -n 2 "$OUT/probes.check")"
fi

# ---- --attach=inline fails, one line, exit 1, nothing on stdout -----------------
if [ "$kprobes" = no ] || [ -z "$have_dbg" ]; then
	"$ET" probes --attach=inline >"$OUT/pi.txt" 2>"$OUT/pi.err"
	rc=$?
	if [ $rc = 1 ] && [ "$(wc -l <"$OUT/pi.err")" = 1 ] &&
		grep -q "^epolltrace: no full mode works: --attach=inline: " "$OUT/pi.err" &&
		grep -q "^result: no full mode works: --attach=inline: " "$OUT/pi.txt"; then
		pass "probes --attach=inline: exit 1, the reason"
	else
		fail "probes --attach=inline" "rc=$rc $(cat "$OUT/pi.err")"
	fi
	"$ET" --attach=inline -d 1 --json -- true >"$OUT/ti.out" 2>"$OUT/ti.err"
	rc=$?
	if [ $rc = 1 ] && [ ! -s "$OUT/ti.out" ] && [ "$(wc -l <"$OUT/ti.err")" = 1 ] &&
		grep -q "^epolltrace: cannot attach: --attach=inline: " "$OUT/ti.err"; then
		pass "tracing --attach=inline: exit 1, one line, nothing on stdout"
	else
		fail "tracing --attach=inline" "rc=$rc out=$(head -c 100 "$OUT/ti.out") $(cat "$OUT/ti.err")"
	fi
fi

# ---- --sites: another build's file, a missing one, a bad one ---------------------
OTHER=7f76f39faf07f34cfa9fadd801e131bfa8cb6dc3
[ "$OTHER" = "$RUNNING" ] && OTHER=01d2640d3a13145ee314eb05b155f141b7b7058b
cat >"$OUT/other.sites" <<EOF
epolltrace-sites 1
build-id $OTHER
site ep_poll do_epoll_wait 0xeb inline 0xffffffff814b4eab ep=reg:r15/8 events=mem:sp+16/8 maxevents=reg:si/4 timeout=reg:dx/8
end 1
EOF
"$ET" probes --attach=inline --sites "$OUT/other.sites" >"$OUT/po.txt" 2>"$OUT/po.err"
rc=$?
if [ $rc = 1 ] && grep -q "other.sites is for another build: build-id $OTHER, the running kernel's is $RUNNING" \
	"$OUT/po.err"; then
	pass "--sites of another build: refused, both build-ids named"
else
	fail "--sites of another build" "rc=$rc $(cat "$OUT/po.err")"
fi
"$ET" probes --attach=inline --sites "$OUT/none.sites" >/dev/null 2>"$OUT/pn.err"
rc=$?
if [ $rc = 1 ] && grep -q "none.sites: No such file or directory" "$OUT/pn.err"; then
	pass "--sites of a missing file: the file named"
else
	fail "--sites of a missing file" "rc=$rc $(cat "$OUT/pn.err")"
fi
printf 'epolltrace-sites 1\nbuild-id %s\nsite ep_poll\n' "$RUNNING" >"$OUT/bad.sites"
"$ET" probes --attach=inline --sites "$OUT/bad.sites" >/dev/null 2>"$OUT/pb.err"
rc=$?
if [ $rc = 1 ] && grep -q "bad.sites:3: " "$OUT/pb.err"; then
	pass "--sites of a bad file: the file and line named"
else
	fail "--sites of a bad file" "rc=$rc $(cat "$OUT/pb.err")"
fi
# --sites in auto mode, where the rung cannot be used: tracing goes on
"$ET" --sites "$OUT/other.sites" -d 0.3 --json -- true >"$OUT/auto.jsonl" 2>"$OUT/auto.err"
rc=$?
if [ $rc = 0 ] && head -n 1 "$OUT/auto.jsonl" | grep -q '"hook":"ep_insert","using":null' &&
	grep -q "^epolltrace: warning: --sites .*other.sites is not used: .*build-id $OTHER" \
		"$OUT/auto.err"; then
	pass "--sites in auto mode: tracing goes on without the rung, a warning says why"
else
	fail "--sites in auto mode" "rc=$rc $(head -c 300 "$OUT/auto.jsonl") $(cat "$OUT/auto.err")"
fi
# ---- --vmlinux: another build's file is refused with both build-ids -------------
# a small ELF with a GNU build-id note stands for another build's vmlinux:
# the build-id is checked before anything else is read
printf 'int main(void) { return 0; }\n' >"$OUT/other.c"
gcc -Wl,--build-id=sha1 -o "$OUT/vmlinux-other" "$OUT/other.c" 2>"$OUT/gcc.err"
VID=$(readelf -n "$OUT/vmlinux-other" 2>/dev/null | sed -n 's/.*Build ID: //p')
REFUSED="vmlinux-other is another build: its build-id is $VID, the running kernel's is $RUNNING"
"$ET" probes --vmlinux "$OUT/vmlinux-other" >"$OUT/pv.txt" 2>"$OUT/pv.err"
rc=$?
if [ -n "$VID" ] && [ $rc = 0 ] &&
	grep -q "^  rejected   inline     ep_poll: .*$REFUSED" "$OUT/pv.txt" &&
	grep -q "^result: a full mode works" "$OUT/pv.txt"; then
	pass "probes --vmlinux of another build: the rung rejected, both build-ids named"
else
	fail "probes --vmlinux of another build" "rc=$rc vid=$VID $(grep inline "$OUT/pv.txt") $(cat "$OUT/gcc.err" "$OUT/pv.err")"
fi
EPOLLTRACE_VMLINUX=$OUT/vmlinux-other "$ET" probes --attach=inline >"$OUT/pve.txt" 2>"$OUT/pve.err"
rc=$?
if [ $rc = 1 ] && [ "$(wc -l <"$OUT/pve.err")" = 1 ] && grep -q "$REFUSED" "$OUT/pve.err"; then
	pass "EPOLLTRACE_VMLINUX of another build, --attach=inline: exit 1, both build-ids"
else
	fail "EPOLLTRACE_VMLINUX of another build" "rc=$rc $(cat "$OUT/pve.err")"
fi
"$ET" --vmlinux "$OUT/vmlinux-other" -d 0.3 --json -- true >"$OUT/tv.jsonl" 2>"$OUT/tv.err"
rc=$?
if [ $rc = 0 ] && head -n 1 "$OUT/tv.jsonl" | grep -q '"hook":"ep_insert","using":null' &&
	grep -q "^epolltrace: warning: --vmlinux .*vmlinux-other is not used: .*$VID" "$OUT/tv.err"; then
	pass "tracing --vmlinux of another build: goes on without the rung, a warning says why"
else
	fail "tracing --vmlinux of another build" "rc=$rc $(cat "$OUT/tv.err")"
fi
"$ET" probes --vmlinux "$OUT/none" >"$OUT/pvn.txt" 2>&1
if grep -q "^  rejected   inline     ep_insert: .*none: No such file or directory" "$OUT/pvn.txt"; then
	pass "probes --vmlinux of a missing file: the file named"
else
	fail "probes --vmlinux of a missing file" "$(grep inline "$OUT/pvn.txt")"
fi
"$ET" probes --vmlinux= >/dev/null 2>"$OUT/pve2.err"
rc=$?
if [ $rc = 2 ] && grep -q "^epolltrace: --vmlinux needs a file name" "$OUT/pve2.err"; then
	pass "--vmlinux with an empty name: exit 2"
else
	fail "--vmlinux with an empty name" "rc=$rc $(cat "$OUT/pve2.err")"
fi

# ---- the sites cache: nothing read or written where the rung cannot be used ----
EPOLLTRACE_CACHE=$OUT/cache "$ET" probes >"$OUT/pc.txt" 2>"$OUT/pc.err"
rc=$?
if [ $rc = 0 ] && [ ! -e "$OUT/cache" ] && [ ! -s "$OUT/pc.err" ] &&
	cmp -s "$OUT/pc.txt" "$OUT/probes.txt"; then
	pass "the sites cache: nothing made here (kprobes $kprobes), probes as without it"
else
	fail "the sites cache on this host" "rc=$rc $(ls -la "$OUT/cache" 2>&1) $(cat "$OUT/pc.err")"
fi
"$ET" probes --no-cache >"$OUT/pnc.txt" 2>"$OUT/pnc.err"
rc=$?
if [ $rc = 0 ] && cmp -s "$OUT/pnc.txt" "$OUT/probes.txt"; then
	pass "probes --no-cache: accepted, the same plan"
else
	fail "probes --no-cache" "rc=$rc $(cat "$OUT/pnc.err")"
fi
if "$ET" probes --help | grep -q -- "--no-cache" && "$ET" --help | grep -q -- "--vmlinux FILE" &&
	"$ET" --help | grep -q "/var/cache/epolltrace"; then
	pass "help: --vmlinux, --no-cache and the cache's place"
else
	fail "help" "$("$ET" --help | grep -n "vmlinux\|cache")"
fi

# where it does not apply
"$ET" replay "$OUT/x.etr" --sites "$OUT/other.sites" >/dev/null 2>"$OUT/pr.err"
rc=$?
if [ $rc = 2 ] && grep -q "replay: --sites applies to tracing, record, demo and probes" "$OUT/pr.err"; then
	pass "--sites given to replay: exit 2, where it applies"
else
	fail "--sites given to replay" "rc=$rc $(cat "$OUT/pr.err")"
fi
for o in "--vmlinux=$OUT/vmlinux-other" --no-cache; do
	"$ET" replay "$OUT/x.etr" "$o" >/dev/null 2>"$OUT/pr2.err"
	rc=$?
	if [ $rc = 2 ] && grep -q "replay: ${o%%=*} applies to tracing, record, demo" "$OUT/pr2.err"; then
		pass "${o%%=*} given to replay: exit 2, where it applies"
	else
		fail "${o%%=*} given to replay" "rc=$rc $(cat "$OUT/pr2.err")"
	fi
done
"$ET" probes --attach=bogus >/dev/null 2>"$OUT/pa.err"
if grep -q "use auto, fentry, kprobe, tracepoint or inline" "$OUT/pa.err"; then
	pass "--attach=bogus: the modes listed, inline among them"
else
	fail "--attach=bogus" "$(cat "$OUT/pa.err")"
fi
exit 0
