/* creds_testlib.h: loopback servers for the outbound client's tests: a scripted HTTP server on a thread, and
 * `openssl s_server` on a test PKI made by gen-certs.sh. Every wait is bounded; every process is stopped by its PID. */
#ifndef CREDS_TESTLIB_H
#define CREDS_TESTLIB_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* struct ct_server answers each connection with `response` (or `response_len` bytes of it), after reading the request
 * head (and a Content-Length body). `delay_ms` waits before answering; `trickle_ms` sends it one byte at a time with
 * that pause; `big_body` streams that many bytes of body after the response; `silent` never answers and holds the
 * connection until stopped. The last request is kept in `request`. */
struct ct_server {
    int fd;
    int port;
    pthread_t thread;
    volatile bool stop;
    const char *response;
    size_t response_len;
    int delay_ms;
    int trickle_ms;
    size_t big_body;
    bool silent;
    char request[65536];
    size_t request_len;
    int n_conns;
};

/* ct_server_start listens on 127.0.0.1 (a free port) and serves connections one at a time until ct_server_stop. */
void ct_server_start(struct ct_server *s);
void ct_server_stop(struct ct_server *s);

/* ct_pki makes a fresh test PKI in a temporary directory (gen-certs.sh) and returns its path (static storage). */
const char *ct_pki(void);

/* ct_pki_remove deletes the test PKI of this test process. */
void ct_pki_remove(void);

/* ct_s_server starts `openssl s_server` on a free loopback port with `cert` and `key` (paths), serving files from
 * `dir` with -HTTP; returns its pid and sets `*port` once it accepts connections (at most 5 s), or fails the test. */
pid_t ct_s_server(const char *dir, const char *cert, const char *key, int *port, const char *const *extra);

/* ct_kill stops a child started by this library: SIGTERM, then SIGKILL after 2 s. */
void ct_kill(pid_t pid);

/* ct_mono_ms is CLOCK_MONOTONIC in milliseconds. */
long long ct_mono_ms(void);

#endif
