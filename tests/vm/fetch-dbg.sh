#!/bin/sh
# fetch-dbg.sh CACHE_DIR IMAGE_PKG
#
# Fetch the debug-info package of a stock Debian kernel image package
# (IMAGE_PKG-dbg, e.g. linux-image-6.12.117+deb12-cloud-amd64-dbg) and print
# the path of its vmlinux.  A sibling of fetch-kernel.sh, sharing its cache:
# the .deb is fetched with `apt-get download` into CACHE_DIR, only
# ./usr/lib/debug/boot is extracted (the vmlinux; the modules' debug info is
# most of the package and is not needed) into CACHE_DIR/IMAGE_PKG-dbg/, and
# the .deb is then removed (280-320 MB): the extracted vmlinux, moved into
# place only when complete, is the cache.
# IMAGE_PKG must be a concrete image package: the -dbg package exists only
# for those (fetch-kernel.sh resolves meta packages; pass its result).
#
# stdout: the absolute path of the vmlinux, nothing else.  Messages: stderr.
# Exit status: 0 on success, 1 on any failure (with a one-line reason).

set -eu

me=fetch-dbg
die() { echo "$me: $*" >&2; exit 1; }
say() { echo "$me: $*" >&2; }
. "$(dirname "$0")/apt-fetch.sh"

[ $# -eq 2 ] || die "usage: $0 CACHE_DIR IMAGE_PKG"
cache=$1
case $2 in
    ''|-*|*/*|*' '*) die "bad package name '$2'" ;;
esac
pkg=$2-dbg

mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)

find_vmlinux() {
    for f in "$cache/$pkg"/usr/lib/debug/boot/vmlinux-*; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

cached_deb() {
    ls -t "$cache/$pkg"_*.deb 2>/dev/null | head -n 1
}

# The same lock as fetch-kernel.sh: one apt-get at a time on this cache.
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.lock"
    flock 9
fi

if v=$(find_vmlinux); then
    echo "$v"
    exit 0
fi

apt_known "$pkg"

deb=$(cached_deb)
if [ -z "$deb" ]; then
    say "downloading $pkg (about 300 MB)"
    t0=$(date +%s)
    deb=$(apt_download "$pkg")
    say "downloaded $(basename "$deb") in $(( $(date +%s) - t0 )) s"
    rm -rf "${cache:?}/$pkg"
fi

if ! v=$(find_vmlinux); then
    say "extracting the vmlinux from $(basename "$deb")"
    tmp=$(mktemp -d "$cache/.x.XXXXXX")
    if ! dpkg-deb --fsys-tarfile "$deb" | (cd "$tmp" && tar -x ./usr/lib/debug/boot); then
        rm -rf "$tmp"
        die "extracting $deb failed (corrupt download? remove it and retry)"
    fi
    rm -rf "${cache:?}/$pkg"
    mv "$tmp" "$cache/$pkg"
    v=$(find_vmlinux) || die "$deb has no usr/lib/debug/boot/vmlinux-*"
    rm -f "$deb"
fi

echo "$v"
