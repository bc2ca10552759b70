/* gw_tls.c: BoringSSL libssl behind gw_tls.h. */
#include "gw_tls.h"

#include <arpa/inet.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GW_TLS_MAX_NAME 253 /* a DNS name */

/* One server certificate: its own SSL_CTX (certificate settings follow SSL_set_SSL_CTX) and its subjectAltName DNS
 * names, lower case. */
struct gw_tls_cert {
    SSL_CTX *ssl_ctx;
    char **names;
    size_t n_names;
};

/* A context: the client's, or a server's. A server connection holds a reference (`refs`), because its SNI callback
 * reads the certificates after a reload may have dropped the server's. `ssl_ctx` is the session context: the
 * session cache and ticket keys, and the first certificate. */
struct gw_tls_ctx {
    SSL_CTX *ssl_ctx;
    atomic_uint refs;
    struct gw_tls_cert *certs;
    size_t n_certs;
};

struct gw_tls_conn {
    SSL *ssl;
    struct gw_tls_ctx *ctx; /* server connections: a reference */
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
    atomic_init(&ctx->refs, 1);
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

void gw_tls_ctx_ref(struct gw_tls_ctx *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void gw_tls_ctx_free(struct gw_tls_ctx *ctx)
{
    if (ctx == NULL || atomic_fetch_sub(&ctx->refs, 1) != 1) {
        return;
    }
    for (size_t i = 0; i < ctx->n_certs; i++) {
        struct gw_tls_cert *c = &ctx->certs[i];
        if (c->ssl_ctx != ctx->ssl_ctx) {
            SSL_CTX_free(c->ssl_ctx);
        }
        for (size_t j = 0; j < c->n_names; j++) {
            free(c->names[j]);
        }
        free(c->names);
    }
    free(ctx->certs);
    SSL_CTX_free(ctx->ssl_ctx);
    free(ctx);
}

/* ---- server ---- */

static bool name_eq(const char *a, const char *b)
{
    for (; *a != '\0' && *b != '\0'; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        if (x != *b) {
            return false;
        }
    }
    return *a == *b;
}

/* name_match: `pattern` (lower case) holds `name` exactly, or as `*.rest` where `name` is one label then `.rest`. */
static bool name_match(const char *pattern, const char *name, bool wildcard)
{
    if (!wildcard) {
        return pattern[0] != '*' && name_eq(name, pattern);
    }
    if (pattern[0] != '*' || pattern[1] != '.') {
        return false;
    }
    const char *dot = strchr(name, '.');
    return dot != NULL && dot != name && name_eq(dot + 1, pattern + 2);
}

/* pick returns the certificate for the SNI name `name`: an exact name first, then a wildcard, else NULL. */
static const struct gw_tls_cert *pick(const struct gw_tls_ctx *ctx, const char *name)
{
    for (int wildcard = 0; wildcard < 2; wildcard++) {
        for (size_t i = 0; i < ctx->n_certs; i++) {
            for (size_t j = 0; j < ctx->certs[i].n_names; j++) {
                if (name_match(ctx->certs[i].names[j], name, wildcard != 0)) {
                    return &ctx->certs[i];
                }
            }
        }
    }
    return NULL;
}

static int on_servername(SSL *ssl, int *alert, void *arg)
{
    const struct gw_tls_ctx *ctx = arg;
    const char *name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
    (void)alert;

    if (name != NULL && ctx->n_certs > 1) {
        const struct gw_tls_cert *c = pick(ctx, name);
        if (c != NULL && c->ssl_ctx != ctx->ssl_ctx) {
            SSL_set_SSL_CTX(ssl, c->ssl_ctx);
        }
    }
    return SSL_TLSEXT_ERR_OK; /* an unknown or missing name gets the first certificate */
}

static int on_alpn(SSL *ssl, const uint8_t **out, uint8_t *out_len, const uint8_t *in, unsigned in_len, void *arg)
{
    static const uint8_t ours[] = {8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    uint8_t *sel = NULL;
    (void)ssl;
    (void)arg;

    if (SSL_select_next_proto(&sel, out_len, ours, sizeof(ours), in, in_len) != OPENSSL_NPN_NEGOTIATED) {
        return SSL_TLSEXT_ERR_NOACK; /* no http/1.1 offered (h2 only): go on without ALPN, as nginx does */
    }
    *out = sel;
    return SSL_TLSEXT_ERR_OK;
}

/* cert_names copies the leaf's subjectAltName DNS names, lower case. No SAN: no names (it serves as the default only). */
static bool cert_names(struct gw_tls_cert *c)
{
    X509 *leaf = SSL_CTX_get0_certificate(c->ssl_ctx);
    GENERAL_NAMES *gens = leaf != NULL ? X509_get_ext_d2i(leaf, NID_subject_alt_name, NULL, NULL) : NULL;
    bool ok = true;

    if (gens == NULL) {
        return true;
    }
    size_t n = sk_GENERAL_NAME_num(gens);
    c->names = calloc(n + 1, sizeof(*c->names));
    for (size_t i = 0; c->names != NULL && i < n; i++) {
        const GENERAL_NAME *g = sk_GENERAL_NAME_value(gens, i);
        if (g->type != GEN_DNS) {
            continue;
        }
        const unsigned char *d = ASN1_STRING_get0_data(g->d.dNSName);
        size_t len = (size_t)ASN1_STRING_length(g->d.dNSName);
        if (len == 0 || len > GW_TLS_MAX_NAME || memchr(d, '\0', len) != NULL) {
            continue;
        }
        char *s = malloc(len + 1);
        if (s == NULL) {
            ok = false;
            break;
        }
        for (size_t k = 0; k < len; k++) {
            s[k] = d[k] >= 'A' && d[k] <= 'Z' ? (char)(d[k] + 32) : (char)d[k];
        }
        s[len] = '\0';
        c->names[c->n_names++] = s;
    }
    GENERAL_NAMES_free(gens);
    return ok && c->names != NULL;
}

/* server_ssl_ctx makes the SSL_CTX of one certificate, with every setting a handshake may read from it after
 * SSL_set_SSL_CTX. */
static SSL_CTX *server_ssl_ctx(const struct gw_tls_keypair *kp, char *err, size_t err_cap)
{
    SSL_CTX *s = SSL_CTX_new(TLS_method());
    char what[320];

    if (s == NULL) {
        set_err(err, err_cap, "SSL_CTX_new");
        return NULL;
    }
    if (SSL_CTX_set_min_proto_version(s, TLS1_2_VERSION) != 1 || SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION) != 1) {
        set_err(err, err_cap, "setting TLS 1.2..1.3");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(s, kp->cert) != 1) {
        snprintf(what, sizeof(what), "%s: cannot load the certificate chain", kp->cert);
        set_err(err, err_cap, what);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(s, kp->key, SSL_FILETYPE_PEM) != 1) {
        snprintf(what, sizeof(what), "%s: cannot load the private key", kp->key);
        set_err(err, err_cap, what);
        goto fail;
    }
    if (SSL_CTX_check_private_key(s) != 1) {
        snprintf(what, sizeof(what), "%s: the private key does not match the certificate %s", kp->key, kp->cert);
        set_err(err, err_cap, what);
        goto fail;
    }
    /* Partial writes and a moving buffer: the connection keeps what the socket did not take in its own buffer and
     * writes it again from there. BoringSSL releases its buffers whenever they are empty (SSL_MODE_RELEASE_BUFFERS
     * is its default, and the flag 0); shedding the handshake configuration frees more once a handshake is done. */
    SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS);
    SSL_CTX_set_alpn_select_cb(s, on_alpn, NULL);
    return s;
fail:
    SSL_CTX_free(s);
    return NULL;
}

struct gw_tls_ctx *gw_tls_server_ctx_new(const struct gw_tls_keypair *pairs, size_t n, char *err, size_t err_cap)
{
    struct gw_tls_ctx *ctx = calloc(1, sizeof(*ctx));
    static const uint8_t sid_ctx[] = "oss-gateway";

    if (ctx == NULL || n == 0 || (ctx->certs = calloc(n, sizeof(*ctx->certs))) == NULL) {
        set_err(err, err_cap, n == 0 ? "no certificate" : "out of memory");
        free(ctx);
        return NULL;
    }
    atomic_init(&ctx->refs, 1);
    for (size_t i = 0; i < n; i++) {
        struct gw_tls_cert *c = &ctx->certs[i];
        c->ssl_ctx = server_ssl_ctx(&pairs[i], err, err_cap);
        if (c->ssl_ctx == NULL) {
            goto fail;
        }
        ctx->n_certs = i + 1;
        if (!cert_names(c)) {
            set_err(err, err_cap, "out of memory");
            goto fail;
        }
        SSL_CTX_set_tlsext_servername_callback(c->ssl_ctx, on_servername);
        SSL_CTX_set_tlsext_servername_arg(c->ssl_ctx, ctx);
    }
    ctx->ssl_ctx = ctx->certs[0].ssl_ctx;
    /* The session cache (BoringSSL's default size, 20480 sessions) and tickets live on the first certificate's
     * context, the one each connection starts with. */
    SSL_CTX_set_session_cache_mode(ctx->ssl_ctx, SSL_SESS_CACHE_SERVER);
    if (SSL_CTX_set_session_id_context(ctx->ssl_ctx, sid_ctx, sizeof(sid_ctx) - 1) != 1) {
        set_err(err, err_cap, "SSL_CTX_set_session_id_context");
        goto fail;
    }
    return ctx;
fail:
    gw_tls_ctx_free(ctx);
    return NULL;
}

struct gw_tls_conn *gw_tls_server_new(struct gw_tls_ctx *ctx, int fd)
{
    struct gw_tls_conn *c = calloc(1, sizeof(*c));

    if (c == NULL) {
        return NULL;
    }
    c->ssl = SSL_new(ctx->ssl_ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1) {
        ERR_clear_error();
        SSL_free(c->ssl);
        free(c);
        return NULL;
    }
    SSL_set_accept_state(c->ssl);
    SSL_set_shed_handshake_config(c->ssl, 1);
    gw_tls_ctx_ref(ctx);
    c->ctx = ctx;
    return c;
}

enum gw_tls_version gw_tls_conn_version_id(const struct gw_tls_conn *c)
{
    switch (SSL_version(c->ssl)) {
    case TLS1_2_VERSION:
        return GW_TLS_V1_2;
    case TLS1_3_VERSION:
        return GW_TLS_V1_3;
    default:
        return GW_TLS_V_NONE;
    }
}

bool gw_tls_conn_resumed(const struct gw_tls_conn *c)
{
    return SSL_session_reused(c->ssl) == 1;
}

bool gw_tls_pending(const struct gw_tls_conn *c)
{
    return SSL_pending(c->ssl) > 0;
}

void gw_tls_close_notify(struct gw_tls_conn *c)
{
    if (SSL_is_init_finished(c->ssl)) {
        (void)SSL_shutdown(c->ssl);
    }
    ERR_clear_error();
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
    gw_tls_ctx_free(c->ctx);
    free(c);
}
