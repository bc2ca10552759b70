// verify.js: checks that a target's Location is a valid OSS V4 presigned GET URL for the key that was asked for,
// recomputing the signature with the official SDK's signer (ali-oss lib/common/signUtils.js: the functions its
// signatureUrlV4 calls), never with our C signer.
'use strict';

const crypto = require('node:crypto');
const signUtils = require('ali-oss/lib/common/signUtils');

// verifyLocation throws unless `location` presigns `method` on `key` in `bucket` at `host` with `creds`, signed
// within `skewS` seconds of now and valid for `expires` seconds.
function verifyLocation(location, { method = 'GET', key, bucket, host, region, creds, expires, skewS = 120 }) {
    const u = new URL(location);
    const fail = why => {
        throw new Error(`${why}: ${location}`);
    };
    if (u.protocol !== 'https:' || u.host !== host) {
        fail(`host is not https://${host}`);
    }
    if (decodeURIComponent(u.pathname) !== `/${key}`) {
        fail(`path does not name the key ${JSON.stringify(key)}`);
    }
    const q = u.searchParams;
    if (q.get('x-oss-signature-version') !== 'OSS4-HMAC-SHA256') {
        fail('not OSS4-HMAC-SHA256');
    }
    const date = q.get('x-oss-date') || '';
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(date);
    if (!m) {
        fail('bad x-oss-date');
    }
    const t = Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]);
    if (Math.abs(t - Date.now()) > skewS * 1000) {
        fail('x-oss-date is not now');
    }
    if (Number(q.get('x-oss-expires')) !== expires) {
        fail(`x-oss-expires is not ${expires}`);
    }
    const day = date.slice(0, 8);
    if (q.get('x-oss-credential') !== signUtils.getCredential(day, region, creds.id, 'oss')) {
        fail('x-oss-credential is not this key id, day and region');
    }
    const queries = {};
    for (const [name, value] of q) {
        if (name !== 'x-oss-signature') {
            queries[name] = value;
        }
    }
    const canonical = signUtils.getCanonicalRequest(method, { headers: {}, queries }, bucket, key, []);
    const sts = signUtils.getStringToSign(region, date, canonical, 'oss');
    const want = signUtils.getSignatureV4(creds.secret, day, region, sts, 'oss');
    const got = q.get('x-oss-signature') || '';
    if (got.length !== want.length || !crypto.timingSafeEqual(Buffer.from(got), Buffer.from(want))) {
        fail('x-oss-signature does not verify with ali-oss');
    }
}

module.exports = { verifyLocation };
