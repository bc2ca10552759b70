/* fuzz_proxyproto.c: libFuzzer target for gw_pp_parse (PROXY protocol v1 and v2).
 *
 * Input: the bytes a client sends first on a proxy_protocol listener.
 * Invariants: every answer is one of the three; an error has a one-line reason; DONE's header fits the input, the
 * v1 bound (107, ending in CRLF) or the v2 bound (16 + its length field, at most GW_PP_MAX); the same header alone
 * parses to the same result, one byte less asks for more, and bytes after it change nothing; NEED_MORE only below
 * GW_PP_MAX bytes. Deterministic: no clock, RNG or globals. */
#include <stdint.h>
#include <string.h>

#include "gw_proxyproto.h"
#include "fuzz_check.h"

static void check_same(const struct gw_pp_result *a, const struct gw_pp_result *b)
{
    CHECK(a->header_len == b->header_len && a->version == b->version && a->local == b->local && a->has_addr == b->has_addr);
    CHECK(a->udp == b->udp && a->n_tlv == b->n_tlv && a->src_port == b->src_port && a->dst_port == b->dst_port);
    CHECK(!a->has_addr || (gw_addr_equal(&a->src, &b->src) && gw_addr_equal(&a->dst, &b->dst)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct gw_pp_result r;
    const char *why = NULL;
    enum gw_pp_status st = gw_pp_parse(&r, &why, data, size);
    switch (st) {
    case GW_PP_ERROR:
        CHECK(why != NULL && why[0] != '\0' && strchr(why, '\n') == NULL);
        return 0;
    case GW_PP_NEED_MORE:
        CHECK(size < GW_PP_MAX);
        return 0;
    case GW_PP_DONE:
        break;
    default:
        CHECK(0);
    }
    CHECK(r.header_len > 0 && r.header_len <= size && r.header_len <= GW_PP_MAX);
    if (r.version == 1) {
        CHECK(r.header_len <= GW_PP_V1_MAX && data[r.header_len - 2] == '\r' && data[r.header_len - 1] == '\n');
        CHECK(memchr(data, '\n', r.header_len - 1) == NULL);
        CHECK(!r.local && r.n_tlv == 0);
    } else {
        CHECK(r.version == 2 && r.header_len >= 16 && r.header_len == 16 + ((size_t)data[14] << 8 | data[15]));
        CHECK(!(r.local && r.has_addr));
    }
    struct gw_pp_result again;
    const char *why2 = NULL;
    CHECK(gw_pp_parse(&again, &why2, data, r.header_len) == GW_PP_DONE);
    check_same(&r, &again);
    CHECK(gw_pp_parse(&again, &why2, data, r.header_len - 1) == GW_PP_NEED_MORE);
    return 0;
}
