#!/bin/sh
# tests/systemd/units.sh BUILD_DIR SOURCE_DIR: the units as `cmake --install` ships them pass `systemd-analyze verify`
# without a word, and `systemd-analyze security --offline=true` scores the service at most 1.5.
#
# verify checks that ExecStart= names an executable file, and no oss-gateway is installed on this machine. So the
# build is installed into a temporary DESTDIR, which becomes the root of `verify --root=`: the installed unit text is
# checked as shipped, and ExecStart= must name the file the install put there. The root also gets what verify looks
# up besides (the host's targets and slices, /bin/kill for ExecReload=), and MANPATH points `man` at the installed
# page, so Documentation=man:oss-gateway(8) is checked against it too. Needs no running systemd.
set -eu
build=$1
src=$2
max_exposure=1.5

fail() {
    echo "units.sh: $*" >&2
    exit 1
}
command -v systemd-analyze >/dev/null || fail "systemd-analyze not found (apt-get install systemd)"

tmp=$(mktemp -d /tmp/gw-units.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root

DESTDIR=$root cmake --install "$build" >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "cmake --install failed"; }
service=$(find "$root" -name oss-gateway.service -type f)
socket=$(find "$root" -name oss-gateway.socket -type f)
[ -n "$service" ] && [ -n "$socket" ] || fail "cmake --install put no units under $root"
unitdir=${service%/oss-gateway.service}
unitdir=${unitdir#"$root"}

# The shipped text is the source's, with at most the binary and config paths changed for the install prefix.
exec_start=$(sed -n 's/^ExecStart=\([^ ]*\) .*/\1/p' "$service")
config=$(sed -n 's/^ExecStart=[^ ]* -c \(.*\)$/\1/p' "$service")
[ -x "$root$exec_start" ] || fail "ExecStart=$exec_start, but cmake --install put no executable there"
[ -f "$root$config" ] || fail "ExecStart= reads $config, but cmake --install put no config there"
sed -e "s|$exec_start|/usr/sbin/oss-gateway|g" -e "s|${config%/gateway.yaml}/|/etc/oss-gateway/|g" "$service" |
    cmp -s - "$src/systemd/oss-gateway.service" || fail "the installed oss-gateway.service differs from systemd/oss-gateway.service beyond its paths"
cmp -s "$socket" "$src/systemd/oss-gateway.socket" || fail "the installed oss-gateway.socket differs from systemd/oss-gateway.socket"
echo "installed: $exec_start, $config, $unitdir/oss-gateway.{service,socket}"

# What verify resolves besides the two units: the host's targets and slices, and the ExecReload= binary.
host_unitdir=$(pkg-config --variable=systemdsystemunitdir systemd 2>/dev/null || echo /lib/systemd/system)
mkdir -p "$root$unitdir" "$root/usr/bin"
for f in "$host_unitdir"/*.target "$host_unitdir"/*.slice; do
    [ -e "$root$unitdir/${f##*/}" ] || cp "$f" "$root$unitdir/"
done
kill_bin=$(sed -n 's/^ExecReload=\([^ ]*\) .*/\1/p' "$service")
mkdir -p "$root$(dirname "$kill_bin")"
host_kill=$(for k in /usr/bin/kill /bin/kill; do [ -x "$k" ] && echo "$k" && break; done)
[ -n "$host_kill" ] || fail "no kill(1) binary on this machine (apt-get install procps)"
cp "$host_kill" "$root$kill_bin"

# verify checks Documentation=man:oss-gateway(8) with man(1): without man the check cannot run, and that is a failure,
# not a skip (tools/deps test installs man-db).
command -v man >/dev/null || fail "man not found (apt-get install man-db): Documentation= cannot be checked"
MANPATH=$(find "$root" -type d -name man | head -n 1)
export MANPATH
[ -f "$MANPATH/man8/oss-gateway.8" ] || fail "cmake --install put no oss-gateway.8 under $MANPATH/man8"
man -w 8 oss-gateway >/dev/null 2>&1 || fail "man -w 8 oss-gateway finds no page under MANPATH=$MANPATH"

if ! systemd-analyze verify --root="$root" oss-gateway.socket oss-gateway.service >"$tmp/verify.out" 2>&1; then
    cat "$tmp/verify.out" >&2
    fail "systemd-analyze verify failed"
fi
if [ -s "$tmp/verify.out" ]; then
    cat "$tmp/verify.out" >&2
    fail "systemd-analyze verify printed something"
fi
echo "systemd-analyze verify: nothing to say about oss-gateway.socket and oss-gateway.service"

systemd-analyze security --offline=true "$service" >"$tmp/security.out" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for oss-gateway.service: \([0-9.]*\).*/\1/p' "$tmp/security.out")
[ -n "$score" ] || { cat "$tmp/security.out" >&2; fail "no exposure level in the output of systemd-analyze security"; }
echo "systemd-analyze security --offline=true: exposure $score (at most $max_exposure)"
if ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
    grep '✗' "$tmp/security.out" >&2 || true
    fail "exposure $score is above $max_exposure"
fi

# The drop-ins of systemd/dropins/ (one per renewing credential source), each on top of the installed unit: verify
# says nothing, systemd-analyze has loaded it (the service reaches the host's network, which the unit alone does
# not), and the exposure stays at most 1.5. The unit alone keeps its private network (checked above by the score,
# and here by name).
grep -q "✓ PrivateNetwork=" "$tmp/security.out" || fail "the unit alone no longer has PrivateNetwork=yes"
dropdir=$root/etc/systemd/system/oss-gateway.service.d
for dropin in "$src"/systemd/dropins/*.conf; do
    name=${dropin##*/}
    mkdir -p "$dropdir"
    cp "$dropin" "$dropdir/credentials.conf"
    if ! systemd-analyze verify --root="$root" oss-gateway.socket oss-gateway.service >"$tmp/verify.out" 2>&1 || [ -s "$tmp/verify.out" ]; then
        cat "$tmp/verify.out" >&2
        fail "systemd-analyze verify with the drop-in $name failed or printed something"
    fi
    systemd-analyze security --offline=true --root="$root" oss-gateway.service >"$tmp/security.out" 2>&1 || true
    grep -q "✗ PrivateNetwork=" "$tmp/security.out" || { cat "$tmp/security.out" >&2; fail "drop-in $name was not loaded"; }
    score=$(sed -n 's/.*Overall exposure level for oss-gateway.service: \([0-9.]*\).*/\1/p' "$tmp/security.out")
    [ -n "$score" ] || { cat "$tmp/security.out" >&2; fail "no exposure level with the drop-in $name"; }
    echo "drop-in $name: systemd-analyze verify silent, security exposure $score (at most $max_exposure)"
    if ! awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s + 0 <= m + 0) }'; then
        grep '✗' "$tmp/security.out" >&2 || true
        fail "exposure $score with the drop-in $name is above $max_exposure"
    fi
    rm -r "$dropdir"
done
