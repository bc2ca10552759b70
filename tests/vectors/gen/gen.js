'use strict';
// gen.js: rebuilds tests/vectors/*.jsonl from the inputs in them, with the official signers at pinned versions
// (package-lock.json) and a pinned clock. See README.md next to it for what comes from which SDK.
//
//   node gen.js OUT_DIR [IN_DIR]   write the four files to OUT_DIR (IN_DIR: where the inputs are read, ../ by default)
//
// Every output field is recomputed: ali-oss (OSS V4 and V1) and @aws-sdk/s3-request-presigner (S3) sign, and their own
// functions' return values are captured as they run (canonical request, string to sign, signing key, signature).
// Exits 1 with a message when a published case's `expect` is no longer what the SDK computes.
const fs = require('fs');
const path = require('path');
const crypto = require('crypto');

const OSS = require('ali-oss');
const signUtils = require('ali-oss/lib/common/signUtils');
const { S3RequestPresigner } = require('@aws-sdk/s3-request-presigner');
const { formatUrl } = require(require.resolve('@aws-sdk/util-format-url', { paths: [path.dirname(require.resolve('@aws-sdk/s3-request-presigner'))] }));
const { Hash } = require('@smithy/hash-node');

const FILES = ['oss-v4-presign.jsonl', 'oss-v1-presign.jsonl', 's3-v4-presign.jsonl', 'presign-published-vectors.jsonl'];

// ---- the pinned clock: `new Date()` and `Date.now()` answer the case's time while a signer runs ----

const RealDate = Date;
async function atTime(iso, fn) {
    const t = RealDate.parse(iso);
    class FixedDate extends RealDate {
        constructor(...args) {
            super(...(args.length === 0 ? [t] : args));
        }
        static now() {
            return t;
        }
    }
    global.Date = FixedDate;
    try {
        return await fn();
    } finally {
        global.Date = RealDate;
    }
}

// ---- capturing the SDKs' intermediates: wrap an exported function for the duration of one call ----

async function capturing(obj, names, fn) {
    const seen = {};
    const saved = {};
    for (const n of names) {
        saved[n] = obj[n];
        obj[n] = function (...args) {
            const r = saved[n].apply(this, args);
            seen[n] = r;
            return r;
        };
    }
    try {
        return { result: await fn(), seen };
    } finally {
        for (const n of names) obj[n] = saved[n];
    }
}

// hmacKeys records the key of every HMAC made while `fn` runs: a V4 signer's last one is keyed with kSigning.
async function hmacKeys(fn) {
    const keys = [];
    const real = crypto.createHmac;
    crypto.createHmac = function (alg, key, ...rest) {
        keys.push(Buffer.from(key));
        return real.call(this, alg, key, ...rest);
    };
    try {
        return { result: await fn(), keys };
    } finally {
        crypto.createHmac = real;
    }
}

// ---- url_strict: no SDK prints it. The Go V2 SDK's form (docs/oss-v4-presign.md, section 3 step 6), made here from
// the SDK's own URL: the same scheme, host, decoded path and decoded query pairs, re-encoded strictly (every byte but
// A-Z a-z 0-9 - . _ ~ as %XX, '/' kept in the path) and sorted by the raw names' bytes. ----

function encStrict(s, keepSlash) {
    let out = '';
    for (const b of Buffer.from(s, 'utf8')) {
        const c = String.fromCharCode(b);
        if (/[A-Za-z0-9\-._~]/.test(c) || (keepSlash && c === '/')) out += c;
        else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
    }
    return out;
}

function strictUrl(sdkUrl) {
    const q = sdkUrl.indexOf('?');
    const head = sdkUrl.slice(0, q);
    const m = /^(https?:\/\/[^/]+)(\/.*)$/.exec(head);
    const pathDecoded = decodeURIComponent(m[2]);
    const pairs = sdkUrl.slice(q + 1).split('&').map(p => {
        const eq = p.indexOf('=');
        return eq < 0 ? [decodeURIComponent(p), ''] : [decodeURIComponent(p.slice(0, eq)), decodeURIComponent(p.slice(eq + 1))];
    });
    pairs.sort((a, b) => Buffer.compare(Buffer.from(a[0]), Buffer.from(b[0])));
    return m[1] + encStrict(pathDecoded, true) + '?' + pairs.map(([k, v]) => `${encStrict(k)}=${encStrict(v)}`).join('&');
}

// ---- OSS (ali-oss) ----

function ossClient(inp) {
    const warn = console.warn; // ali-oss advises a token refresher for every client with a token: not for a fixed case
    console.warn = () => {};
    try {
        return newOssClient(inp);
    } finally {
        console.warn = warn;
    }
}

function newOssClient(inp) {
    return new OSS({
        region: inp.region,
        endpoint: `${inp.scheme}://${inp.endpoint}`,
        secure: inp.scheme === 'https',
        cname: inp.cname,
        sldEnable: inp.path_style,
        bucket: inp.bucket,
        accessKeyId: inp.access_key_id,
        accessKeySecret: inp.access_key_secret,
        stsToken: inp.security_token,
    });
}

async function ossV4(inp) {
    const client = ossClient(inp);
    // An empty value is a bare name (docs/oss-v4-presign.md section 9): ali-oss signs a bare name for null.
    const queries = Object.fromEntries(Object.entries(inp.query || {}).map(([k, v]) => [k, v === '' ? null : v]));
    const request = { headers: inp.headers || {}, queries };
    const { result, seen } = await capturing(signUtils, ['getCanonicalRequest', 'getStringToSign', 'getSignatureV4'], () =>
        hmacKeys(() => atTime(inp.time, () => client.signatureUrlV4(inp.method, inp.expires, request, inp.key, inp.additional_headers))));
    return {
        url: result.result,
        url_strict: strictUrl(result.result),
        signature: seen.getSignatureV4,
        canonical_request: seen.getCanonicalRequest,
        string_to_sign: seen.getStringToSign,
        signing_key_hex: result.keys[result.keys.length - 1].toString('hex'),
    };
}

async function ossV1(inp) {
    const client = ossClient(inp);
    const options = { method: inp.method, expires: inp.expires, subResource: Object.assign({}, inp.query || {}) };
    const { result, seen } = await capturing(signUtils, ['buildCanonicalString', 'computeSignature'], () =>
        atTime(inp.time, () => client.signatureUrl(inp.key, options)));
    return { url: result, url_strict: strictUrl(result), signature: seen.computeSignature, string_to_sign: seen.buildCanonicalString };
}

// ---- S3 (@aws-sdk/s3-request-presigner, on @smithy/signature-v4) ----

// The SignatureV4 class the presigner itself loads (through @aws-sdk/signature-v4-multi-region).
const presignerDir = path.dirname(require.resolve('@aws-sdk/s3-request-presigner'));
const multiRegionDir = path.dirname(require.resolve('@aws-sdk/signature-v4-multi-region', { paths: [presignerDir] }));
const { SignatureV4 } = require(require.resolve('@smithy/signature-v4', { paths: [multiRegionDir] }));

async function s3V4(inp) {
    let host = inp.endpoint;
    let pathPrefix = '/';
    if (inp.path_style) pathPrefix = `/${inp.bucket}/`;
    else if (!inp.cname) host = `${inp.bucket}.${inp.endpoint}`;
    const presigner = new S3RequestPresigner({
        credentials: { accessKeyId: inp.access_key_id, secretAccessKey: inp.access_key_secret, sessionToken: inp.security_token },
        region: inp.region,
        sha256: Hash.bind(null, 'sha256'),
    });
    const request = {
        method: inp.method,
        protocol: `${inp.scheme}:`,
        hostname: host,
        path: pathPrefix + encStrict(inp.key, true), // S3 signs the path as sent: the presigner does not escape it again
        query: Object.assign({}, inp.query || {}),
        headers: Object.assign({ host }, inp.headers || {}),
    };
    const proto = SignatureV4.prototype;
    // The presigner adds `X-Amz-Content-Sha256: UNSIGNED-PAYLOAD`, which getSignedUrl would hoist into the query and
    // sign; the vectors follow section 8 (and AWS's documented example): the payload hash only, in neither.
    const keep = () => new Set(['x-amz-content-sha256']);
    const { result, seen } = await capturing(proto, ['createCanonicalRequest', 'createStringToSign', 'getSigningKey'], () =>
        presigner.presign(request, {
            signingDate: new RealDate(RealDate.parse(inp.time)),
            expiresIn: inp.expires,
            unhoistableHeaders: keep(),
            unsignableHeaders: keep(),
        }));
    const url = formatUrl(result); // as getSignedUrl prints it
    const signingKey = Buffer.from(await seen.getSigningKey);
    return {
        url,
        url_strict: strictUrl(url),
        signature: result.query['X-Amz-Signature'],
        canonical_request: seen.createCanonicalRequest,
        string_to_sign: await seen.createStringToSign,
        signing_key_hex: signingKey.toString('hex'),
    };
}

// ---- one case: the input's fields first, then the outputs in the files' order ----

async function regenerate(v) {
    const inp = v.input;
    const out = inp.mode === 'oss-v4' ? await ossV4(inp) : inp.mode === 'oss-v1' ? await ossV1(inp) : await s3V4(inp);
    const line = { id: v.id };
    if ('source' in v) line.source = v.source;
    line.input = inp;
    Object.assign(line, out);
    if ('expect' in v) {
        // Published outside this repository (an SDK's unit test, AWS's documentation): checked, never generated.
        line.expect = v.expect;
        line.expect_match = out.signature === v.expect;
        if (!line.expect_match) throw new Error(`${v.id}: the SDK now signs ${out.signature}, the published value is ${v.expect}`);
    }
    return JSON.stringify(line);
}

async function main() {
    const [outDir, inDir = path.join(__dirname, '..')] = process.argv.slice(2);
    if (!outDir) {
        console.error('usage: node gen.js OUT_DIR [IN_DIR]');
        process.exit(2);
    }
    fs.mkdirSync(outDir, { recursive: true });
    for (const f of FILES) {
        const lines = fs.readFileSync(path.join(inDir, f), 'utf8').split('\n').filter(Boolean);
        const out = [];
        for (const l of lines) out.push(await regenerate(JSON.parse(l)));
        fs.writeFileSync(path.join(outDir, f), out.join('\n') + '\n');
    }
}

main().catch(e => {
    console.error(`gen.js: ${e.stack || e}`);
    process.exit(1);
});
