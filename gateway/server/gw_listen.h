/* gw_listen.h: the listening sockets: from systemd (socket activation) or bound from the configuration, with the
 * socket options every accepted connection inherits. The workers accept on them (gw_worker.c). */
#ifndef GW_LISTEN_H
#define GW_LISTEN_H

#include <stddef.h>

#include "cfg.h"

#define GW_MAX_LISTENERS 64

struct gw_listeners {
    int fd[GW_MAX_LISTENERS];
    size_t n;
};

/* gw_listen_open fills `ls` with the sockets systemd passed, or else binds the configuration's listen addresses, and
 * logs each. Returns 0, or -1 after logging why (the sockets opened so far stay in `ls` for gw_listen_close). */
int gw_listen_open(struct gw_listeners *ls, const struct cfg_config *cfg);

/* gw_listen_close closes every socket of `ls`. */
void gw_listen_close(struct gw_listeners *ls);

#endif
