/* gw_listen.c: see gw_listen.h. */
#include "gw_listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

#include "gw_log.h"
#include "gw_tls.h"

static void describe_fd(int fd, char *out, size_t cap)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof(ss);
    char host[INET6_ADDRSTRLEN] = "?";
    unsigned port = 0;
    if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0) {
        if (ss.ss_family == AF_INET) {
            const struct sockaddr_in *s = (const struct sockaddr_in *)&ss;
            inet_ntop(AF_INET, &s->sin_addr, host, sizeof(host));
            port = ntohs(s->sin_port);
        } else if (ss.ss_family == AF_INET6) {
            const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)&ss;
            inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof(host));
            port = ntohs(s->sin6_port);
        }
    }
    int n = snprintf(out, cap, ss.ss_family == AF_INET6 ? "[%s]:%u" : "%s:%u", host, port);
    if (n < 0 || (size_t)n >= cap) {
        out[0] = '\0';
    }
}

/* What the kernel may hold for one connection. Accepted sockets inherit both options from their listening socket.
 * SO_SNDBUF fixes the send buffer (the kernel books twice the value, 128 KiB, instead of autotuning up to tcp_wmem's
 * 4 MiB): a client that reads nothing parks at most that in the kernel, and it stays counted against max_connections
 * and max_connections_per_ip until its deadline resets it (gw_conn.c). 64 KiB holds a hundred pipelined redirects.
 * TCP_USER_TIMEOUT makes the kernel give up on a peer that acknowledges nothing (or keeps its window closed) for 30 s,
 * also after the close, so no socket outlives its client by more than that. */
#define GW_SNDBUF (64 * 1024)
#define GW_TCP_USER_TIMEOUT_MS 30000

static int tune_listener(int fd)
{
    int sndbuf = GW_SNDBUF;
    unsigned timeout = GW_TCP_USER_TIMEOUT_MS;
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout, sizeof(timeout)) != 0) {
        char name[80];
        describe_fd(fd, name, sizeof(name));
        gw_log(GW_LOG_ERR, "listen %s: socket options: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

int gw_listen_open(struct gw_listeners *ls, const struct cfg_config *cfg)
{
    int n = sd_listen_fds(1);
    if (n < 0) {
        gw_log(GW_LOG_ERR, "LISTEN_FDS: %s", strerror(-n));
        return -1;
    }
    if (n > 0) {
        /* Socket activation: systemd holds the sockets, so a restart loses no connection. */
        if (n > GW_MAX_LISTENERS) {
            gw_log(GW_LOG_ERR, "LISTEN_FDS=%d: at most %d sockets", n, GW_MAX_LISTENERS);
            return -1;
        }
        for (int i = 0; i < n; i++) {
            int fd = SD_LISTEN_FDS_START + i;
            if (sd_is_socket(fd, AF_UNSPEC, SOCK_STREAM, 1) <= 0) {
                gw_log(GW_LOG_ERR, "LISTEN_FDS: fd %d is not a listening stream socket", fd);
                return -1;
            }
            int fl = fcntl(fd, F_GETFL);
            if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
                gw_log(GW_LOG_ERR, "LISTEN_FDS: fd %d: %s", fd, strerror(errno));
                return -1;
            }
            ls->fd[ls->n++] = fd;
            struct sockaddr_storage ss;
            socklen_t len = sizeof(ss);
            if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && ss.ss_family == AF_INET6) {
                const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&ss;
                memcpy(ls->addr[i], &s6->sin6_addr, 16);
                ls->port[i] = ntohs(s6->sin6_port);
                ls->v6[i] = true;
            } else if (ss.ss_family == AF_INET) {
                const struct sockaddr_in *s4 = (const struct sockaddr_in *)&ss;
                memcpy(ls->addr[i], &s4->sin_addr, 4);
                ls->port[i] = ntohs(s4->sin_port);
            }
        }
        ls->inherited = true;
        if (cfg->n_listen > 0) {
            gw_log(GW_LOG_NOTICE, "using %d socket(s) from systemd; the config's listen addresses are not bound", n);
        }
    } else {
        for (size_t i = 0; i < cfg->n_listen; i++) {
            const struct cfg_listen *l = &cfg->listen[i];
            struct sockaddr_storage ss;
            socklen_t len;
            int one = 1;
            memset(&ss, 0, sizeof(ss));
            if (l->ipv6) {
                struct sockaddr_in6 *s = (struct sockaddr_in6 *)&ss;
                s->sin6_family = AF_INET6;
                s->sin6_port = htons(l->port);
                inet_pton(AF_INET6, l->host, &s->sin6_addr);
                len = sizeof(*s);
            } else {
                struct sockaddr_in *s = (struct sockaddr_in *)&ss;
                s->sin_family = AF_INET;
                s->sin_port = htons(l->port);
                inet_pton(AF_INET, l->host, &s->sin_addr);
                len = sizeof(*s);
            }
            int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
            if (fd < 0) {
                gw_log(GW_LOG_ERR, "listen %s:%u: socket: %s", l->host, l->port, strerror(errno));
                return -1;
            }
            inet_pton(l->ipv6 ? AF_INET6 : AF_INET, l->host, ls->addr[ls->n]);
            ls->port[ls->n] = l->port;
            ls->v6[ls->n] = l->ipv6;
            ls->fd[ls->n++] = fd;
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
            if (l->ipv6) {
                setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
            }
            if (bind(fd, (struct sockaddr *)&ss, len) != 0 || listen(fd, 4096) != 0) {
                gw_log(GW_LOG_ERR, "listen %s%s%s:%u: %s", l->ipv6 ? "[" : "", l->host, l->ipv6 ? "]" : "", l->port,
                       strerror(errno));
                return -1;
            }
        }
    }
    for (size_t i = 0; i < ls->n; i++) {
        char name[80];
        if (tune_listener(ls->fd[i]) != 0) {
            return -1;
        }
        describe_fd(ls->fd[i], name, sizeof(name));
        gw_log(GW_LOG_INFO, "listening on %s", name);
    }
    return 0;
}

void gw_listen_release(struct gw_listeners *ls)
{
    if (atomic_fetch_sub(&ls->users, 1) != 1 || ls->inherited) {
        return;
    }
    for (size_t i = 0; i < ls->n; i++) {
        close(ls->fd[i]);
        ls->fd[i] = -1;
    }
}

void gw_listen_close(struct gw_listeners *ls)
{
    for (size_t i = 0; i < ls->n; i++) {
        if (ls->fd[i] >= 0) {
            close(ls->fd[i]);
        }
    }
    ls->n = 0;
}

/* entry_of returns the index of socket `i`'s entry in `cfg`, or -1. */
static long entry_of(const struct gw_listeners *ls, size_t i, const struct cfg_config *cfg)
{
    for (size_t j = 0; j < cfg->n_listen; j++) {
        const struct cfg_listen *l = &cfg->listen[j];
        uint8_t a[16] = {0};
        if (l->port == ls->port[i] && l->ipv6 == ls->v6[i] && inet_pton(l->ipv6 ? AF_INET6 : AF_INET, l->host, a) == 1 &&
            memcmp(a, ls->addr[i], l->ipv6 ? 16 : 4) == 0) {
            return (long)j;
        }
    }
    return -1;
}

/* entry_ctx loads the certificates of `cfg`'s listen entry `j` (which has `tls:`) into a new server context. */
static struct gw_tls_ctx *entry_ctx(const struct cfg_config *cfg, size_t j, char *err, size_t err_cap)
{
    const struct cfg_tls *t = &cfg->listen[j].tls;
    struct gw_tls_keypair kp[CFG_MAX_TLS_CERTS];
    char why[400];

    for (size_t k = 0; k < t->n_certs && k < CFG_MAX_TLS_CERTS; k++) {
        kp[k].cert = t->certs[k].cert;
        kp[k].key = t->certs[k].key;
    }
    struct gw_tls_ctx *ctx = gw_tls_server_ctx_new(kp, t->n_certs, why, sizeof(why));
    if (ctx == NULL) {
        snprintf(err, err_cap, "%s: listen[%zu].tls: %s", cfg->path, j, why);
    }
    return ctx;
}

int gw_listen_tls_check(const struct cfg_config *cfg, char *err, size_t err_cap)
{
    for (size_t j = 0; j < cfg->n_listen; j++) {
        if (cfg->listen[j].tls.n_certs > 0) {
            struct gw_tls_ctx *ctx = entry_ctx(cfg, j, err, err_cap);
            if (ctx == NULL) {
                return -1;
            }
            gw_tls_ctx_free(ctx);
        }
    }
    return 0;
}

int gw_listen_tls(struct gw_listeners *ls, const struct cfg_config *cfg, bool at_start, const struct gw_tls_set *prev,
                  struct gw_tls_set **out, char *err, size_t err_cap)
{
    struct gw_tls_set *set = calloc(1, sizeof(*set));
    bool any = false;

    *out = NULL;
    if (set == NULL) {
        snprintf(err, err_cap, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < ls->n; i++) {
        long j = entry_of(ls, i, cfg);
        const struct cfg_tls *t = j >= 0 ? &cfg->listen[j].tls : NULL;
        bool wants = t != NULL && t->n_certs > 0;
        if (at_start) {
            ls->tls[i] = wants;
        } else if (wants != ls->tls[i]) {
            /* Gone, or switched between plain and TLS: the socket stays as it started, until a restart. */
            set->ctx[i] = prev != NULL ? prev->ctx[i] : NULL;
            if (set->ctx[i] != NULL) {
                gw_tls_ctx_ref(set->ctx[i]);
                any = true;
            }
            continue;
        }
        if (!wants) {
            continue;
        }
        set->ctx[i] = entry_ctx(cfg, (size_t)j, err, err_cap);
        if (set->ctx[i] == NULL) {
            gw_tls_set_free(set);
            return -1;
        }
        any = true;
    }
    if (!any) {
        gw_tls_set_free(set);
        set = NULL;
    }
    *out = set;
    return 0;
}

void gw_tls_set_free(void *p)
{
    struct gw_tls_set *set = p;
    if (set == NULL) {
        return;
    }
    for (size_t i = 0; i < GW_MAX_LISTENERS; i++) {
        gw_tls_ctx_free(set->ctx[i]);
    }
    free(set);
}
