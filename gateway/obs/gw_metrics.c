/* gw_metrics.c: the counters and their exposition. */
#include "gw_metrics.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gw_log.h"

atomic_long gw_open_connections;
atomic_uint_fast64_t gw_rejected[GW_REJECT_KINDS];
atomic_uint_fast64_t gw_reloads_ok;
atomic_uint_fast64_t gw_reloads_failed;
static atomic_uint cap_connections;
static atomic_uint cap_connections_per_ip;

static const uint16_t status_codes[GW_STATUS_SLOTS] = {200, 302, 307, 400, 404, 405, 408, 413, 414, 431, 500, 503, 505};
static const uint64_t latency_le_us[GW_LATENCY_BUCKETS] = {25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 25000, 100000, 1000000};
static const char *const latency_le_text[GW_LATENCY_BUCKETS] = {"0.000025", "0.00005", "0.0001", "0.00025", "0.0005", "0.001",
                                                                "0.0025",   "0.005",   "0.01",   "0.025",   "0.1",    "1"};
static const char *const reject_text[GW_REJECT_KINDS] = {"max_connections", "max_connections_per_ip", "accept_error"};

#define MAX_WORKERS 256

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char *slot_prefix[GW_ROUTE_SLOTS];
static unsigned n_slots = 1;
static struct gw_stats *workers[MAX_WORKERS];
static atomic_uint n_workers;

unsigned gw_metrics_slot(const char *prefix)
{
    unsigned slot = GW_ROUTE_SLOTS - 1;
    pthread_mutex_lock(&lock);
    for (unsigned i = 1; i < n_slots; i++) {
        if (strcmp(slot_prefix[i], prefix) == 0) {
            slot = i;
            goto done;
        }
    }
    if (n_slots < GW_ROUTE_SLOTS - 1) {
        char *copy = strdup(prefix);
        if (copy != NULL) {
            slot_prefix[n_slots] = copy;
            slot = n_slots++;
        }
    }
done:
    pthread_mutex_unlock(&lock);
    return slot;
}

void gw_metrics_set_caps(unsigned max_connections, unsigned max_connections_per_ip)
{
    atomic_store(&cap_connections, max_connections);
    atomic_store(&cap_connections_per_ip, max_connections_per_ip);
}

void gw_metrics_register(struct gw_stats *stats)
{
    pthread_mutex_lock(&lock);
    unsigned n = atomic_load(&n_workers);
    if (n < MAX_WORKERS) {
        workers[n] = stats;
        atomic_store(&n_workers, n + 1);
    }
    pthread_mutex_unlock(&lock);
}

void gw_metrics_record(struct gw_stats *s, unsigned slot, unsigned status, uint64_t duration_us)
{
    unsigned si = GW_STATUS_SLOTS - 1;
    for (unsigned i = 0; i < GW_STATUS_SLOTS - 1; i++) {
        if (status_codes[i] == status) {
            si = i;
            break;
        }
    }
    gw_stat_inc(&s->requests[slot][si], 1);
    unsigned b = 0;
    while (b < GW_LATENCY_BUCKETS && duration_us > latency_le_us[b]) {
        b++;
    }
    gw_stat_inc(&s->latency[b], 1);
    gw_stat_inc(&s->latency_sum_us, duration_us);
}

static uint64_t load(const atomic_uint_fast64_t *c)
{
    return atomic_load_explicit(c, memory_order_relaxed);
}

static void put_u64(struct sgn_buf *b, uint64_t v)
{
    sgn_buf_u64(b, v);
}

/* put_labeled appends `<head><label>"} <n>` and a newline; `head` ends with `{name="`. */
static void put_labeled(struct sgn_buf *b, const char *head, const char *label, uint64_t n)
{
    sgn_buf_append(b, head, strlen(head));
    sgn_buf_append(b, label, strlen(label));
    sgn_buf_lit(b, "\"} ");
    put_u64(b, n);
    sgn_buf_char(b, '\n');
}

static const char *const tls_version_text[GW_TLS_STAT_VERSIONS] = {"TLSv1.2", "TLSv1.3", "none"};
static const char *const tls_result_text[GW_TLS_STAT_RESULTS] = {"success", "failure", "timeout"};

/* render_tls appends the TLS handshake counters (docs/configuration.md, Metrics). */
static void render_tls(struct sgn_buf *b, uint64_t hs[GW_TLS_STAT_VERSIONS][GW_TLS_STAT_RESULTS],
                       const uint64_t resumed[GW_TLS_STAT_VERSIONS])
{
    sgn_buf_lit(b, "# HELP oss_gateway_tls_handshakes_total TLS handshakes on TLS listeners, by protocol and result.\n"
                   "# TYPE oss_gateway_tls_handshakes_total counter\n");
    for (unsigned v = 0; v < GW_TLS_STAT_VERSIONS; v++) {
        for (unsigned r = 0; r < GW_TLS_STAT_RESULTS; r++) {
            if ((v == GW_TLS_STAT_NONE) != (r != GW_TLS_STAT_SUCCESS)) {
                continue; /* a success has a version; a failure or a timeout is counted under none */
            }
            sgn_buf_lit(b, "oss_gateway_tls_handshakes_total{version=\"");
            sgn_buf_append(b, tls_version_text[v], strlen(tls_version_text[v]));
            put_labeled(b, "\",result=\"", tls_result_text[r], hs[v][r]);
        }
    }
    sgn_buf_lit(b, "# HELP oss_gateway_tls_resumed_handshakes_total Successful TLS handshakes that resumed a session.\n"
                   "# TYPE oss_gateway_tls_resumed_handshakes_total counter\n");
    for (unsigned v = 0; v < GW_TLS_STAT_NONE; v++) {
        put_labeled(b, "oss_gateway_tls_resumed_handshakes_total{version=\"", tls_version_text[v], resumed[v]);
    }
}

void gw_metrics_render(struct sgn_buf *b)
{
    unsigned nw = atomic_load(&n_workers);

    pthread_mutex_lock(&lock);
    unsigned ns = n_slots;
    sgn_buf_lit(b, "# HELP oss_gateway_requests_total Requests answered, by route prefix and status.\n"
                   "# TYPE oss_gateway_requests_total counter\n");
    for (unsigned r = 0; r < GW_ROUTE_SLOTS; r++) {
        if (r >= ns && r != GW_ROUTE_SLOTS - 1) {
            continue;
        }
        for (unsigned st = 0; st < GW_STATUS_SLOTS; st++) {
            uint64_t sum = 0;
            for (unsigned w = 0; w < nw; w++) {
                sum += load(&workers[w]->requests[r][st]);
            }
            if (sum == 0) {
                continue;
            }
            sgn_buf_lit(b, "oss_gateway_requests_total{route=");
            if (r == 0) {
                sgn_buf_lit(b, "\"\"");
            } else if (r == GW_ROUTE_SLOTS - 1 || slot_prefix[r] == NULL) {
                sgn_buf_lit(b, "\"other\"");
            } else {
                gw_json_str(b, slot_prefix[r], strlen(slot_prefix[r]), false);
            }
            sgn_buf_lit(b, ",status=\"");
            if (st == GW_STATUS_SLOTS - 1 || status_codes[st] == 0) {
                sgn_buf_lit(b, "other");
            } else {
                put_u64(b, status_codes[st]);
            }
            sgn_buf_lit(b, "\"} ");
            put_u64(b, sum);
            sgn_buf_char(b, '\n');
        }
    }
    pthread_mutex_unlock(&lock);

    uint64_t cum = 0;
    uint64_t total_us = 0;
    sgn_buf_lit(b, "# HELP oss_gateway_request_duration_seconds Time from a request's first byte to its answer.\n"
                   "# TYPE oss_gateway_request_duration_seconds histogram\n");
    for (unsigned i = 0; i <= GW_LATENCY_BUCKETS; i++) {
        for (unsigned w = 0; w < nw; w++) {
            cum += load(&workers[w]->latency[i]);
        }
        sgn_buf_lit(b, "oss_gateway_request_duration_seconds_bucket{le=\"");
        if (i == GW_LATENCY_BUCKETS) {
            sgn_buf_lit(b, "+Inf");
        } else {
            sgn_buf_append(b, latency_le_text[i], strlen(latency_le_text[i]));
        }
        sgn_buf_lit(b, "\"} ");
        put_u64(b, cum);
        sgn_buf_char(b, '\n');
    }
    uint64_t failures = 0;
    uint64_t hs[GW_TLS_STAT_VERSIONS][GW_TLS_STAT_RESULTS] = {{0}};
    uint64_t resumed[GW_TLS_STAT_VERSIONS] = {0};
    for (unsigned w = 0; w < nw; w++) {
        total_us += load(&workers[w]->latency_sum_us);
        failures += load(&workers[w]->sign_failures);
        for (unsigned v = 0; v < GW_TLS_STAT_VERSIONS; v++) {
            for (unsigned r = 0; r < GW_TLS_STAT_RESULTS; r++) {
                hs[v][r] += load(&workers[w]->tls_handshakes[v][r]);
            }
            resumed[v] += load(&workers[w]->tls_resumed[v]);
        }
    }
    char sum_text[32];
    struct sgn_buf sb;
    sgn_buf_init(&sb, sum_text, sizeof(sum_text));
    put_u64(&sb, total_us / 1000000);
    sgn_buf_char(&sb, '.');
    char frac[7] = {0};
    uint64_t f = total_us % 1000000;
    for (int i = 5; i >= 0; i--) {
        frac[i] = (char)('0' + f % 10);
        f /= 10;
    }
    sgn_buf_append(&sb, frac, 6);
    sgn_buf_lit(b, "oss_gateway_request_duration_seconds_sum ");
    sgn_buf_append(b, sb.base, sb.len);
    sgn_buf_lit(b, "\noss_gateway_request_duration_seconds_count ");
    put_u64(b, cum);
    sgn_buf_lit(b, "\n# HELP oss_gateway_signing_failures_total Requests the signer refused.\n"
                   "# TYPE oss_gateway_signing_failures_total counter\noss_gateway_signing_failures_total ");
    put_u64(b, failures);
    sgn_buf_char(b, '\n');
    render_tls(b, hs, resumed);
    sgn_buf_lit(b, "# HELP oss_gateway_open_connections Client connections open now.\n"
                   "# TYPE oss_gateway_open_connections gauge\noss_gateway_open_connections ");
    long open = atomic_load(&gw_open_connections);
    put_u64(b, open > 0 ? (uint64_t)open : 0);
    sgn_buf_lit(b, "\n# HELP oss_gateway_max_connections The cap on open client connections (limits.max_connections).\n"
                   "# TYPE oss_gateway_max_connections gauge\noss_gateway_max_connections ");
    put_u64(b, atomic_load(&cap_connections));
    sgn_buf_lit(b, "\n# HELP oss_gateway_max_connections_per_ip The cap on open connections from one client address "
                   "(limits.max_connections_per_ip).\n"
                   "# TYPE oss_gateway_max_connections_per_ip gauge\noss_gateway_max_connections_per_ip ");
    put_u64(b, atomic_load(&cap_connections_per_ip));
    sgn_buf_lit(b, "\n# HELP oss_gateway_rejected_connections_total Connections closed at accept, by reason.\n"
                   "# TYPE oss_gateway_rejected_connections_total counter\n");
    for (unsigned i = 0; i < GW_REJECT_KINDS; i++) {
        put_labeled(b, "oss_gateway_rejected_connections_total{reason=\"", reject_text[i], load(&gw_rejected[i]));
    }
    sgn_buf_lit(b, "# HELP oss_gateway_reloads_total Configuration reloads, by result.\n"
                   "# TYPE oss_gateway_reloads_total counter\noss_gateway_reloads_total{result=\"success\"} ");
    put_u64(b, load(&gw_reloads_ok));
    sgn_buf_lit(b, "\noss_gateway_reloads_total{result=\"failure\"} ");
    put_u64(b, load(&gw_reloads_failed));
    sgn_buf_lit(b, "\n# HELP oss_gateway_build_info The running version.\n# TYPE oss_gateway_build_info gauge\n"
                   "oss_gateway_build_info{version=\"" GW_VERSION "\"} 1\n");
}
