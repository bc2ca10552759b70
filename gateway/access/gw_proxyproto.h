/* gw_proxyproto.h: the PROXY protocol header a load balancer sends first on a connection (haproxy send-proxy /
 * send-proxy-v2, Alibaba SLB/NLB), versions 1 and 2, per haproxy's doc/proxy-protocol.txt.
 *
 * gw_pp_parse is pure: give it the bytes received so far; it answers NEED_MORE (a prefix of a valid header, wait for
 * more), ERROR (close the connection; the reason is one line), or DONE (the header is `header_len` bytes; the
 * request starts right after). It decides as early as the bytes allow: a first byte that is neither 'P' nor '\r' is
 * an error at once, so a client that forgot the header (or a port scan) is dropped without waiting.
 *
 * Strictness: v1 is "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" with single spaces, addresses of the announced family,
 * ports 0..65535 without leading zeros, at most 107 bytes with the CRLF; "PROXY UNKNOWN" then anything up to the CRLF
 * means the receiver uses the connection's own addresses. v2 is the 12-byte signature, version 2, command LOCAL (0)
 * or PROXY (1), a family/transport byte among the ten the spec defines, and a length at most GW_PP_V2_MAX_PAYLOAD.
 * The address block must be as long as its family needs; the rest must be well-formed TLVs (type, 16-bit length,
 * value), which are walked and skipped: none is interpreted (the CRC32C TLV included: the TCP checksum already
 * covers a local hop). LOCAL, UNSPEC and UNIX give no address: use the connection's own. */
#ifndef GW_PROXYPROTO_H
#define GW_PROXYPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gw_addr.h"

#define GW_PP_V1_MAX 107                      /* the longest v1 line, CRLF included */
#define GW_PP_V2_MAX_PAYLOAD 1024             /* addresses + TLVs we accept after the 16-byte v2 header */
#define GW_PP_MAX (16 + GW_PP_V2_MAX_PAYLOAD) /* a read buffer this large always holds a whole header */

enum gw_pp_status {
    GW_PP_DONE = 0,
    GW_PP_NEED_MORE,
    GW_PP_ERROR,
};

struct gw_pp_result {
    size_t header_len; /* bytes to drop before the request */
    unsigned version;  /* 1 or 2 */
    bool local;        /* v2 LOCAL: a health check from the proxy itself */
    bool has_addr;     /* false for LOCAL, UNKNOWN, UNSPEC, UNIX: use the connection's addresses */
    bool udp;          /* v2 announced UDP (only reported) */
    struct gw_addr src;
    struct gw_addr dst;
    uint16_t src_port;
    uint16_t dst_port;
    unsigned n_tlv; /* v2 TLVs skipped */
};

/* gw_pp_parse reads `len` bytes at `p`. On GW_PP_DONE fills `*out`; on GW_PP_ERROR sets `*reason` to a static
 * one-line message. Never reads past p + len, never more than GW_PP_MAX bytes. */
enum gw_pp_status gw_pp_parse(struct gw_pp_result *out, const char **reason, const uint8_t *p, size_t len);

#endif
