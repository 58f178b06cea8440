#!/bin/bash
# `epolltrace sites` on real debug info: the Debian -dbg packages of the
# 6.1 and 6.12 cloud kernels the QEMU guests boot (tests/vm/fetch-dbg.sh
# fetches each once into the VM cache, 280-320 MB, and extracts only the
# vmlinux).  The sites and argument locations are checked against the
# tables measured for 6.1.192 and 6.12.117 (KERNEL_FACTS.md, "Inlined
# sites") and, with linux-perf, against `perf probe -k VMLINUX -n -D`,
# which reads the same DWARF by other code.  Also: the sites file, the
# lookup order's build-id check, this host's missing debug info, and
# debuginfod (a real server on 127.0.0.1:17100 in a network namespace).
# Prints one line per check: "PASS name" or "FAIL name :: detail".
#
# usage: sites.sh EPOLLTRACE OUTDIR
# env:   VM_CACHE (default build/vm); SITES_IMAGE, SITES_IMAGE_61: the image
#        packages whose -dbg is used (default the builds of the tables;
#        when the archive no longer has one, the newest build of its series
#        is used and checked against perf probe only)
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
ET=$(readlink -f "$1") OUT=$2
rm -rf "$OUT"		# nothing from an earlier run counts
mkdir -p "$OUT"
OUT=$(readlink -f "$OUT")
CACHE=${VM_CACHE:-$ROOT/build/vm}
TABLE_IMAGE=linux-image-6.12.117+deb12-cloud-amd64
IMAGE=${SITES_IMAGE:-$TABLE_IMAGE}

pass() { echo "PASS sites: $1"; }
fail() { echo "FAIL sites: $1 :: $(echo "$2" | tr '\n' ' ' | cut -c1-400)"; }

# ---- this host: no debug info for the running kernel ----------------------
R=$(uname -r)
unset EPOLLTRACE_VMLINUX
have_dbg=
for f in /usr/lib/debug/boot/vmlinux-$R /usr/lib/debug/lib/modules/$R/vmlinux \
	 /lib/modules/$R/build/vmlinux /boot/vmlinux-$R; do
	[ -e "$f" ] && have_dbg=$f
done
"$ET" sites >"$OUT/host.out" 2>"$OUT/host.err"
rc=$?
if [ -z "$have_dbg" ]; then
	# which package the message must name, from /etc/os-release
	. /etc/os-release
	case " ${ID:-} ${ID_LIKE:-} " in
	*" ubuntu "*) want="linux-image-$R-dbgsym" ;;
	*" fedora "*|*" rhel "*) want="debuginfo-install kernel-$R" ;;
	*) want="linux-image-$R-dbg" ;;
	esac
	if [ $rc = 1 ] && [ ! -s "$OUT/host.out" ] && [ "$(wc -l <"$OUT/host.err")" = 1 ] &&
	   grep -qF "install $want" "$OUT/host.err"; then
		pass "no debug info here: one line naming $want, exit 1"
	else
		fail "no debug info here" "rc=$rc out=$(head -c 200 "$OUT/host.out") err=$(cat "$OUT/host.err")"
	fi
else
	if [ $rc = 0 ] && grep -q "(the running kernel)" "$OUT/host.out"; then
		pass "this kernel's debug info found at $have_dbg"
	else
		fail "this kernel's debug info at $have_dbg" "rc=$rc $(cat "$OUT/host.err")"
	fi
fi

# ---- the guest kernels' debug info --------------------------------------------
# kernel TAG IMAGE META: fetch IMAGE's -dbg vmlinux (or, when the archive no
# longer has IMAGE, the newest one META points to; then the measured table
# does not apply and only perf probe checks the locations), resolve its
# sites, check them.  Sets V, vid and J (its JSON report).
kernel() {
	local tag=$1 image=$2 meta=$3 table=$2 t0 img rc
	t0=$(date +%s)
	V=""
	if ! V=$("$ROOT/tests/vm/fetch-dbg.sh" "$CACHE" "$image" 2>"$OUT/fetch-$tag.err") &&
	   [ -z "${SITES_IMAGE:-}" ]; then
		# the archive keeps only the newest build: take it, via the meta package
		img=$("$ROOT/tests/vm/fetch-kernel.sh" "$CACHE" "$meta" 2>>"$OUT/fetch-$tag.err") &&
			img=$(basename "$(dirname "$(dirname "$img")")") && image=$img &&
			V=$("$ROOT/tests/vm/fetch-dbg.sh" "$CACHE" "$image" 2>>"$OUT/fetch-$tag.err")
	fi
	if [ -z "$V" ] || [ ! -f "$V" ]; then
		fail "$tag: fetch the -dbg vmlinux of $image" "$(tail -n 3 "$OUT/fetch-$tag.err")"
		return 1
	fi
	pass "$tag: fetch the -dbg vmlinux of $image ($(( $(date +%s) - t0 )) s, $(du -m "$V" | cut -f1) MB)"
	vid=$(readelf -n "$V" | awk '/Build ID:/ { print $3; exit }')
	J=$OUT/sites-$tag.json
	"$ET" sites --vmlinux "$V" --json >"$J" 2>"$OUT/sites-$tag.err"
	rc=$?
	if [ $rc = 0 ] && [ ! -s "$OUT/sites-$tag.err" ]; then
		pass "$tag: sites --vmlinux of another build: exit 0"
	else
		fail "$tag: sites --vmlinux of another build" "rc=$rc $(cat "$OUT/sites-$tag.err")"
	fi
	python3 - "$J" "$vid" "$image" "$table" "$tag" <<'PY'
import json, sys
path, vid, image, table_image, tag = sys.argv[1:6]
try:
    d = json.load(open(path))
except Exception as e:
    print(f"FAIL sites: {tag}: JSON report :: {e}")
    sys.exit()
def check(name, ok, detail=""):
    print(f"PASS sites: {tag}: {name}" if ok else f"FAIL sites: {tag}: {name} :: {detail}")
check("build-id of the file, not the running kernel's",
      d.get("build_id") == vid and d.get("running_kernel") is False,
      f"{d.get('build_id')} vs readelf {vid}, running_kernel={d.get('running_kernel')}")
check("only fs/eventpoll.c's unit is read", (d.get("unit") or "").endswith("fs/eventpoll.c"),
      str(d.get("unit")))
sites = d.get("sites", [])
def usable(fn):
    return [s for s in sites if s["function"] == fn and s["usable"]]
for fn in ("ep_insert", "ep_poll", "ep_send_events"):
    u = usable(fn)
    check(f"{fn}: a usable inlined site", any(s["kind"] == "inline" for s in u),
          json.dumps([s for s in sites if s["function"] == fn])[:300])
check("ep_done_scan: its out-of-line entry at offset 0",
      any(s["kind"] == "entry" and s["offset"] == 0 and s["container"] == "ep_done_scan"
          for s in usable("ep_done_scan")), json.dumps(usable("ep_done_scan"))[:300])
# the tables measured in QEMU (KERNEL_FACTS.md, "Inlined sites")
tables = {
    "linux-image-6.12.117+deb12-cloud-amd64": {
        "ep_poll": ("do_epoll_wait", 0xeb, {"ep": "reg:r15", "events": "mem:sp+16",
                                            "maxevents": "reg:si", "timeout": "reg:dx"}),
        "ep_send_events": ("do_epoll_wait", 0x226, {"ep": "reg:r14", "events": "mem:sp+16",
                                                    "maxevents": "mem:sp+32"}),
        "ep_insert": ("do_epoll_ctl", 0x3d1, {"ep": "out", "event": "reg:ax",
                                              "tfile": "reg:r12", "fd": "reg:r13",
                                              "full_check": "mem:sp+16"}),
    },
    "linux-image-6.1.0-57-cloud-amd64": {
        "ep_poll": ("do_epoll_wait", 0x101, {"ep": "reg:r12", "events": "mem:sp+32",
                                             "maxevents": "reg:si", "timeout": "reg:dx"}),
        "ep_send_events": ("do_epoll_wait", 0x1f1, {"ep": "reg:r12", "events": "mem:sp+32",
                                                    "maxevents": "mem:sp+28"}),
        "ep_insert": ("do_epoll_ctl", 0x469, {"ep": "out"}),
    },
}
if image != table_image or image not in tables:
    sys.exit()
for fn, (cont, off, args) in tables[image].items():
    u = usable(fn)
    got = [(s["container"], s["offset"], {a["name"]: a["loc"] for a in s["args"]}) for s in u]
    ok = len(u) == 1 and got[0][0] == cont and got[0][1] == off and \
        all(got[0][2].get(k) == v for k, v in args.items())
    check(f"{fn} at {cont}+{off:#x} with {' '.join(f'{k}={v}' for k, v in args.items())}",
          ok, json.dumps(got)[:300])
sizes = {a["name"]: a["size"] for s in usable("ep_poll") for a in s["args"]}
check("argument sizes from the types (maxevents 4, ep 8)",
      sizes.get("maxevents") == 4 and sizes.get("ep") == 8, str(sizes))
PY
	perf_check "$tag"
}

# ---- cross-check with perf probe (reads the same DWARF by other code) ----------
perf_check() {	# tag; uses V and J
	command -v perf >/dev/null 2>&1 && perf probe --help >/dev/null 2>&1 || return 0
	python3 - "$V" "$J" "$1" <<'PY'
import json, re, subprocess, sys
v, j, tag = sys.argv[1:4]
d = json.load(open(j))
def perf_loc(loc):
    m = re.fullmatch(r"reg:(\w+)", loc)
    if m:
        return "%" + m.group(1)
    m = re.fullmatch(r"mem:(\w+)([+-]\d+)", loc)
    if m:
        n = int(m.group(2))
        return f"{'+' if n >= 0 else ''}{n}(%{m.group(1)})"
    return None
for fn in ("ep_insert", "ep_poll", "ep_send_events"):
    ours = [s for s in d["sites"] if s["function"] == fn and s["usable"]]
    names = [a["name"] for a in ours[0]["args"] if perf_loc(a["loc"])] if ours else []
    r = subprocess.run(["perf", "probe", "-k", v, "-n", "-D", " ".join([fn] + names)],
                       capture_output=True, text=True)
    theirs = sorted(l.split()[1] + " " + " ".join(
        re.sub(r":\w+$", "", x) for x in l.split()[2:])
        for l in r.stdout.splitlines() if l.startswith("p:"))
    mine = sorted(f'{s["container"]}+{s["offset"]} ' + " ".join(
        f'{a["name"]}={perf_loc(a["loc"])}' for a in s["args"] if a["name"] in names)
        for s in ours)
    ok = r.returncode == 0 and theirs and theirs == mine
    print(f"PASS sites: {tag}: {fn} as perf probe -D sees it: {'; '.join(theirs)}" if ok else
          f"FAIL sites: {tag}: {fn} as perf probe sees it :: perf {theirs} "
          f"{r.stderr.strip()[:150]} ours {mine}")
PY
}

kernel 6.1 "${SITES_IMAGE_61:-linux-image-6.1.0-57-cloud-amd64}" linux-image-cloud-amd64
# the rest reads the 6.12 kernel's
kernel 6.12 "$IMAGE" linux-image-6.12-cloud-amd64 || exit 0
"$ET" sites --vmlinux "$V" >"$OUT/sites.txt" 2>>"$OUT/sites.err"

# the text report says the same in words
if grep -q "^build-id  $vid (not the running kernel)" "$OUT/sites.txt" &&
   grep -Eq '^ep_poll +do_epoll_wait\+0x[0-9a-f]+ inline .*ep=' "$OUT/sites.txt"; then
	pass "text report: build-id and sites"
else
	fail "text report" "$(head -n 6 "$OUT/sites.txt")"
fi

# the environment variable names the file like --vmlinux
EPOLLTRACE_VMLINUX=$V "$ET" sites >"$OUT/env.txt" 2>"$OUT/env.err"
# (the read time differs from run to run: compared without it)
if [ $? = 0 ] && diff <(grep -v "DWARF read in" "$OUT/env.txt") \
		      <(grep -v "DWARF read in" "$OUT/sites.txt") >/dev/null; then
	pass "EPOLLTRACE_VMLINUX is taken like --vmlinux"
else
	fail "EPOLLTRACE_VMLINUX" "$(cat "$OUT/env.err") $(diff "$OUT/env.txt" "$OUT/sites.txt" | head -n 4)"
fi

# ---- the sites file ------------------------------------------------------------
F=$OUT/guest.sites
rm -f "$F"
"$ET" sites --vmlinux "$V" -o "$F" >/dev/null 2>"$OUT/o.err"
rc=$?
mode=$(stat -c %a "$F" 2>/dev/null)
nsite=$(grep -c '^site ' "$F" 2>/dev/null)
if [ $rc = 0 ] && [ "$mode" = 600 ] && [ "$(sed -n '/^[^#]/{p;q}' "$F")" = "epolltrace-sites 1" ] &&
   grep -qx "build-id $vid" "$F" && grep -qx "end $nsite" "$F" &&
   grep -q '^site ep_insert [^ ]* 0x[0-9a-f]* inline 0x[0-9a-f]* .*fd=reg:[a-z0-9]*/4' "$F" &&
   grep -q '^site ep_poll ' "$F" && grep -q '^site ep_send_events ' "$F"; then
	pass "-o writes the sites file: format 1, the file's build-id, $nsite sites, mode 0600"
else
	fail "-o sites file" "rc=$rc mode=$mode $(cat "$OUT/o.err") $(head -n 6 "$F" 2>/dev/null)"
fi
# every site line of the file is a usable site of the JSON report
python3 - "$F" "$J" <<'PY' && pass "the file's sites are the report's" ||
import json, sys
f, j = sys.argv[1:3]
lines = [l.split() for l in open(f) if l.startswith("site ")]
d = json.load(open(j))
rep = sorted((s["function"], s["container"], s["offset"], s["kind"], s["address"],
              " ".join(f'{a["name"]}={a["loc"]}/{a["size"]}' for a in s["args"]))
             for s in d["sites"] if s["usable"])
got = sorted((l[1], l[2], int(l[3], 16), l[4], l[5], " ".join(l[6:])) for l in lines)
# the JSON address is a hex string
rep = [(a, b, c, k, int(addr, 16) if isinstance(addr, str) else addr, r) for a, b, c, k, addr, r in rep]
got = [(a, b, c, k, int(addr, 16), r) for a, b, c, k, addr, r in got]
sys.exit(0 if got == rep and got else 1)
PY
	fail "the file's sites are the report's" "$(grep '^site' "$F" | head -n 3)"

echo old >"$OUT/keep.sites"
"$ET" sites --vmlinux "$V" -o "$OUT/keep.sites" >/dev/null 2>"$OUT/keep.err"
rc=$?
if [ $rc = 1 ] && [ "$(cat "$OUT/keep.sites")" = old ] && [ "$(wc -l <"$OUT/keep.err")" = 1 ]; then
	pass "an existing file is kept without --force"
else
	fail "existing file without --force" "rc=$rc $(cat "$OUT/keep.err")"
fi
chmod 644 "$OUT/keep.sites"
"$ET" sites --vmlinux "$V" -o "$OUT/keep.sites" --force >/dev/null 2>"$OUT/keep.err"
if [ $? = 0 ] && grep -qx "build-id $vid" "$OUT/keep.sites" &&
   [ "$(stat -c %a "$OUT/keep.sites")" = 600 ]; then
	pass "--force replaces it, mode 0600"
else
	fail "--force" "$(cat "$OUT/keep.err")"
fi
ln -sf "$OUT/target" "$OUT/link.sites"
"$ET" sites --vmlinux "$V" -o "$OUT/link.sites" --force >/dev/null 2>"$OUT/link.err"
if [ $? = 1 ] && [ ! -e "$OUT/target" ]; then
	pass "a symbolic link is refused, even with --force"
else
	fail "symlink refused" "$(cat "$OUT/link.err")"
fi

# ---- the lookup order refuses another build ------------------------------------
# In a private mount namespace, the 6.12 vmlinux is put at /boot/vmlinux-R
# of this (6.18) kernel: the search must refuse it, naming both build-ids.
rid=$(python3 - <<'PY'
import struct
b = open("/sys/kernel/notes", "rb").read()
p = 0
while p + 12 <= len(b):
    n, d, t = struct.unpack_from("<III", b, p)
    name = b[p + 12:p + 12 + n]
    dp = p + 12 + ((n + 3) & ~3)
    if t == 3 and name == b"GNU\0":
        print(b[dp:dp + d].hex())
        break
    p = dp + ((d + 3) & ~3)
PY
)
unshare -m --propagation private sh -c '
	mount -t tmpfs none /boot && : >"/boot/vmlinux-$1" && mount --bind "$2" "/boot/vmlinux-$1" &&
	for d in /usr/lib/debug /lib/modules/$1/build; do
		[ -d "$d" ] && { mount -t tmpfs none "$d" || exit 99; }
	done
	"$3" sites' sh "$R" "$V" "$ET" >"$OUT/mis.out" 2>"$OUT/mis.err"
rc=$?
if [ $rc = 1 ] && [ ! -s "$OUT/mis.out" ] && grep -q "/boot/vmlinux-$R refused: its build-id is $vid" "$OUT/mis.err" &&
   grep -q "(build-id $rid)" "$OUT/mis.err" && [ "$(wc -l <"$OUT/mis.err")" = 1 ]; then
	pass "another build at /boot/vmlinux-R is refused, with both build-ids"
else
	fail "another build in the search is refused" "rc=$rc rid=$rid $(cat "$OUT/mis.err")"
fi

# ---- debuginfod: elfutils' client against a real server ---------------------------
# debuginfod (Debian package debuginfod, in TEST_DEPS) serves the 6.12 -dbg
# vmlinux on 127.0.0.1:17100, in a network namespace of its own (0.188 has
# no listen address: it binds every interface, here only lo).  The client
# (libdebuginfod, dlopen'ed) fetches it by build-id into $OUT/dcache.
if ! command -v debuginfod >/dev/null; then
	fail "debuginfod" "not installed (make test-deps)"
else
	cat >"$OUT/dfd.sh" <<'EOF'
ET=$1 OUT=$2 V=$3 VID=$4
ip link set lo up || exit 98
debuginfod -F -p 17100 -d "$OUT/dfd.sqlite" -t 0 -g 0 -c 1 --disable-source-scan \
	"$(dirname "$V")" >"$OUT/dfd-server.log" 2>&1 &
S=$!
trap 'kill $S 2>/dev/null; wait $S 2>/dev/null' EXIT
# indexed when the server answers for the build-id (a 1-byte range)
python3 - "$VID" <<'PY' || exit 97
import sys, time, urllib.request
url = f"http://127.0.0.1:17100/buildid/{sys.argv[1]}/debuginfo"
for _ in range(600):
    try:
        urllib.request.urlopen(urllib.request.Request(url, headers={"Range": "bytes=0-0"}),
                               timeout=5).read()
        sys.exit(0)
    except Exception:
        time.sleep(0.1)
sys.exit(1)
PY
export DEBUGINFOD_CACHE_PATH=$OUT/dcache
(unset DEBUGINFOD_URLS; "$ET" sites --build-id "$VID" >"$OUT/dfd-nourl.out" 2>"$OUT/dfd-nourl.err"
 echo $? >"$OUT/dfd-nourl.rc")
export DEBUGINFOD_URLS=http://127.0.0.1:17100
"$ET" sites --build-id "$VID" -o "$OUT/dfd.sites" >"$OUT/dfd.out" 2>"$OUT/dfd.err"
echo $? >"$OUT/dfd.rc"
"$ET" sites --build-id 0123456789abcdef0123456789abcdef01234567 >"$OUT/dfd-none.out" \
	2>"$OUT/dfd-none.err"
echo $? >"$OUT/dfd-none.rc"
# the running kernel's, which the server does not have: the usual message, and why
"$ET" sites --debuginfod >"$OUT/dfd-run.out" 2>"$OUT/dfd-run.err"
echo $? >"$OUT/dfd-run.rc"
# where the rung cannot be used (no kprobes here), probes asks nothing
n=$(grep -c "GET /buildid" "$OUT/dfd-server.log")
"$ET" probes --debuginfod >"$OUT/dfd-probes.txt" 2>&1
echo $? >"$OUT/dfd-probes.rc"
sleep 0.2
echo $(($(grep -c "GET /buildid" "$OUT/dfd-server.log") - n)) >"$OUT/dfd-probes.asked"
EOF
	unshare -n bash "$OUT/dfd.sh" "$ET" "$OUT" "$V" "$vid" >"$OUT/dfd-run.log" 2>&1
	rc=$?
	if [ $rc != 0 ]; then
		fail "debuginfod: the server on 127.0.0.1:17100" "rc=$rc $(tail -n 3 "$OUT/dfd-server.log" "$OUT/dfd-run.log")"
	else
		got=$OUT/dcache/$vid/debuginfo
		if [ "$(cat "$OUT/dfd.rc")" = 0 ] && [ ! -s "$OUT/dfd.err" ] &&
			grep -q "^vmlinux *$got" "$OUT/dfd.out" && cmp -s "$OUT/dfd.sites" "$F" &&
			cmp -s "$got" "$V"; then
			pass "debuginfod: sites --build-id fetches the 6.12 vmlinux, the same sites file as --vmlinux"
		else
			fail "debuginfod: sites --build-id" "rc=$(cat "$OUT/dfd.rc") $(cat "$OUT/dfd.err") $(head -n 2 "$OUT/dfd.out") $(diff "$OUT/dfd.sites" "$F" | head -n 4)"
		fi
		if [ "$(cat "$OUT/dfd-none.rc")" = 1 ] && [ ! -s "$OUT/dfd-none.out" ] &&
			grep -qx "epolltrace: sites: debuginfod (http://127.0.0.1:17100): build-id 0123456789abcdef0123456789abcdef01234567: No such file or directory" \
				"$OUT/dfd-none.err"; then
			pass "debuginfod: a build-id the server does not have: exit 1, the server and the build-id named"
		else
			fail "debuginfod: an unknown build-id" "rc=$(cat "$OUT/dfd-none.rc") $(cat "$OUT/dfd-none.err")"
		fi
		if [ "$(cat "$OUT/dfd-run.rc")" = 1 ] && [ "$(wc -l <"$OUT/dfd-run.err")" = 1 ] &&
			grep -q "no debug info for the running kernel $R (build-id $rid): install .*; debuginfod (http://127.0.0.1:17100): build-id $rid: No such file or directory" \
				"$OUT/dfd-run.err"; then
			pass "debuginfod: sites --debuginfod for this kernel: the package to install, and the server's answer"
		else
			fail "debuginfod: sites --debuginfod" "rc=$(cat "$OUT/dfd-run.rc") $(cat "$OUT/dfd-run.err")"
		fi
		if [ "$(cat "$OUT/dfd-nourl.rc")" = 1 ] &&
			grep -qx "epolltrace: sites: debuginfod: DEBUGINFOD_URLS is not set" "$OUT/dfd-nourl.err"; then
			pass "debuginfod: --build-id without DEBUGINFOD_URLS: exit 1, says so"
		else
			fail "debuginfod: no DEBUGINFOD_URLS" "rc=$(cat "$OUT/dfd-nourl.rc") $(cat "$OUT/dfd-nourl.err")"
		fi
		if [ "$(cat "$OUT/dfd-probes.rc")" = 0 ] && [ "$(cat "$OUT/dfd-probes.asked")" = 0 ]; then
			pass "debuginfod: probes --debuginfod where the rung cannot be used asks the server nothing"
		else
			fail "debuginfod: probes --debuginfod" "rc=$(cat "$OUT/dfd-probes.rc") asked $(cat "$OUT/dfd-probes.asked")"
		fi
	fi
	rm -rf "$OUT/dcache" "$OUT/dfd.sqlite"*
fi

# ---- bad input --------------------------------------------------------------------
bad() {	# name, exit, args...
	local name=$1 want=$2
	shift 2
	"$ET" sites "$@" >"$OUT/bad.out" 2>"$OUT/bad.err"
	local rc=$?
	if [ $rc = "$want" ] && [ ! -s "$OUT/bad.out" ] && [ -s "$OUT/bad.err" ]; then
		pass "$name: exit $want, one message"
	else
		fail "$name" "rc=$rc out=$(head -c 100 "$OUT/bad.out") err=$(cat "$OUT/bad.err")"
	fi
}
bad "--vmlinux of a text file" 1 --vmlinux /etc/os-release
bad "--vmlinux of an ELF file without DWARF" 1 --vmlinux /bin/true
bad "--vmlinux of a missing file" 1 --vmlinux "$OUT/none"
bad "an extra argument" 2 --vmlinux "$V" extra
bad "--force without -o" 2 --vmlinux "$V" --force
bad "an unknown option" 2 --bogus
bad "--build-id of bad hex" 2 --build-id xyz
bad "--build-id and --vmlinux" 2 --build-id "$vid" --vmlinux "$V"

exit 0
