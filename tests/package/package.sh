#!/bin/sh
# tests/package/package.sh SOURCE_DIR: the Debian package, built, installed, checked and purged for real.
#   1. tools/package builds it (DEB_BUILD_OPTIONS=nocheck: ctest runs the unit tests already) and runs lintian.
#   2. dpkg -i installs it and its -dbgsym on this machine. Nothing may start: without systemd as PID 1 (a container,
#      CI) the maintainer scripts start nothing anyway; with it, both units are masked in /run while dpkg runs, so
#      the socket cannot take port 80. The files must be the tree's, the example config a conffile,
#      the socket enabled and the service not; the installed binary checks the installed config with the example's
#      credentials (files in /etc/oss-gateway/credentials, as the unit passes them, and AWS_* for the S3 set);
#      systemd-analyze verifies the installed units and scores the service's sandbox.
#   3. dpkg --purge: no path of `dpkg -L` may remain (bar directories other packages own), nor the unit symlinks
#      or logs, but the credentials the test put in /etc/oss-gateway/credentials must be there, byte for byte.
#   4. Installed again, removed (the conffile stays), purged: this time /etc/oss-gateway goes entirely.
# Refuses to run when oss-gateway is installed or /etc/oss-gateway exists (someone's real installation).
set -eu
src=$(cd "$1" && pwd)
max_exposure=1.5

fail() {
    echo "package.sh: $*" >&2
    exit 1
}
if [ "$(id -u)" != 0 ]; then
    echo "package.sh: skipped: installing a package needs root" >&2
    exit 77
fi
for c in dpkg-buildpackage dh lintian systemd-analyze flock; do
    command -v "$c" >/dev/null || fail "$c not found (tools/deps test)"
done

tmp=$(mktemp -d /tmp/gw-package.XXXXXX)
installed=0
masked=0
made_log_private=0
cleanup() {
    status=$?
    if [ $installed = 1 ]; then
        dpkg_wait --purge oss-gateway-dbgsym oss-gateway 2>/dev/null || true
    fi
    rm -f /etc/oss-gateway/credentials/access_key_id /etc/oss-gateway/credentials/access_key_secret
    rmdir /etc/oss-gateway/credentials /etc/oss-gateway 2>/dev/null || true
    rm -rf /var/log/oss-gateway /var/log/private/oss-gateway
    [ $made_log_private = 1 ] && rmdir /var/log/private 2>/dev/null
    runtime_mask unmask
    rm -rf "$tmp"
    exit $status
}
trap cleanup EXIT

# dpkg_wait ARGS...: dpkg, waiting up to 5 minutes for its lock while another apt or dpkg on the machine holds it.
dpkg_wait() {
    waited=0
    until dpkg "$@" >"$tmp/dpkg.log" 2>&1; do
        if ! grep -q 'lock was locked\|database is locked' "$tmp/dpkg.log" || [ $waited -ge 300 ]; then
            cat "$tmp/dpkg.log" >&2
            return 1
        fi
        sleep 1
        waited=$((waited + 1))
    done
}

# runtime_mask mask|unmask: with systemd running (PID 1), mask the units in /run while dpkg runs, so the postinst
# cannot start the socket on port 80; `systemd-analyze verify` gets them unmasked. Without systemd: nothing to do.
runtime_mask() {
    [ -d /run/systemd/system ] || return 0
    if [ "$1" = mask ]; then
        systemctl mask --runtime oss-gateway.socket oss-gateway.service >/dev/null 2>&1 || fail "systemctl mask --runtime failed"
        masked=1
    else
        systemctl unmask --runtime oss-gateway.socket oss-gateway.service >/dev/null 2>&1 || true
        masked=0
    fi
}

# creds_state: the credentials directory's listing (modes, owners, sizes) and its files' checksums.
creds_state() {
    (cd /etc/oss-gateway/credentials && ls -l --time-style=+ && sha256sum access_key_id access_key_secret)
}
trap 'exit 1' INT TERM

# 1. Build.
DEB_BUILD_OPTIONS="nocheck ${DEB_BUILD_OPTIONS:-}" "$src/tools/package" "$tmp/out" >"$tmp/package.log" 2>&1 || {
    cat "$tmp/package.log" >&2
    fail "tools/package failed"
}
version=$(dpkg-parsechangelog -l "$src/debian/changelog" -S Version)
arch=$(dpkg-architecture -q DEB_HOST_ARCH)
deb=$tmp/out/oss-gateway_${version}_$arch.deb
dbgsym=$tmp/out/oss-gateway-dbgsym_${version}_$arch.deb
[ -f "$dbgsym" ] || dbgsym=${dbgsym%.deb}.ddeb
[ -f "$deb" ] && [ -f "$dbgsym" ] || fail "tools/package made no $deb and -dbgsym: $(ls "$tmp/out")"
dpkg-deb -f "$deb" Depends | grep -q 'android-libboringssl (>= ' ||
    fail "Depends lacks a versioned android-libboringssl (dpkg-shlibdeps missed libcrypto.so.0): $(dpkg-deb -f "$deb" Depends)"
echo "built $(basename "$deb") and $(basename "$dbgsym"); lintian: no error, no warning"

# 2. Install, on this machine. One test at a time on a machine: another worktree's run would purge ours.
exec 9>/run/lock/oss-gateway-package-test.lock
flock -w 600 9 || fail "another package test kept the lock for 10 minutes"
if dpkg-query -W -f '${Status}\n' oss-gateway 2>/dev/null | grep -qv '^unknown ok not-installed$'; then
    fail "oss-gateway is installed here ($(dpkg-query -W -f '${Status}' oss-gateway)): not touching it" \
        "(left by a test killed midway? dpkg --purge oss-gateway)"
fi
for p in /etc/oss-gateway /usr/sbin/oss-gateway /var/log/oss-gateway; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || fail "$p exists (an installation from source?): not touching it"
done
runtime_mask mask
installed=1
dpkg_wait -i "$deb" "$dbgsym" || fail "dpkg -i failed"
dpkg -L oss-gateway oss-gateway-dbgsym | grep -v '^/\.$' | sort -u >"$tmp/files"
echo "installed: $(wc -l <"$tmp/files") paths"

# The files: the tree's, where Debian expects them.
unitdir=/lib/systemd/system
grep -qx /usr/sbin/oss-gateway "$tmp/files" || fail "no /usr/sbin/oss-gateway in dpkg -L"
/usr/sbin/oss-gateway --version | grep -qF "$version" || fail "oss-gateway --version is not $version"
for unit in oss-gateway.service oss-gateway.socket; do
    cmp -s "$unitdir/$unit" "$src/systemd/$unit" || fail "$unitdir/$unit differs from systemd/$unit"
done
cmp -s /etc/oss-gateway/gateway.yaml "$src/conf/gateway.yaml" || fail "/etc/oss-gateway/gateway.yaml is not conf/gateway.yaml"
dpkg-query -W -f '${Conffiles}\n' oss-gateway | grep -q '^ /etc/oss-gateway/gateway.yaml ' ||
    fail "/etc/oss-gateway/gateway.yaml is not a conffile"
zcat /usr/share/man/man8/oss-gateway.8.gz | cmp -s - "$src/docs/oss-gateway.8" || fail "the man page is not docs/oss-gateway.8"
for doc in README.md.gz configuration.md.gz systemd.md.gz README.Debian copyright changelog.gz; do
    [ -f "/usr/share/doc/oss-gateway/$doc" ] || fail "no /usr/share/doc/oss-gateway/$doc"
done
ldd /usr/sbin/oss-gateway >"$tmp/ldd"
grep -q 'libcrypto.so.0 => /usr/lib/.*/android/libcrypto.so.0' "$tmp/ldd" && ! grep -q 'not found' "$tmp/ldd" ||
    { cat "$tmp/ldd" >&2; fail "the installed binary does not find android-libboringssl's libcrypto"; }
[ "$(stat -c '%a %U' /etc/oss-gateway/credentials)" = "700 root" ] ||
    fail "/etc/oss-gateway/credentials: $(stat -c '%a %U' /etc/oss-gateway/credentials), not 700 root"
# Socket enabled, service not: the socket starts it.
[ -L /etc/systemd/system/sockets.target.wants/oss-gateway.socket ] || fail "oss-gateway.socket is not enabled"
if find /etc/systemd/system -name oss-gateway.service | grep -q .; then
    fail "oss-gateway.service is enabled: $(find /etc/systemd/system -name oss-gateway.service)"
fi
# What the maintainer scripts made besides the files (symlinks, deb-systemd-helper's state): the purge must take it.
find /etc/systemd /var/lib/systemd -name 'oss-gateway*' >"$tmp/unit-state"
grep -q deb-systemd-helper-enabled "$tmp/unit-state" || fail "no deb-systemd-helper state for the units: $(cat "$tmp/unit-state")"
if [ $masked = 1 ] && systemctl is-active --quiet oss-gateway.socket; then
    fail "oss-gateway.socket was started despite the mask"
fi
echo "files: binary, units and config as in the tree, man page, docs; socket enabled, service not"

# The installed config, checked by the installed binary with the example's credentials: files for the OSS set (as
# LoadCredential= passes them), the environment for the S3 one. Without the latter the check must fail.
(umask 077
    printf %s LTAI5tPackageTestKeyId >/etc/oss-gateway/credentials/access_key_id
    printf %s package-test-secret-value >/etc/oss-gateway/credentials/access_key_secret)
creds_state >"$tmp/creds.before"
if env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN CREDENTIALS_DIRECTORY=/etc/oss-gateway/credentials \
    /usr/sbin/oss-gateway -t -c /etc/oss-gateway/gateway.yaml >"$tmp/t.out" 2>&1; then
    fail "oss-gateway -t passed without the S3 set's AWS_* credentials"
fi
CREDENTIALS_DIRECTORY=/etc/oss-gateway/credentials AWS_ACCESS_KEY_ID=AKIAPACKAGETEST AWS_SECRET_ACCESS_KEY=package-test-aws \
    /usr/sbin/oss-gateway -t -c /etc/oss-gateway/gateway.yaml >"$tmp/t.out" 2>&1 ||
    { cat "$tmp/t.out" >&2; fail "oss-gateway -t -c /etc/oss-gateway/gateway.yaml failed with the example's credentials"; }
url=$(CREDENTIALS_DIRECTORY=/etc/oss-gateway/credentials AWS_ACCESS_KEY_ID=AKIAPACKAGETEST AWS_SECRET_ACCESS_KEY=x \
    /usr/sbin/oss-gateway presign -c /etc/oss-gateway/gateway.yaml --route /files/ report.pdf)
case $url in
https://examplebucket.oss-cn-hangzhou.aliyuncs.com/report.pdf\?*LTAI5tPackageTestKeyId*) ;;
*) fail "presign with the installed config printed '$url'" ;;
esac
echo "oss-gateway -t on the installed config: ok (and refused without the S3 credentials); presign: $url" | cut -c1-160

# The installed units, as systemd would load them from this root.
runtime_mask unmask
if ! systemd-analyze verify $unitdir/oss-gateway.socket $unitdir/oss-gateway.service >"$tmp/verify.out" 2>&1 ||
    [ -s "$tmp/verify.out" ]; then
    cat "$tmp/verify.out" >&2
    fail "systemd-analyze verify on the installed units failed or printed something"
fi
systemd-analyze security --offline=true $unitdir/oss-gateway.service >"$tmp/security.out" 2>&1 || true
score=$(sed -n 's/.*Overall exposure level for oss-gateway.service: \([0-9.]*\).*/\1/p' "$tmp/security.out")
[ -n "$score" ] || { cat "$tmp/security.out" >&2; fail "no exposure level from systemd-analyze security"; }
awk -v s="$score" -v m="$max_exposure" 'BEGIN { exit !(s + 0 <= m + 0) }' || fail "exposure $score is above $max_exposure"
echo "systemd-analyze verify: silent; security --offline=true: exposure $score"
runtime_mask mask

# 3. Purge. The logs systemd would have made for the dynamic user (LogsDirectory=) go too.
[ -d /var/log/private ] || { mkdir -m 0700 /var/log/private && made_log_private=1; }
mkdir /var/log/private/oss-gateway && ln -s private/oss-gateway /var/log/oss-gateway && : >/var/log/oss-gateway/access.log
dpkg_wait --purge oss-gateway-dbgsym oss-gateway || fail "dpkg --purge failed"
installed=0
# What remains of dpkg -L must be a directory another package owns, or /etc/oss-gateway holding the credentials.
left=$(while read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done <"$tmp/files" | grep -vx /etc/oss-gateway || true)
if [ -n "$left" ]; then
    # shellcheck disable=SC2086
    owned=$(dpkg-query -S $left 2>/dev/null | sed 's/.*: //' | sort -u)
    for p in $left; do
        [ -d "$p" ] && echo "$owned" | grep -qx "$p" || fail "left after purge: $p"
    done
fi
for p in $(cat "$tmp/unit-state") /var/log/oss-gateway /var/log/private/oss-gateway /etc/oss-gateway/gateway.yaml; do
    [ ! -e "$p" ] && [ ! -L "$p" ] || fail "left after purge: $p"
done
creds_state | cmp -s - "$tmp/creds.before" ||
    fail "purge changed the credentials in /etc/oss-gateway/credentials"
[ "$(stat -c '%a %U' /etc/oss-gateway/credentials)" = "700 root" ] || fail "purge changed /etc/oss-gateway/credentials' mode"
rm /etc/oss-gateway/credentials/access_key_id /etc/oss-gateway/credentials/access_key_secret
rmdir /etc/oss-gateway/credentials /etc/oss-gateway
echo "purged: nothing of $(wc -l <"$tmp/files") paths left but shared directories; the credentials kept intact"

# 4. Again: remove keeps the configuration, purge then takes all of /etc/oss-gateway (no credentials this time).
installed=1
dpkg_wait -i "$deb" || fail "dpkg -i after a purge failed"
[ -d /etc/oss-gateway/credentials ] || fail "no /etc/oss-gateway/credentials after reinstalling"
dpkg_wait --remove oss-gateway || fail "dpkg --remove failed"
[ ! -e /usr/sbin/oss-gateway ] && [ -f /etc/oss-gateway/gateway.yaml ] || fail "dpkg --remove: binary kept or config lost"
dpkg_wait --purge oss-gateway || fail "dpkg --purge after --remove failed"
installed=0
[ ! -e /etc/oss-gateway ] || fail "left after purge: $(find /etc/oss-gateway)"
[ -z "$(find /etc/systemd /var/lib/systemd -name 'oss-gateway*')" ] || fail "left after purge: the units' symlinks or state"
echo "reinstalled, removed (config kept), purged: /etc/oss-gateway gone"
