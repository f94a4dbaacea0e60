#!/bin/sh
# runner/build-base.sh: make (or reuse) the Debian 12 base root tree that
# templated builds unpack (`make base').
#
#   runner/build-base.sh            print the cached tarball's path, making
#                                   it first if needed
#   runner/build-base.sh --path     print where it would be, make nothing
#
# The tree is made by mmdebstrap from the host's configured Debian mirror
# (/etc/apt/sources.list and sources.list.d), with a kernel, systemd, grub
# for BIOS, openssh-server and ifupdown.  It is cached under
# $GUESTKIT_BASEDIR (default /var/tmp/guestkit-base) as
# bookworm-<hash>.tar, the hash taken over what decides its content (the
# package list, excludes, recipe version, mirror, SOURCE_DATE_EPOCH).  It is built under a
# temporary name and renamed into place, so a failed or interrupted build
# leaves nothing a later run could take for a base.  SOURCE_DATE_EPOCH
# (default: a fixed date) makes the tar itself reproducible.
set -eu

SUITE=bookworm
PACKAGES="linux-image-amd64,systemd-sysv,udev,grub-pc,openssh-server,ifupdown,locales,zstd"
BASEDIR=${GUESTKIT_BASEDIR:-/var/tmp/guestkit-base}
: "${SOURCE_DATE_EPOCH:=1704067200}"
export SOURCE_DATE_EPOCH

# The first Debian mirror URI configured for the host, in either format.
host_mirror() {
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        case $f in
        *.sources)
            awk 'tolower($1)=="uris:" && $2 ~ /debian\/?$/ && $2 !~ /security/ \
                 { print $2; exit }' "$f" ;;
        *)
            awk '$1=="deb" && $3 ~ /^'$SUITE'$/ { print $2; exit }' "$f" ;;
        esac
    done | head -n 1
}

MIRROR=${GUESTKIT_BASE_MIRROR:-$(host_mirror)}
MIRROR=${MIRROR%/}
if [ -z "$MIRROR" ]; then
    echo "make base: no Debian mirror configured in /etc/apt/sources.list{,.d}" >&2
    exit 1
fi

# Docs, man pages, translations and drivers no VM needs keep the tree small:
# unpacking it is most of a build's time.
EXCLUDES="/usr/share/doc/* /usr/share/man/* /usr/share/info/* /usr/share/locale/*"
for d in drivers/gpu drivers/net/wireless drivers/media drivers/infiniband \
         drivers/staging drivers/bluetooth drivers/iio drivers/isdn sound; do
    EXCLUDES="$EXCLUDES /lib/modules/*/kernel/$d/* /usr/lib/modules/*/kernel/$d/*"
done
# What the tree is made of; bump RECIPE when the hooks below change.
RECIPE=1
key=$(echo "$RECIPE $SUITE $PACKAGES $EXCLUDES $MIRROR $SOURCE_DATE_EPOCH" | sha256sum | cut -c1-16)
OUT=$BASEDIR/$SUITE-$key.tar

if [ "${1:-}" = --path ]; then echo "$OUT"; exit 0; fi
# $BASEDIR/$SUITE.tar names the latest base, for job files (jobs/build.yaml).
link_latest() {
    ln -sfn "$(basename "$OUT")" "$BASEDIR/.$SUITE.link.$$" &&
        mv -T "$BASEDIR/.$SUITE.link.$$" "$BASEDIR/$SUITE.tar"
}
if [ -s "$OUT" ]; then link_latest; echo "$OUT"; exit 0; fi

command -v mmdebstrap >/dev/null || {
    echo "make base: mmdebstrap is not installed (make deps)" >&2; exit 1; }
if ! python3 -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=15)" \
        "$MIRROR/dists/$SUITE/Release" 2>/dev/null; then
    echo "make base: the Debian mirror $MIRROR is unreachable; cannot make the base" >&2
    exit 1
fi

mkdir -p "$BASEDIR"
tmp=$BASEDIR/.$SUITE-$key.tmp.$$.tar   # mmdebstrap picks the format by the name
trap 'rm -rf "$tmp"' EXIT
trap 'exit 1' INT TERM
dpkgopts=
set -f                       # the patterns are dpkg's, not the host's globs
for e in $EXCLUDES; do dpkgopts="$dpkgopts --dpkgopt=path-exclude=$e"; done

echo "make base: mmdebstrap $SUITE from $MIRROR into $OUT (a few minutes)" >&2
# shellcheck disable=SC2086
mmdebstrap --variant=minbase --include="$PACKAGES" \
    --aptopt='APT::Install-Recommends "false"' $dpkgopts \
    --customize-hook='echo "" > "$1/etc/hostname"' \
    --customize-hook='rm -f "$1/etc/machine-id" "$1/var/lib/dbus/machine-id"; : > "$1/etc/machine-id"' \
    --customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/*' \
    "$SUITE" "$tmp" "deb $MIRROR $SUITE main" "deb $MIRROR $SUITE-updates main"
mv -f "$tmp" "$OUT"
trap - EXIT
set +f
link_latest
echo "$OUT"
