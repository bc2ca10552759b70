/* cfg_value.c: pure parsers for the value forms of the schema. No allocation, no I/O. */
#include "cfg_internal.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

bool cfg_parse_uint(const char *s, size_t len, uint64_t *out)
{
    uint64_t v = 0;

    if (len == 0 || (len > 1 && s[0] == '0')) {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(s[i])) {
            return false;
        }
        uint64_t d = (uint64_t)(s[i] - '0');
        if (v > (UINT64_MAX - d) / 10) {
            return false;
        }
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* Splits "15m" into its digits and its suffix. */
static size_t digits_len(const char *s, size_t len)
{
    size_t i = 0;

    while (i < len && is_digit(s[i])) {
        i++;
    }
    return i;
}

enum cfg_dur_result cfg_parse_duration_ms(const char *s, size_t len, uint64_t *out_ms)
{
    static const struct {
        const char *suffix;
        uint64_t ms;
    } units[] = {{"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 86400 * 1000}};
    size_t nd = digits_len(s, len);
    uint64_t n = 0;

    if (nd == 0 || !cfg_parse_uint(s, nd, &n)) {
        return CFG_DUR_BAD;
    }
    if (nd == len) {
        return CFG_DUR_NO_UNIT;
    }
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        size_t ul = strlen(units[i].suffix);
        if (len - nd == ul && memcmp(s + nd, units[i].suffix, ul) == 0) {
            if (n > UINT64_MAX / units[i].ms) {
                return CFG_DUR_BAD;
            }
            *out_ms = n * units[i].ms;
            return CFG_DUR_OK;
        }
    }
    return CFG_DUR_BAD;
}

bool cfg_parse_size(const char *s, size_t len, uint64_t *out)
{
    size_t nd = digits_len(s, len);
    uint64_t n = 0;
    uint64_t mul = 1;

    if (nd == 0 || !cfg_parse_uint(s, nd, &n)) {
        return false;
    }
    if (len - nd == 1) {
        if (s[nd] == 'k' || s[nd] == 'K') {
            mul = 1024;
        } else if (s[nd] == 'm' || s[nd] == 'M') {
            mul = 1024 * 1024;
        } else {
            return false;
        }
    } else if (len != nd) {
        return false;
    }
    if (n > UINT64_MAX / mul) {
        return false;
    }
    *out = n * mul;
    return true;
}

/* Writes `n` and `unit` into `out`; a message that does not fit is cut, which is harmless for a bound in a message. */
static void fmt_unit(char *out, size_t cap, uint64_t n, const char *unit)
{
    int w = snprintf(out, cap, "%llu%s", (unsigned long long)n, unit);

    if (w < 0 && cap > 0) {
        out[0] = '\0';
    }
}

void cfg_fmt_duration_ms(char *out, size_t cap, uint64_t ms)
{
    if (ms == 0) {
        fmt_unit(out, cap, 0, "s");
    } else if (ms % 86400000u == 0) {
        fmt_unit(out, cap, ms / 86400000u, "d");
    } else if (ms % 3600000u == 0) {
        fmt_unit(out, cap, ms / 3600000u, "h");
    } else if (ms % 60000u == 0) {
        fmt_unit(out, cap, ms / 60000u, "m");
    } else if (ms % 1000u == 0) {
        fmt_unit(out, cap, ms / 1000u, "s");
    } else {
        fmt_unit(out, cap, ms, "ms");
    }
}

void cfg_fmt_size(char *out, size_t cap, uint64_t bytes)
{
    if (bytes != 0 && bytes % (1024u * 1024u) == 0) {
        fmt_unit(out, cap, bytes / (1024u * 1024u), "m");
    } else if (bytes != 0 && bytes % 1024u == 0) {
        fmt_unit(out, cap, bytes / 1024u, "k");
    } else {
        fmt_unit(out, cap, bytes, "");
    }
}

bool cfg_bucket_valid(const char *s, size_t len)
{
    if (len < 3 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '-')) {
            return false;
        }
    }
    return true;
}

/* RFC 3986 pchar without pct-encoded: unreserved, sub-delims, ':' and '@'. */
bool cfg_region_valid(const char *s, size_t len)
{
    if (len == 0 || len > 63 || s[0] == '-' || s[len - 1] == '-') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-')) {
            return false;
        }
    }
    return true;
}

bool cfg_endpoint_valid(const char *s, size_t len)
{
    size_t host_len = len;
    const char *colon = NULL;
    uint64_t port = 0;

    if (len > 0 && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        char tmp[64];
        unsigned char addr[16];
        size_t hl = close != NULL ? (size_t)(close - s - 1) : 0;
        if (close == NULL || hl == 0 || hl >= sizeof(tmp)) {
            return false;
        }
        memcpy(tmp, s + 1, hl);
        tmp[hl] = '\0';
        if (inet_pton(AF_INET6, tmp, addr) != 1) {
            return false;
        }
        host_len = (size_t)(close - s) + 1;
        if (host_len == len) {
            return true;
        }
        colon = s + host_len;
        if (*colon != ':') {
            return false;
        }
    } else {
        colon = memchr(s, ':', len);
        if (colon != NULL) {
            host_len = (size_t)(colon - s);
        }
        if (host_len == 0 || host_len > CFG_MAX_HOST || s[0] == '.' || s[0] == '-' || s[host_len - 1] == '.' ||
            s[host_len - 1] == '-') {
            return false;
        }
        for (size_t i = 0; i < host_len; i++) {
            char ch = s[i];
            if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '.') ||
                (ch == '.' && s[i + 1] == '.')) {
                return false;
            }
        }
        if (colon == NULL) {
            return true;
        }
    }
    return cfg_parse_uint(colon + 1, len - host_len - 1, &port) && port >= 1 && port <= 65535;
}

bool cfg_media_type_valid(const char *s, size_t len)
{
    const char *slash = memchr(s, '/', len);

    if (slash == NULL || slash == s || slash + 1 == s + len || slash[1] == ';' || slash[1] == ' ') {
        return false;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch > 0x7e) {
            return false;
        }
    }
    return true;
}

bool cfg_referrer_policy_valid(const char *s)
{
    static const char *const tokens[] = {
        "no-referrer",   "no-referrer-when-downgrade",      "origin",    "origin-when-cross-origin", "same-origin",
        "strict-origin", "strict-origin-when-cross-origin", "unsafe-url"};
    for (size_t i = 0; i < sizeof(tokens) / sizeof(tokens[0]); i++) {
        if (strcmp(s, tokens[i]) == 0) {
            return true;
        }
    }
    return false;
}

static bool is_pchar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c)) {
        return true;
    }
    return c != '\0' && strchr("-._~!$&'()*+,;=:@", c) != NULL;
}

bool cfg_path_valid(const char *s, size_t len)
{
    if (len == 0 || s[0] != '/') {
        return false;
    }
    size_t seg = 1; /* start of the current segment */
    for (size_t i = 1; i <= len; i++) {
        if (i < len && s[i] != '/') {
            if (!is_pchar(s[i])) {
                return false;
            }
            continue;
        }
        size_t sl = i - seg;
        bool last = i == len;
        /* An empty segment is only allowed as the end of the path ("/files/" ends in one). */
        if ((sl == 0 && !last) || (sl == 1 && s[seg] == '.') || (sl == 2 && s[seg] == '.' && s[seg + 1] == '.')) {
            return false;
        }
        seg = i + 1;
    }
    return true;
}

static bool two_digits(const char *s, int *out)
{
    if (!is_digit(s[0]) || !is_digit(s[1])) {
        return false;
    }
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return true;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

bool cfg_parse_rfc3339_utc(const char *s, size_t len, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int c = 0, yy = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;

    /* YYYY-MM-DDTHH:MM:SS[.fff]Z */
    if (len < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[len - 1] != 'Z') {
        return false;
    }
    if (!two_digits(s, &c) || !two_digits(s + 2, &yy) || !two_digits(s + 5, &mo) || !two_digits(s + 8, &d) ||
        !two_digits(s + 11, &h) || !two_digits(s + 14, &mi) || !two_digits(s + 17, &se)) {
        return false;
    }
    if (len > 20) {
        if (s[19] != '.' || len == 21) {
            return false;
        }
        for (size_t i = 20; i < len - 1; i++) {
            if (!is_digit(s[i])) {
                return false;
            }
        }
    }
    int year = c * 100 + yy;
    bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] || (mo == 2 && d == 29 && !leap) || h > 23 || mi > 59 || se > 60) {
        return false;
    }
    if (se == 60) {
        se = 59; /* a leap second: the credentials are gone a second later either way */
    }
    *out = days_from_civil(year, mo, d) * 86400 + h * 3600 + mi * 60 + se;
    return true;
}

bool cfg_has_ctl(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f) {
            return true;
        }
    }
    return false;
}

static bool all_of(const char *s, size_t len, const char *extra)
{
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || (c != '\0' && strchr(extra, c));
        if (!ok) {
            return false;
        }
    }
    return true;
}

/* "acs:ram::<account id>:<kind>/<name>", the form RAM gives role and OIDC provider ARNs. */
static bool ram_arn_valid(const char *s, size_t len, const char *kind)
{
    static const char head[] = "acs:ram::";
    size_t hl = sizeof(head) - 1;
    size_t kl = strlen(kind);
    size_t i = hl;

    if (len <= hl || memcmp(s, head, hl) != 0) {
        return false;
    }
    while (i < len && is_digit(s[i])) {
        i++;
    }
    if (i == hl || i - hl > 32 || len - i <= kl + 2 || s[i] != ':' || memcmp(s + i + 1, kind, kl) != 0 || s[i + 1 + kl] != '/') {
        return false;
    }
    i += kl + 2;
    return all_of(s + i, len - i, "._-/@+=,");
}

const char *cfg_role_arn_why(const char *s, size_t len)
{
    return ram_arn_valid(s, len, "role") ? NULL : "is not a RAM role ARN like acs:ram::123456789012:role/name";
}

const char *cfg_oidc_provider_arn_why(const char *s, size_t len)
{
    return ram_arn_valid(s, len, "oidc-provider") ? NULL
                                                  : "is not an OIDC provider ARN like acs:ram::123456789012:oidc-provider/name";
}

const char *cfg_http_url_why(const char *s, size_t len)
{
    size_t skip = 0;

    if (len > 7 && memcmp(s, "http://", 7) == 0) {
        skip = 7;
    } else if (len > 8 && memcmp(s, "https://", 8) == 0) {
        skip = 8;
    } else {
        return "is not an http:// or https:// URL";
    }
    if (s[skip] == '/' || s[skip] == ':' || s[skip] == '?') {
        return "has no host";
    }
    size_t end = skip;
    while (end < len && s[end] != '/' && s[end] != '?') {
        end++;
    }
    const char *colon = s[skip] == '[' ? memchr(s + skip, ']', end - skip) : s + skip;
    colon = colon != NULL ? memchr(colon, ':', (size_t)(s + end - colon)) : NULL;
    if (s[skip] == '[' && memchr(s + skip, ']', end - skip) == NULL) {
        return "has an IPv6 address without its closing ]";
    }
    if (colon != NULL) {
        uint64_t port = 0;
        if (!cfg_parse_uint(colon + 1, (size_t)(s + end - colon - 1), &port) || port == 0 || port > 65535) {
            return "has a port that is not 1..65535";
        }
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c <= 0x20 || c >= 0x7f || c == '#') {
            return "may hold only printable ASCII, without spaces or a #fragment";
        }
        if (c == '@' && i >= skip && memchr(s + skip, '/', i - skip) == NULL) {
            return "must not carry a user name or password";
        }
    }
    return NULL;
}
