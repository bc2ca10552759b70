/* gw_sdtest.h: play systemd's part for the real oss-gateway binary: a notification socket (NOTIFY_SOCKET), the
 * watchdog variables, and a listening socket handed over as fd 3 (LISTEN_FDS=1), with the PID variables set to the
 * child's own PID the way systemd sets them. Plus a load generator that opens a new connection for every request.
 * Every wait is bounded; every process started is stopped by its PID (gw_stop from gw_testlib). */
#ifndef GW_SDTEST_H
#define GW_SDTEST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "gw_testlib.h"

/* gw_sd_notify_open binds an AF_UNIX datagram socket at `dir`/notify (close-on-exec), writes its path into `path`
 * (capacity `cap`) and returns it; fails the test on error. */
int gw_sd_notify_open(const char *dir, char *path, size_t cap);

/* gw_sd_recv waits at most `ms` for one datagram on `fd` and copies it, NUL-terminated, into `buf`; returns its
 * length, or -1 on timeout. */
long gw_sd_recv(int fd, char *buf, size_t cap, int ms);

/* gw_sd_wait waits at most `ms` for a datagram that has the line `line` (e.g. "READY=1"), skipping the others;
 * copies it into `buf` and returns true, or false on timeout. WATCHDOG=1 datagrams seen on the way are counted in
 * `*pings` when not NULL. */
bool gw_sd_wait(int fd, const char *line, char *buf, size_t cap, int ms, int *pings);

/* gw_sd_has_line tells whether the datagram `msg` has the line `line` ("READY=1") or a line starting with `line`
 * when it ends with '=' ("STATUS="). */
bool gw_sd_has_line(const char *msg, const char *line);

struct gw_sd_env {
    const char *notify_path; /* NOTIFY_SOCKET, or NULL */
    long watchdog_usec;      /* WATCHDOG_USEC and WATCHDOG_PID=<child>, when > 0 */
    bool watchdog_pid_other; /* WATCHDOG_PID names another process (PID 1) instead of the child */
    int listen_fd;           /* handed over as fd 3 with LISTEN_FDS=1 and LISTEN_PID=<child>, when >= 0 */
};

/* gw_sd_spawn starts the gateway on p->config (written with gw_write_config) with fake OSS credentials and the systemd
 * variables of `e`; stdout and stderr are appended to p->out_path and p->err_path. Returns the PID (also p->pid).
 * The child only makes async-signal-safe calls between fork and exec, so it is safe while other threads run. */
pid_t gw_sd_spawn(struct gw_proc *p, const struct gw_sd_env *e);

/* gw_sd_listen binds and listens on 127.0.0.1:0 as a .socket unit does (blocking, backlog `backlog`; close-on-exec,
 * gw_sd_spawn hands it over as fd 3) and returns the socket; its port goes into `*port`. */
int gw_sd_listen(int backlog, int *port);

/* A load generator: `n_threads` threads each loop connect, send one GET with "Connection: close", read the whole
 * answer, until gw_load_stop. Each answer that is not a complete 302 counts as a failure. */
struct gw_load {
    int port;
    const char *path; /* request target, e.g. "/files/a" */
    atomic_bool stop;
    atomic_long ok;
    atomic_long failed;
    char first_error[256]; /* the first failure, for the assertion message */
    atomic_flag error_set;
    size_t n_threads;
    pthread_t threads[16];
};

/* gw_load_start starts `n_threads` (at most 16) client threads against 127.0.0.1:`port`. */
void gw_load_start(struct gw_load *l, int port, const char *path, size_t n_threads);

/* gw_load_stop tells the threads to finish their current request and joins them. */
void gw_load_stop(struct gw_load *l);

/* gw_sd_wait_exit waits at most `ms` for `pid` to exit; returns its exit status (128 + signal when killed by one),
 * or -1 after killing it with SIGKILL when it did not exit in time. */
int gw_sd_wait_exit(pid_t pid, int ms);

#endif
