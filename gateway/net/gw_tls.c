/* gw_tls.c: BoringSSL libssl behind gw_tls.h. */
#include "gw_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct gw_tls_ctx {
    SSL_CTX *ssl_ctx;
};

struct gw_tls_conn {
    SSL *ssl;
    char error[256];
};

static void set_err(char *err, size_t cap, const char *what)
{
    __typeof__(ERR_get_error()) e = ERR_get_error(); /* uint32_t in BoringSSL, unsigned long in OpenSSL */
    char lib[160] = "";
    if (e != 0) {
        ERR_error_string_n(e, lib, sizeof(lib));
    }
    ERR_clear_error();
    if (cap > 0) {
        int n = snprintf(err, cap, "%s%s%s", what, e != 0 ? ": " : "", lib);
        if (n < 0) {
            err[0] = '\0';
        }
    }
}

struct gw_tls_ctx *gw_tls_client_ctx_new(const char *ca_file, char *err, size_t err_cap)
{
    struct gw_tls_ctx *ctx = calloc(1, sizeof(*ctx));
    const char *file = ca_file != NULL ? ca_file : GW_TLS_SYSTEM_CA;
    char what[320];

    if (ctx == NULL) {
        set_err(err, err_cap, "out of memory");
        return NULL;
    }
    ctx->ssl_ctx = SSL_CTX_new(TLS_method());
    if (ctx->ssl_ctx == NULL) {
        set_err(err, err_cap, "SSL_CTX_new");
        goto fail;
    }
    if (SSL_CTX_set_min_proto_version(ctx->ssl_ctx, TLS1_2_VERSION) != 1 ||
        SSL_CTX_set_max_proto_version(ctx->ssl_ctx, TLS1_3_VERSION) != 1) {
        set_err(err, err_cap, "setting TLS 1.2..1.3");
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, file, NULL) != 1) {
        int n = snprintf(what, sizeof(what), "CA file %s", file);
        set_err(err, err_cap, n > 0 && (size_t)n < sizeof(what) ? what : "CA file");
        goto fail;
    }
    SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
    /* No renegotiation (BoringSSL's default for clients, stated here on purpose). */
    return ctx;
fail:
    gw_tls_ctx_free(ctx);
    return NULL;
}

void gw_tls_ctx_free(struct gw_tls_ctx *ctx)
{
    if (ctx == NULL) {
        return;
    }
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

struct gw_tls_conn *gw_tls_client_new(struct gw_tls_ctx *ctx, int fd, const char *host, char *err, size_t err_cap)
{
    struct gw_tls_conn *c = NULL;
    unsigned char addr[16];
    bool is_ip = inet_pton(AF_INET, host, addr) == 1 || inet_pton(AF_INET6, host, addr) == 1;

    if (host[0] == '\0' || strlen(host) > 253) {
        set_err(err, err_cap, "TLS host name is empty or too long");
        return NULL;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL) {
        set_err(err, err_cap, "out of memory");
        return NULL;
    }
    c->ssl = SSL_new(ctx->ssl_ctx);
    if (c->ssl == NULL) {
        set_err(err, err_cap, "SSL_new");
        goto fail;
    }
    X509_VERIFY_PARAM *param = SSL_get0_param(c->ssl);
    if (is_ip) {
        if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
            set_err(err, err_cap, "TLS: bad IP address");
            goto fail;
        }
    } else {
        if (X509_VERIFY_PARAM_set1_host(param, host, strlen(host)) != 1 || SSL_set_tlsext_host_name(c->ssl, host) != 1) {
            set_err(err, err_cap, "TLS: bad host name");
            goto fail;
        }
    }
    if (SSL_set_fd(c->ssl, fd) != 1) {
        set_err(err, err_cap, "SSL_set_fd");
        goto fail;
    }
    SSL_set_connect_state(c->ssl);
    return c;
fail:
    gw_tls_conn_free(c);
    return NULL;
}

/* outcome turns an SSL_* result into gw_tls_io, keeping the reason of a fatal error. */
static enum gw_tls_io outcome(struct gw_tls_conn *c, int rc)
{
    int e = SSL_get_error(c->ssl, rc);
    switch (e) {
    case SSL_ERROR_WANT_READ:
        return GW_TLS_WANT_READ;
    case SSL_ERROR_WANT_WRITE:
        return GW_TLS_WANT_WRITE;
    case SSL_ERROR_ZERO_RETURN:
        return GW_TLS_CLOSED;
    default:
        break;
    }
    long v = SSL_get_verify_result(c->ssl);
    if (v != X509_V_OK) {
        snprintf(c->error, sizeof(c->error), "certificate verify failed: %s", X509_verify_cert_error_string(v));
        ERR_clear_error();
    } else if (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        snprintf(c->error, sizeof(c->error), "TLS: connection closed or reset by the peer (truncated)");
    } else {
        set_err(c->error, sizeof(c->error), "TLS");
    }
    return GW_TLS_ERROR;
}

enum gw_tls_io gw_tls_handshake(struct gw_tls_conn *c)
{
    int rc = SSL_do_handshake(c->ssl);
    return rc == 1 ? GW_TLS_OK : outcome(c, rc);
}

enum gw_tls_io gw_tls_read(struct gw_tls_conn *c, void *buf, size_t cap, size_t *out_n)
{
    *out_n = 0;
    int n = SSL_read(c->ssl, buf, cap > 1 << 30 ? 1 << 30 : (int)cap);
    if (n > 0) {
        *out_n = (size_t)n;
        return GW_TLS_OK;
    }
    return outcome(c, n);
}

enum gw_tls_io gw_tls_write(struct gw_tls_conn *c, const void *buf, size_t len, size_t *out_n)
{
    *out_n = 0;
    int n = SSL_write(c->ssl, buf, len > 1 << 30 ? 1 << 30 : (int)len);
    if (n > 0) {
        *out_n = (size_t)n;
        return GW_TLS_OK;
    }
    return outcome(c, n);
}

const char *gw_tls_conn_error(const struct gw_tls_conn *c)
{
    return c->error[0] != '\0' ? c->error : "TLS: unknown error";
}

const char *gw_tls_conn_version(const struct gw_tls_conn *c)
{
    return SSL_get_version(c->ssl);
}

void gw_tls_conn_free(struct gw_tls_conn *c)
{
    if (c == NULL) {
        return;
    }
    SSL_free(c->ssl);
    free(c);
}
