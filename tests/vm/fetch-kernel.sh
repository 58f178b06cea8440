#!/bin/sh
# fetch-kernel.sh CACHE_DIR PKG
#
# Fetch a stock Debian kernel image package and print the path of its vmlinuz.
#
# PKG is a concrete image package (linux-image-6.1.0-56-cloud-amd64) or a meta
# package (linux-image-cloud-amd64, linux-image-6.12-cloud-amd64); meta packages
# are resolved with apt-cache to the image package they depend on.  The .deb is
# fetched with `apt-get download` into CACHE_DIR once and unpacked with
# `dpkg -x` into CACHE_DIR/<image package>/; later runs reuse both.
# `apt-get update` runs only when apt-cache does not know PKG.
#
# stdout: the absolute path of the vmlinuz, nothing else.  Messages: stderr.
# Exit status: 0 on success, 1 on any failure (with a one-line reason).

set -eu

me=fetch-kernel
die() { echo "$me: $*" >&2; exit 1; }
say() { echo "$me: $*" >&2; }
. "$(dirname "$0")/apt-fetch.sh"

[ $# -eq 2 ] || die "usage: $0 CACHE_DIR PKG"
cache=$1
pkg=$2
case $pkg in
    ''|-*|*/*|*' '*) die "bad package name '$pkg'" ;;
esac

mkdir -p "$cache" || die "cannot create $cache"
cache=$(cd "$cache" && pwd)

# The vmlinuz inside an unpacked image package, if any.
find_vmlinuz() {
    for f in "$cache/$1"/boot/vmlinuz-*; do
        [ -f "$f" ] && { echo "$f"; return 0; }
    done
    return 1
}

# The newest cached .deb of concrete image package $1, if any.
cached_deb() {
    ls -t "$cache/$1"_*.deb 2>/dev/null | head -n 1
}

# Serialise concurrent runs on the same cache (two `make check`s at once).
if command -v flock >/dev/null 2>&1; then
    exec 9>"$cache/.lock"
    flock 9
fi

# Fast path: PKG is a concrete package we already have.
if [ -n "$(cached_deb "$pkg")" ] && v=$(find_vmlinuz "$pkg"); then
    echo "$v"
    exit 0
fi

apt_known "$pkg"

# Resolve meta packages: follow Depends on another linux-image-* package.
image=$pkg
i=0
while :; do
    next=$(apt-cache depends --no-recommends --no-suggests --no-conflicts \
                --no-breaks --no-replaces --no-enhances "$image" 2>/dev/null |
           awk '$1 == "Depends:" || $1 == "|Depends:" { print $2 }' |
           grep -E '^linux-image-[0-9]' | grep -v -e '-unsigned$' -e '-dbg$' |
           head -n 1) || true
    [ -n "$next" ] || break
    image=$next
    i=$((i + 1))
    [ $i -lt 5 ] || die "cannot resolve $pkg: dependency chain too long"
done
[ "$image" = "$pkg" ] || say "$pkg -> $image"

deb=$(cached_deb "$image")
if [ -z "$deb" ]; then
    say "downloading $image"
    deb=$(apt_download "$image")
    rm -rf "${cache:?}/$image"      # a new .deb: unpack it afresh
fi

if ! v=$(find_vmlinuz "$image"); then
    say "unpacking $(basename "$deb")"
    tmp=$(mktemp -d "$cache/.x.XXXXXX")
    if ! dpkg -x "$deb" "$tmp"; then
        rm -rf "$tmp"
        die "dpkg -x $deb failed (corrupt download? remove it and retry)"
    fi
    rm -rf "${cache:?}/$image"
    mv "$tmp" "$cache/$image"
    v=$(find_vmlinuz "$image") || die "$deb has no boot/vmlinuz-*"
fi

echo "$v"
