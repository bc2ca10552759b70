/* gw_tls.h: the project's one TLS module, on BoringSSL's libssl (docs/design.md: one libcrypto per process, so never
 * OpenSSL's libssl.so.3). This is the only gateway file set that includes <openssl/...>; the rest sees opaque types.
 *
 * The client side, for the outbound HTTP client (gw_fetch.h): TLS 1.2 and 1.3 only, the peer verified against the
 * system CA bundle or a configured CA file, the host name checked against the certificate (DNS name, or IP address
 * for a literal), SNI sent for names.
 *
 * The server side, for TLS listeners (issue 13, http/gw_conn.c): one context per listener and configuration, with
 * TLS 1.2 and 1.3 only, BoringSSL's default cipher choice, ALPN http/1.1, no renegotiation (BoringSSL never
 * renegotiates as a server), a session cache and session tickets whose keys BoringSSL makes and rotates itself, in
 * memory (SSL_DEFAULT_TICKET_KEY_ROTATION_INTERVAL: every 2 days; a reload makes a new context and new keys), and
 * certificates chosen by SNI.
 *
 * Both sides share the shape: a context (`struct gw_tls_ctx`) shared by connections (`struct gw_tls_conn`), whose
 * handshake, read and write never block and report GW_TLS_WANT_READ or GW_TLS_WANT_WRITE for the caller to wait on
 * the socket (poll(2) in the client, libevent events in the server).
 *
 * Thread safety: a context may be shared by connections on any threads once built (SSL_CTX is reference-counted and
 * locked internally); a connection belongs to one thread at a time. */
#ifndef GW_TLS_H
#define GW_TLS_H

#include <stdbool.h>
#include <stddef.h>

#define GW_TLS_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

struct gw_tls_ctx;
struct gw_tls_conn;

/* enum gw_tls_io is the outcome of a non-blocking TLS operation. */
enum gw_tls_io {
    GW_TLS_OK = 0,     /* done (for read/write: `*out_n` bytes moved, at least 1) */
    GW_TLS_WANT_READ,  /* call again when the socket is readable */
    GW_TLS_WANT_WRITE, /* call again when the socket is writable */
    GW_TLS_CLOSED,     /* the peer closed the TLS session cleanly (close_notify) */
    GW_TLS_ERROR,      /* fatal: the reason is in gw_tls_conn_error */
};

/* gw_tls_client_ctx_new returns a new client context that trusts the PEM certificates of `ca_file`, or of
 * GW_TLS_SYSTEM_CA when `ca_file` is NULL. Returns NULL with a one-line reason in `err` (capacity `err_cap`) when the
 * file cannot be read or holds no certificate, or on out-of-memory. Free with gw_tls_ctx_free. */
struct gw_tls_ctx *gw_tls_client_ctx_new(const char *ca_file, char *err, size_t err_cap);

/* struct gw_tls_keypair names one server certificate: a PEM chain (leaf first, then intermediates) and its PEM private
 * key (RSA or ECDSA). */
struct gw_tls_keypair {
    const char *cert;
    const char *key;
};

/* gw_tls_server_ctx_new returns a new server context serving the `n` (1..) certificates of `pairs`: a client's SNI
 * name picks the first whose subjectAltName DNS names hold it exactly, else the first that holds a `*.` wildcard
 * matching it (one label), else the first certificate. Returns NULL with a one-line reason in `err` naming the file
 * and the library's reason (a bad PEM, a key that does not match its certificate), or on out-of-memory. */
struct gw_tls_ctx *gw_tls_server_ctx_new(const struct gw_tls_keypair *pairs, size_t n, char *err, size_t err_cap);

/* gw_tls_server_new starts a server connection over the accepted socket `fd` (which the caller keeps owning). Returns
 * NULL on out-of-memory. The connection holds a reference to the context. */
struct gw_tls_conn *gw_tls_server_new(struct gw_tls_ctx *ctx, int fd);

/* enum gw_tls_version names a negotiated protocol for the metrics. */
enum gw_tls_version {
    GW_TLS_V1_2 = 0,
    GW_TLS_V1_3,
    GW_TLS_V_NONE, /* no version agreed (the handshake failed before) */
    GW_TLS_VERSIONS,
};

/* gw_tls_conn_version_id returns the negotiated protocol; gw_tls_conn_resumed whether the handshake resumed a session
 * (a ticket or the session cache). */
enum gw_tls_version gw_tls_conn_version_id(const struct gw_tls_conn *c);
bool gw_tls_conn_resumed(const struct gw_tls_conn *c);

/* gw_tls_pending says whether decrypted application data waits in the connection (read before waiting on the
 * socket again: the socket will not say so). */
bool gw_tls_pending(const struct gw_tls_conn *c);

/* gw_tls_close_notify sends a close_notify alert if the socket takes it now (never waits). */
void gw_tls_close_notify(struct gw_tls_conn *c);

/* gw_tls_ctx_ref takes one more reference on `ctx`. */
void gw_tls_ctx_ref(struct gw_tls_ctx *ctx);

/* gw_tls_ctx_free drops the caller's reference; connections made from it keep theirs. NULL is allowed. */
void gw_tls_ctx_free(struct gw_tls_ctx *ctx);

/* gw_tls_client_new starts a client connection over the connected socket `fd` (which the caller keeps owning and
 * closes after gw_tls_conn_free) to `host`: a DNS name (sent as SNI and checked against the certificate's names) or
 * an IPv4/IPv6 literal without brackets (checked against its IP addresses; no SNI). Returns NULL with a reason in
 * `err` when `host` is empty or not valid, or on out-of-memory. The socket should be non-blocking. */
struct gw_tls_conn *gw_tls_client_new(struct gw_tls_ctx *ctx, int fd, const char *host, char *err, size_t err_cap);

/* gw_tls_handshake advances the handshake: GW_TLS_OK once it is complete and the peer verified. */
enum gw_tls_io gw_tls_handshake(struct gw_tls_conn *c);

/* gw_tls_read reads up to `cap` bytes of application data into `buf`. GW_TLS_CLOSED at a clean end of the session;
 * a TCP close without close_notify is GW_TLS_ERROR ("truncated"), which an HTTP client with its own framing may
 * treat as the end. */
enum gw_tls_io gw_tls_read(struct gw_tls_conn *c, void *buf, size_t cap, size_t *out_n);

/* gw_tls_write writes up to `len` bytes from `buf` (len >= 1). After GW_TLS_WANT_*, call again with the same data. */
enum gw_tls_io gw_tls_write(struct gw_tls_conn *c, const void *buf, size_t len, size_t *out_n);

/* gw_tls_conn_error returns a static-lifetime-until-next-call one-line reason for the last GW_TLS_ERROR, such as
 * "certificate verify failed: Hostname mismatch" or the library's reason; never any application data. */
const char *gw_tls_conn_error(const struct gw_tls_conn *c);

/* gw_tls_conn_version returns the negotiated protocol ("TLSv1.3", "TLSv1.2") after the handshake. */
const char *gw_tls_conn_version(const struct gw_tls_conn *c);

/* gw_tls_conn_free releases the connection without sending close_notify (the HTTP client sends one request per
 * connection and closes it; the server sends one with gw_tls_close_notify). NULL is allowed. */
void gw_tls_conn_free(struct gw_tls_conn *c);

#endif
