/* gw_listen.h: the listening sockets: from systemd (socket activation) or bound from the configuration, with the
 * socket options every accepted connection inherits. The workers accept on them (gw_worker.c). */
#ifndef GW_LISTEN_H
#define GW_LISTEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfg.h"

#define GW_MAX_LISTENERS 64

struct gw_listeners {
    int fd[GW_MAX_LISTENERS]; /* -1 once closed by gw_listen_release */
    size_t n;
    bool inherited;    /* passed by systemd: they must outlive the process, so the drain leaves them open */
    atomic_uint users; /* workers that accept on them (gw_worker.c) */
    /* Each socket's address as configured (bound ones) or as systemd's socket has it, to find its `listen` entry in
     * a configuration; and whether it serves TLS (decided at start: switching takes a restart). */
    uint8_t addr[GW_MAX_LISTENERS][16];
    uint16_t port[GW_MAX_LISTENERS];
    bool v6[GW_MAX_LISTENERS];
    bool tls[GW_MAX_LISTENERS];
};

struct gw_tls_ctx;

/* struct gw_tls_set is the TLS context of each listening socket (NULL for a plain one) for one configuration. It
 * lives as long as the runtime it belongs to (gw_runtime.ext). */
struct gw_tls_set {
    struct gw_tls_ctx *ctx[GW_MAX_LISTENERS];
};

/* gw_listen_tls builds the TLS contexts of `ls` from `cfg`'s listen entries, loading each certificate and key: at
 * start (`at_start`), which also decides which sockets serve TLS, and at each reload, where a socket whose entry is
 * gone or changed between plain and TLS keeps what the running set `prev` (NULL: none) had for it (listen takes
 * effect on restart). `*out` is NULL
 * when no socket serves TLS. Returns 0, or -1 with a reason naming the entry, the file and the library's reason in
 * `err`. */
int gw_listen_tls(struct gw_listeners *ls, const struct cfg_config *cfg, bool at_start, const struct gw_tls_set *prev,
                  struct gw_tls_set **out, char *err, size_t err_cap);

/* gw_listen_tls_check loads the certificates and keys of every listen entry with `tls:` and drops them: `-t`'s
check of what conf/ leaves to the gateway. Returns 0, or -1 with the reason in `err`. */
int gw_listen_tls_check(const struct cfg_config *cfg, char *err, size_t err_cap);

/* gw_tls_set_free frees a set made by gw_listen_tls (connections keep the contexts they use). NULL is allowed. */
void gw_tls_set_free(void *set);

/* gw_listen_open fills `ls` with the sockets systemd passed, or else binds the configuration's listen addresses, and
 * logs each. Returns 0, or -1 after logging why (the sockets opened so far stay in `ls` for gw_listen_close). */
int gw_listen_open(struct gw_listeners *ls, const struct cfg_config *cfg);

/* gw_listen_release is called by each user of `ls` once it no longer accepts (its listeners are freed). The last one
 * closes the sockets this process bound itself, so new connections are refused at once (a balancer fails over
 * instead of queueing them to be reset at exit); sockets from systemd stay open for the next instance. */
void gw_listen_release(struct gw_listeners *ls);

/* gw_listen_close closes every socket of `ls` still open. */
void gw_listen_close(struct gw_listeners *ls);

#endif
