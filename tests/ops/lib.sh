# shellcheck shell=sh
# tests/ops/lib.sh: sourced by the ops tests (sh). After `ops_init NAME`:
#   $tmp            a temporary directory, removed at exit
#   ops_started PID a process this test started, killed at exit if the test ends early
#   ops_forget PID  it has exited and been waited for (its PID may be reused: never kill it again)
#   fail MESSAGE    print MESSAGE and the tail of every *.log in $ops_logs ($tmp unless set), exit 1
#   ops_wait_log FILE PATTERN SECONDS WHAT [PID]
#                   until a line of FILE matches PATTERN (grep), or fail after SECONDS or when PID has exited
#   ops_gateway BINARY CONFIG LOG
#                   start the gateway with CONFIG, stderr to LOG, until it serves (10 s); its PID in $gw_pid and the
#                   port of its first listener in $gw_port
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

ops_wait_log() {
    ops_n=0
    until grep -qs -- "$2" "$1"; do
        if [ -n "${5:-}" ] && ! kill -0 "$5" 2>/dev/null; then fail "$4: the process exited"; fi
        [ "$ops_n" -lt $(($3 * 20)) ] || fail "$4: nothing within $3 s"
        sleep 0.05
        ops_n=$((ops_n + 1))
    done
}
ops_gateway() {
    "$1" -c "$2" 2>"$3" &
    gw_pid=$!
    ops_started "$gw_pid"
    # "serving" comes once the listeners are open and the signal handlers are in place.
    ops_wait_log "$3" '^<5>oss-gateway .* serving ' 10 "the gateway with $2" "$gw_pid"
    # shellcheck disable=SC2034 # for the scripts that source this file
    gw_port=$(sed -n 's/^<6>listening on .*:\([0-9]*\)$/\1/p' "$3" | head -n 1)
}
