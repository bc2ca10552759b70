/* gw_params.h: which client query parameters may reach a presigned URL, and in what form (issue 15, `params:`).
 * Pure functions: no I/O, no clock, no allocation. The route's policy says which parameters it passes; every other
 * parameter is ignored; an allowed one that is malformed or outside the policy is refused with a one-line reason for a
 * 400. What passes is decoded, checked and returned as (name, value) pairs for the signer, which encodes them itself:
 * no client byte reaches the URL unencoded. */
#ifndef GW_PARAMS_H
#define GW_PARAMS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sgn.h"
#include "sgn_buf.h"

/* How `x-oss-process` is passed. */
enum gw_process_mode {
    GW_PROCESS_OFF = 0, /* ignored */
    GW_PROCESS_STYLES,  /* only `style/<name>` with a listed name */
    GW_PROCESS_IMAGE,   /* `image/<op>,<arg>.../<op>...` with listed operations, each argument checked */
    GW_PROCESS_ANY,     /* any printable value up to GW_PROCESS_MAX bytes */
};

/* The image operations OSS documents for x-oss-process=image/...; a policy allows a subset (a bit each). */
enum gw_image_op {
    GW_IMG_RESIZE,
    GW_IMG_CROP,
    GW_IMG_FORMAT,
    GW_IMG_QUALITY,
    GW_IMG_ROTATE,
    GW_IMG_WATERMARK,
    GW_IMG_AUTO_ORIENT,
    GW_IMG_CIRCLE,
    GW_IMG_INDEXCROP,
    GW_IMG_ROUNDED_CORNERS,
    GW_IMG_BLUR,
    GW_IMG_BRIGHT,
    GW_IMG_CONTRAST,
    GW_IMG_SHARPEN,
    GW_IMG_INTERLACE,
    GW_IMG_INFO,
    GW_IMG_AVERAGE_HUE,
    GW_IMG_N
};

/* The response header overrides OSS signs (a bit each). */
enum gw_response_param {
    GW_RESP_CONTENT_TYPE,
    GW_RESP_CONTENT_DISPOSITION,
    GW_RESP_CACHE_CONTROL,
    GW_RESP_EXPIRES,
    GW_RESP_CONTENT_LANGUAGE,
    GW_RESP_CONTENT_ENCODING,
    GW_RESP_N
};

#define GW_PROCESS_MAX 1024   /* bytes of a decoded x-oss-process value */
#define GW_PROCESS_OPS_MAX 16 /* operations in one image/... value */
#define GW_PARAM_ARG_MAX 256  /* bytes of one image operation argument, and of a versionId */
#define GW_RESPONSE_MAX 256   /* bytes of a decoded response-* value, and of a disposition's file name */
/* bytes of a decoded response-content-disposition: room for a rebuilt one (a file name of at most GW_RESPONSE_MAX
 * bytes, once as the ASCII fallback and once percent-encoded), so a rebuilt value passes again unchanged */
#define GW_DISPOSITION_IN_MAX (4 * GW_RESPONSE_MAX + 64)
#define GW_PARAMS_MAX (2 + GW_RESP_N) /* pairs a policy can pass: x-oss-process, versionId and the overrides */
/* Room for every passed value decoded, with a rebuilt disposition (up to 4 bytes of filename* per byte of name). */
#define GW_PARAMS_BUF (GW_PROCESS_MAX + GW_PARAM_ARG_MAX + GW_RESP_N * GW_RESPONSE_MAX + 5 * GW_RESPONSE_MAX + 64)

/* struct gw_param_policy is one route's `params:`. Views point into the config. */
struct gw_param_policy {
    enum gw_process_mode process;
    const struct sgn_view *styles; /* GW_PROCESS_STYLES: the allowed style names */
    size_t n_styles;
    uint32_t image_ops; /* GW_PROCESS_IMAGE: bit (1 << enum gw_image_op) per allowed operation */
    bool version_id;
    uint32_t response; /* bit (1 << enum gw_response_param) per allowed override */
};

/* struct gw_params is what gw_params_apply passes: pairs sorted by name (bytewise), names static, values in `buf`.
 * `reason` holds the last refusal; it names only parameters, operations and arguments from our own tables, never
 * client bytes, so it may be logged and sent as it is. */
struct gw_params {
    struct sgn_pair pairs[GW_PARAMS_MAX];
    size_t n;
    char buf[GW_PARAMS_BUF];
    char reason[160];
};

/* gw_params_apply reads the raw query string `query` (`len` bytes, without '?'; NULL with 0 is allowed) under `pol`
 * into `out`. Returns NULL, or a one-line reason for a 400 (in out->reason). Names and values are percent-decoded once
 * ('+' is a plus sign, RFC 3986); a parameter the policy does not pass is ignored, whatever its form; an allowed one
 * given twice, without a value or with a malformed value is refused. Values are checked as follows:
 *   x-oss-process  STYLES: exactly `style/<name>`, name listed. IMAGE: `image/` then up to GW_PROCESS_OPS_MAX
 *                  operations separated by '/', each listed and each argument of the form and range OSS documents
 *                  (docs/policy.md has the table), no argument twice. ANY: printable ASCII. Always at most
 *                  GW_PROCESS_MAX bytes.
 *   versionId      "null" or 1..GW_PARAM_ARG_MAX bytes of A-Z a-z 0-9 + / = . _ -
 *   response-content-type         type/subtype *(; name=token|quoted-string) (RFC 9110 section 8.3)
 *   response-content-disposition  attachment|inline [; filename=...|filename*=UTF-8''...]; the file name is decoded,
 *                  checked as a key segment would be (gw_key_decode; no '/') and the value rebuilt by
 *                  gw_key_disposition: the client's bytes never pass as they are
 *   response-cache-control        1#(token [= token|quoted-string])
 *   response-expires              an IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT"
 *   response-content-language     1#language-tag (alphanumeric subtags of 1..8, joined by '-')
 *   response-content-encoding     1#token
 * Every response-* value is printable ASCII of at most GW_RESPONSE_MAX bytes (a disposition GW_DISPOSITION_IN_MAX, its
 * file name GW_RESPONSE_MAX). */
const char *gw_params_apply(const struct gw_param_policy *pol, const char *query, size_t len, struct gw_params *out);

/* GW_PARAMS_CANON_MAX bounds gw_params_canon's output: every byte of every pair percent-encoded, plus separators. */
#define GW_PARAMS_CANON_MAX (3 * GW_PARAMS_BUF + 64 * GW_PARAMS_MAX)

/* gw_params_canon appends the passed pairs of `p` to `b` as `name=enc(value)` joined by '&', in gw_params' order (by
 * name), with enc() the signer's encoding (RFC 3986 unreserved bytes kept, every other byte %XX), so '=' and '&'
 * never occur inside a name or value and two different sets of pairs never serialise alike. Nothing is appended when
 * no pair passed. The sign_window cache identity and a signed share link's HMAC use this form; a link signer that
 * carries the parameters in its URL re-parses them with gw_params_apply and compares canonical forms. */
void gw_params_canon(struct sgn_buf *b, const struct gw_params *p);

/* gw_image_op_by_name returns the operation called `name` (as in x-oss-process and in the config), or GW_IMG_N. */
enum gw_image_op gw_image_op_by_name(const char *name, size_t len);

/* gw_response_param_by_name returns the override called `name` (`response-content-type`, ...), or GW_RESP_N. */
enum gw_response_param gw_response_param_by_name(const char *name, size_t len);

#endif
