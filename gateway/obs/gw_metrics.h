/* gw_metrics.h: counters for the Prometheus exposition at the metrics path. Each worker owns one struct gw_stats and is
 * its only writer (relaxed stores, no locked instructions on the request path); the exposition sums all workers. */
#ifndef GW_METRICS_H
#define GW_METRICS_H

#include <stdatomic.h>
#include <stdint.h>

#include "sgn_buf.h"

#define GW_ROUTE_SLOTS 513 /* slot 0: no route; then one per route prefix ever loaded, the last one shared */
#define GW_STATUS_SLOTS 16
#define GW_LATENCY_BUCKETS 12

/* TLS handshakes are counted by protocol (the order of net/gw_tls.h's enum gw_tls_version) and result. */
enum gw_tls_stat_version { GW_TLS_STAT_V1_2 = 0, GW_TLS_STAT_V1_3, GW_TLS_STAT_NONE, GW_TLS_STAT_VERSIONS };
enum gw_tls_stat_result { GW_TLS_STAT_SUCCESS = 0, GW_TLS_STAT_FAILURE, GW_TLS_STAT_TIMEOUT, GW_TLS_STAT_RESULTS };

struct gw_stats {
    atomic_uint_fast64_t requests[GW_ROUTE_SLOTS][GW_STATUS_SLOTS];
    atomic_uint_fast64_t latency[GW_LATENCY_BUCKETS + 1]; /* the last one is +Inf */
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t sign_failures;
    atomic_uint_fast64_t tls_handshakes[GW_TLS_STAT_VERSIONS][GW_TLS_STAT_RESULTS];
    atomic_uint_fast64_t tls_resumed[GW_TLS_STAT_VERSIONS]; /* of the successful ones */
};

enum gw_reject {
    GW_REJECT_MAX_CONNECTIONS = 0,
    GW_REJECT_PER_IP,
    GW_REJECT_ACCEPT_ERROR,
    GW_REJECT_KINDS,
};

/* Process-wide gauges and counters, written from any thread. */
extern atomic_long gw_open_connections;
extern atomic_uint_fast64_t gw_rejected[GW_REJECT_KINDS];
extern atomic_uint_fast64_t gw_reloads_ok;
extern atomic_uint_fast64_t gw_reloads_failed;

/* gw_metrics_set_caps records the running configuration's connection caps (limits.max_connections and
 * limits.max_connections_per_ip) for the exposition: at start and after each reload. */
void gw_metrics_set_caps(unsigned max_connections, unsigned max_connections_per_ip);

static inline void gw_stat_inc(atomic_uint_fast64_t *c, uint64_t n)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n, memory_order_relaxed);
}

/* gw_metrics_slot returns the counter slot for a route prefix, the same slot for the same prefix across reloads. */
unsigned gw_metrics_slot(const char *prefix);

/* gw_metrics_register makes `stats` part of the exposition (a worker's, for the process's lifetime). */
void gw_metrics_register(struct gw_stats *stats);

/* gw_metrics_record counts one answered request. */
void gw_metrics_record(struct gw_stats *s, unsigned slot, unsigned status, uint64_t duration_us);

/* gw_metrics_render appends the Prometheus text exposition (version 0.0.4). */
void gw_metrics_render(struct sgn_buf *b);

#endif
