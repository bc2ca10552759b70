/* abuse.h: helpers for the abuse tests, on top of gw_testlib: the gateway's resource use read from /proc, many
 * non-blocking client sockets, a client bound to a chosen loopback address, and child processes (the gateway under a
 * descriptor limit or faketime, h2load) that are always stopped by their PID. */
#ifndef GW_ABUSE_H
#define GW_ABUSE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "gw_testlib.h"

/* GW_SANITIZED is 1 in a GW_SANITIZE build: memory and CPU figures are then printed but not held to their bounds. */
#ifndef GW_SANITIZED
#define GW_SANITIZED 0
#endif

/* The base config: one worker, an OSS backend on a loopback endpoint (never contacted) and `extra` (limits, log,
 * routes...). With `routes` false, /files/ is added as the only route. */
#define ABUSE_BASE                                                                                                                 \
    "workers: 1\n"                                                                                                                 \
    "credentials:\n  main: {from: env}\n"                                                                                          \
    "backends:\n  origin: {type: oss, region: cn-hangzhou, bucket: test-bucket, endpoint: \"127.0.0.1:9000\",\n"                   \
    "           addressing: path, scheme: http, credentials: main}\n"
#define ABUSE_ROUTES "routes:\n  - {prefix: /files/, backend: origin, expires: 15m}\n"

/* abuse_rss_kib returns the VmRSS of `pid` in KiB, or -1. */
long abuse_rss_kib(pid_t pid);

/* abuse_cpu_ticks returns utime + stime of `pid` in clock ticks, or -1. */
long abuse_cpu_ticks(pid_t pid);

/* abuse_fd_count returns the number of open descriptors of `pid`, or -1. */
int abuse_fd_count(pid_t pid);

/* abuse_raise_nofile raises this process's descriptor limit to at least `want` (up to the hard limit); returns the
 * soft limit now in force. */
long abuse_raise_nofile(long want);

/* abuse_connect_nb starts a non-blocking connection from `src` (NULL: any) to 127.0.0.1:port; returns the socket or -1
 * (descriptors or ports exhausted). */
int abuse_connect_nb(const char *src, int port);

/* abuse_connect_from is gw_connect from source address `src`, blocking with `ms` send/receive timeouts. */
int abuse_connect_from(const char *src, int port, int ms);

/* abuse_is_closed is true when the peer closed or reset `fd` (data, if any, is read and discarded into `buf`, whose
 * first `cap - 1` bytes are kept NUL-terminated). */
bool abuse_is_closed(int fd, char *buf, size_t cap);

/* abuse_wait_serving waits (at most `ms`) until the gateway's stderr says it is serving, which is after its signal
 * handlers are in place; returns false on timeout. */
bool abuse_wait_serving(struct gw_proc *p, int ms);

/* abuse_spawn starts the gateway for p->config like gw_spawn, with credentials in its environment plus `env`, under
 * a descriptor limit `nofile` (0: unchanged; as `ulimit -n`) and behind `wrapper` (NULL, or an argv prefix such as
 * {"faketime", "-f", "-20m", NULL}); waits for its port like gw_start. */
void abuse_spawn(struct gw_proc *p, const char *yaml, const char *const *env, long nofile, const char *const *wrapper);

/* abuse_cleanup stops the gateway of `p` if it still runs and removes its files: a test's .fini, so that a failed
 * assertion leaves no process behind. */
void abuse_cleanup(struct gw_proc *p);

/* abuse_run runs argv (stdout and stderr to `out_path`), killing it after `ms`; returns its exit status or -1. */
int abuse_run(const char *const *argv, const char *out_path, int ms);

/* abuse_get sends one GET for `path` on a new connection from `src` and returns the status (-1: none). The response is
 * left in `buf`. */
int abuse_get(const char *src, int port, const char *path, char *buf, size_t cap);

/* abuse_fin_wait1 counts the sockets in FIN-WAIT-1 whose local port is `port` (`ss -tn state fin-wait-1`): answers
 * the kernel still holds after the gateway closed; -1 when ss cannot run. */
int abuse_fin_wait1(int port);

/* abuse_metric reads one value of the gateway's /metrics (from 127.0.0.2, outside the per-address cap of 127.0.0.1);
 * -1 when absent. */
long abuse_metric(int port, const char *name);

/* struct abuse_push is what a slow-read client saw while it pushed requests and read no answer. */
struct abuse_push {
    size_t sent;           /* bytes the gateway took */
    size_t req_len;        /* bytes of one request */
    long stalled_after_ms; /* when the gateway stopped taking them */
    bool reset;            /* the client's send failed (the gateway reset it) */
    long rss0, rss_max;    /* the gateway's RSS before, and the most seen while pushing (KiB) */
    int fds0;              /* the gateway's descriptors before the client connected */
};

/* abuse_slow_read_verdict waits (deadline_ms + 4 s at most) until the gateway's descriptor count is back to
 * push->fds0, prints what happened under the name `what`, and asserts that the gateway stopped reading within
 * `push_ms` and before 16 MiB, that its memory grew by less than 5 MiB (not held when `sanitized`), and that it closed
 * the connection. The caller closes its socket afterwards. */
void abuse_slow_read_verdict(const struct gw_proc *gw, const char *what, const struct abuse_push *push, long push_ms,
                             long deadline_ms, bool sanitized);

#endif
