# shellcheck shell=sh
# tests/ops/lib.sh: sourced by the ops tests (sh). After `ops_init NAME`:
#   $tmp            a temporary directory, removed at exit
#   ops_started PID a process this test started, killed at exit if the test ends early
#   ops_forget PID  it has exited and been waited for (its PID may be reused: never kill it again)
#   fail MESSAGE    print MESSAGE and the tail of every *.log in $ops_logs ($tmp unless set), exit 1
ops_init() {
    ops_name=$1
    tmp=$(mktemp -d "/tmp/gw-$1.XXXXXX")
    ops_logs=$tmp
    ops_pids=""
    trap ops_cleanup EXIT
}
ops_started() {
    ops_pids="$ops_pids $1"
}
ops_forget() {
    ops_pids=$(echo " $ops_pids " | sed "s/ $1 / /")
}
ops_cleanup() {
    for pid in $ops_pids; do kill -9 "$pid" 2>/dev/null || true; done
    rm -rf "$tmp"
}
fail() {
    echo "$ops_name: $*" >&2
    for f in "$ops_logs"/*.log; do
        if [ -f "$f" ]; then
            echo "--- $f" >&2
            tail -n 20 "$f" >&2
        fi
    done
    exit 1
}
