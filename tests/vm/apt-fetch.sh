# Sourced by fetch-kernel.sh and fetch-dbg.sh: apt-get download of one
# package into their shared cache.  Needs $cache and the caller's die/say.

# apt_known PKG: apt-cache knows PKG, after one `apt-get update` if needed.
apt_known() {
    command -v apt-cache >/dev/null 2>&1 || die "apt-cache not found (Debian/Ubuntu host needed)"
    apt-cache show --no-all-versions "$1" >/dev/null 2>&1 && return 0
    say "apt-cache does not know $1; running apt-get update"
    apt-get update -qq >&2 || die "apt-get update failed"
    apt-cache show --no-all-versions "$1" >/dev/null 2>&1 ||
        die "no package named $1 (after apt-get update)"
}

# apt_download PKG: fetch PKG's .deb into $cache; print its path.
apt_download() {
    _tmp=$(mktemp -d "$cache/.dl.XXXXXX")
    # apt-get download writes into the current directory.  As root it warns
    # that _apt cannot write there; the download still works.
    if ! (cd "$_tmp" && apt-get download -q "$1" >&2); then
        rm -rf "$_tmp"
        die "apt-get download $1 failed"
    fi
    _deb=
    for _f in "$_tmp"/*.deb; do
        [ -f "$_f" ] || { rm -rf "$_tmp"; die "apt-get download $1 produced no .deb"; }
        mv "$_f" "$cache/"
        _deb=$cache/$(basename "$_f")
    done
    rm -rf "$_tmp"
    echo "$_deb"
}
