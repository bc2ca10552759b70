/* gw_ipcount.c: see gw_ipcount.h. */
#include "gw_ipcount.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define IP_BUCKETS 4096

struct ip_entry {
    struct ip_entry *next;
    uint8_t addr[16];
    uint32_t count;
};

static pthread_mutex_t ip_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ip_entry *ip_table[IP_BUCKETS];

static unsigned ip_hash(const uint8_t a[16])
{
    uint32_t h = 2166136261u; /* FNV-1a */
    for (int i = 0; i < 16; i++) {
        h = (h ^ a[i]) * 16777619u;
    }
    return h & (IP_BUCKETS - 1);
}

bool gw_ipcount_add(const uint8_t addr[16], uint32_t max)
{
    bool ok = true;
    unsigned h = ip_hash(addr);
    pthread_mutex_lock(&ip_lock);
    struct ip_entry *e = ip_table[h];
    while (e != NULL && memcmp(e->addr, addr, 16) != 0) {
        e = e->next;
    }
    if (e == NULL) {
        e = calloc(1, sizeof(*e));
        if (e == NULL) {
            ok = false;
        } else {
            memcpy(e->addr, addr, 16);
            e->next = ip_table[h];
            ip_table[h] = e;
        }
    }
    if (ok && e->count >= max) {
        ok = false;
    } else if (ok) {
        e->count++;
    }
    pthread_mutex_unlock(&ip_lock);
    return ok;
}

void gw_ipcount_del(const uint8_t addr[16])
{
    unsigned h = ip_hash(addr);
    pthread_mutex_lock(&ip_lock);
    struct ip_entry **pp = &ip_table[h];
    while (*pp != NULL && memcmp((*pp)->addr, addr, 16) != 0) {
        pp = &(*pp)->next;
    }
    if (*pp != NULL && --(*pp)->count == 0) {
        struct ip_entry *e = *pp;
        *pp = e->next;
        free(e);
    }
    pthread_mutex_unlock(&ip_lock);
}
