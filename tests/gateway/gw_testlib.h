/* gw_testlib.h: start the real oss-gateway binary on a loopback port and talk to it over real sockets. Every process
 * a test starts is stopped by its PID; every wait is bounded. */
#ifndef GW_TESTLIB_H
#define GW_TESTLIB_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct gw_proc {
    pid_t pid;
    int port;
    char dir[64]; /* a temporary directory: config, stdout, stderr */
    char config[128];
    char out_path[128]; /* the access log (stdout) */
    char err_path[128]; /* diagnostics (stderr) */
};

/* gw_write_config writes `listen: ["127.0.0.1:0"]` plus `yaml` to p->config (creating p->dir when needed). */
void gw_write_config(struct gw_proc *p, const char *yaml);

/* gw_start writes the config and starts the gateway with fake OSS credentials in its environment plus `env` (NULL or
 * NAME=VALUE strings ending with NULL); returns once it logs its listening port (at most 5 s), or fails the test. */
void gw_start(struct gw_proc *p, const char *yaml, const char *const *env);

/* gw_spawn is gw_start for an already written config, with `argv0_extra` arguments instead of `-c CONFIG` when not NULL,
 * and without waiting for the port. */
pid_t gw_spawn(struct gw_proc *p, const char *const *env, const char *const *args);

/* gw_child_dies_with_parent, in a forked child, has the kernel kill it when the test process that forked it dies
 * (a test killed at its timeout would otherwise leave its gateway or load generator running). Exits 126 when the
 * parent is already gone. */
void gw_child_dies_with_parent(void);

/* gw_child_setup is what every started gateway gets, in the forked child before exec: stdout and stderr to p's files,
 * fake OSS credentials, and `env` (NULL or NAME=VALUE strings ending with NULL). Exits 126 when it cannot. */
void gw_child_setup(const struct gw_proc *p, const char *const *env);

/* gw_wait_port waits for the "listening on" line; returns the port or -1 after `ms`. */
int gw_wait_port(struct gw_proc *p, int ms);

/* gw_stop sends `sig` and waits at most `ms` for the exit; returns the exit status (or -1 when it had to be killed).
 * `*elapsed_ms` receives the time it took, when not NULL. Removes the temporary directory. */
int gw_stop(struct gw_proc *p, int sig, int ms, long *elapsed_ms);

/* gw_connect opens a TCP connection to 127.0.0.1:port with a receive timeout of `ms`. */
int gw_connect(int port, int ms);

/* gw_connect_error connects to 127.0.0.1:port and closes at once; returns 0, or connect's errno (ECONNREFUSED when
 * nothing listens there). */
int gw_connect_error(int port);

/* gw_send sends all of `s`. */
void gw_send(int fd, const char *s, size_t len);

/* gw_recv_all reads until the peer closes or `ms` passes without data; returns the bytes read (NUL-terminated). */
size_t gw_recv_all(int fd, char *buf, size_t cap, int ms);

/* gw_recv_until is gw_recv_all that also stops as soon as what it read contains `needle`. */
size_t gw_recv_until(int fd, char *buf, size_t cap, const char *needle, int ms);

/* gw_exchange connects, sends `req` and reads the whole answer until the server closes (at most 5 s). */
size_t gw_exchange(int port, const char *req, char *buf, size_t cap);

/* gw_status returns the status code of the first response in `buf`, or -1. */
int gw_status(const char *buf);

/* gw_header copies the value of header `name` of the first response in `buf` into `out`; false when absent. */
bool gw_header(const char *buf, const char *name, char *out, size_t cap);

/* gw_read_file reads at most `cap - 1` bytes of `path` into `buf`, NUL-terminated; returns the length. */
size_t gw_read_file(const char *path, char *buf, size_t cap);

/* gw_count counts the occurrences of `needle` in `hay`. */
int gw_count(const char *hay, const char *needle);

/* gw_ms_since returns the milliseconds since `start_ns` (CLOCK_MONOTONIC). */
long gw_ms_since(long long start_ns);
long long gw_mono_ns(void);

#endif
