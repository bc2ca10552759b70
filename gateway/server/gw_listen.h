/* gw_listen.h: the listening sockets: from systemd (socket activation) or bound from the configuration, with the
 * socket options every accepted connection inherits. The workers accept on them (gw_worker.c). */
#ifndef GW_LISTEN_H
#define GW_LISTEN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "cfg.h"

#define GW_MAX_LISTENERS 64

struct gw_listeners {
    int fd[GW_MAX_LISTENERS]; /* -1 once closed by gw_listen_release */
    size_t n;
    bool inherited;    /* passed by systemd: they must outlive the process, so the drain leaves them open */
    atomic_uint users; /* workers that accept on them (gw_worker.c) */
};

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
