#!/usr/bin/env node
// A local OSS-compatible origin for the end-to-end tests.
//
// Serves the files under --root as objects of one bucket, path style (`/<bucket>/<key>`), GET and HEAD with
// Range, and accepts a request only if its presigned query is valid. Validity is decided with the official
// Alibaba Cloud OSS Node SDK (ali-oss 6.23.0): the expected signature is recomputed with the SDK's own signing
// helpers (the functions its signatureUrlV4 / signatureUrl call) at the request's own x-oss-date / Expires, so
// the gateway's C signer is checked against an independent implementation and never against itself.
//
//   node origin.js --root DIR --port 0 --bucket NAME --access-key-id ID --access-key-secret SECRET
//                  [--region cn-hangzhou] [--security-token TOKEN]
//
// prints `listening <port>` on stdout once it listens on 127.0.0.1, logs one line per request to stderr
// (never the signature), and stops on SIGTERM / SIGINT with exit code 0.
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

let signUtils;
try {
    // The SDK's signer. lib/common/signUtils.js holds exactly what signatureUrlV4 (getCanonicalRequest,
    // getStringToSign, getSignatureV4, getCredential) and signatureUrl (_signatureForURL) call.
    signUtils = require('ali-oss/lib/common/signUtils');
} catch (err) {
    throw new Error(`ali-oss is not installed (${err.message}); run: npm ci --prefix tests/e2e`);
}

const MAX_EXPIRES = 604800; // 7 days, OSS's limit for x-oss-expires
const MAX_FUTURE_SKEW_MS = 15 * 60 * 1000; // the service accepts a signing time up to ~15 min ahead
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Query parameters that V1 signs when present (OSS "sub-resources"), besides response-* and x-oss-*.
const V1_SUBRESOURCES = new Set([
    'acl', 'uploads', 'location', 'cors', 'logging', 'website', 'referer', 'lifecycle', 'delete', 'append',
    'tagging', 'objectMeta', 'uploadId', 'partNumber', 'security-token', 'position', 'img', 'style', 'styleName',
    'replication', 'replicationProgress', 'replicationLocation', 'cname', 'bucketInfo', 'comp', 'qos', 'live',
    'status', 'vod', 'startTime', 'endTime', 'symlink', 'restore', 'callback', 'callback-var', 'policy',
    'stat', 'encryption', 'versions', 'versioning', 'versionId', 'requestPayment', 'continuation-token',
]);

// Response header overrides OSS honours on signed GET/HEAD.
const RESPONSE_OVERRIDES = {
    'response-content-type': 'Content-Type',
    'response-content-disposition': 'Content-Disposition',
    'response-content-language': 'Content-Language',
    'response-cache-control': 'Cache-Control',
    'response-expires': 'Expires',
    'response-content-encoding': 'Content-Encoding',
};

const CONTENT_TYPES = {
    '.bin': 'application/octet-stream',
    '.txt': 'text/plain',
    '.html': 'text/html',
    '.json': 'application/json',
    '.pdf': 'application/pdf',
    '.png': 'image/png',
    '.jpg': 'image/jpeg',
    '.zip': 'application/zip',
    '.gz': 'application/gzip',
    '.tar': 'application/x-tar',
};

class OssError extends Error {
    constructor(status, code, message, extra = {}) {
        super(message);
        this.status = status;
        this.code = code;
        this.extra = extra;
    }
}

function xmlEscape(s) {
    return String(s).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
}

// Percent-decodes `s` into bytes, then into a string; the bytes must be UTF-8. `plusIsSpace` for query strings.
function pctDecode(s, plusIsSpace, what) {
    const raw = Buffer.from(plusIsSpace ? s.replace(/\+/g, ' ') : s, 'latin1');
    const out = Buffer.alloc(raw.length);
    let n = 0;
    for (let i = 0; i < raw.length; i++) {
        if (raw[i] !== 0x25) {
            out[n++] = raw[i];
            continue;
        }
        const hex = raw.subarray(i + 1, i + 3).toString('latin1');
        if (!/^[0-9A-Fa-f]{2}$/.test(hex))
            throw new OssError(400, 'InvalidArgument', `malformed percent-encoding in ${what}`);
        out[n++] = parseInt(hex, 16);
        i += 2;
    }
    try {
        return utf8.decode(out.subarray(0, n));
    } catch {
        throw new OssError(400, 'InvalidArgument', `${what} is not valid UTF-8 after percent-decoding`);
    }
}

// Parses a raw query string into a Map name -> value. A bare name (no `=`) and an empty value are both null:
// the canonical query then has the bare name, which is how the service (and the Go/Python V2 SDKs) canonicalise
// an empty parameter. (ali-oss itself would sign `name=` for an empty string; the gateway never sends one.)
function parseQuery(rawQuery) {
    const params = new Map();
    if (!rawQuery)
        return params;
    for (const part of rawQuery.split('&')) {
        if (part === '')
            continue;
        const eq = part.indexOf('=');
        const name = pctDecode(eq < 0 ? part : part.slice(0, eq), true, 'query parameter name');
        const value = eq < 0 ? null : pctDecode(part.slice(eq + 1), true, `query parameter ${name}`);
        if (params.has(name))
            throw new OssError(400, 'InvalidArgument', `duplicate query parameter ${name}`);
        params.set(name, value === '' ? null : value);
    }
    return params;
}

function timingSafeStringEqual(a, b) {
    const ab = Buffer.from(String(a), 'utf8');
    const bb = Buffer.from(String(b), 'utf8');
    // Compare a digest of both so that unequal lengths take the same path and time.
    const ha = crypto.createHash('sha256').update(ab).digest();
    const hb = crypto.createHash('sha256').update(bb).digest();
    return crypto.timingSafeEqual(ha, hb) && ab.length === bb.length;
}

// Headers that OSS signs when the client sends them: content-type, content-md5 and x-oss-*.
function signedRequestHeaders(reqHeaders, extraNames) {
    const out = {};
    for (const [name, value] of Object.entries(reqHeaders)) {
        const n = name.toLowerCase();
        if (n === 'content-type' || n === 'content-md5' || n.startsWith('x-oss-') || extraNames.includes(n))
            out[n] = Array.isArray(value) ? value.join(',') : value;
    }
    return out;
}

function parseOssDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
    if (!m)
        return NaN;
    const [y, mo, d, h, mi, se] = m.slice(1).map(Number);
    const t = Date.UTC(y, mo - 1, d, h, mi, se);
    const back = new Date(t);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== mo - 1 || back.getUTCDate() !== d || h > 23 || mi > 59 ||
        se > 59)
        return NaN;
    return t;
}

// OSS signature V4 (OSS4-HMAC-SHA256) presigned query.
function verifyV4(cfg, method, key, query, reqHeaders, nowMs) {
    const version = query.get('x-oss-signature-version');
    if (version !== 'OSS4-HMAC-SHA256')
        throw new OssError(400, 'InvalidArgument', `unsupported x-oss-signature-version ${JSON.stringify(version)}`);
    for (const name of ['x-oss-credential', 'x-oss-date', 'x-oss-expires', 'x-oss-signature']) {
        if (!query.get(name))
            throw new OssError(400, 'InvalidArgument', `missing query parameter ${name}`);
    }
    const date = query.get('x-oss-date');
    const dateMs = parseOssDate(date);
    if (Number.isNaN(dateMs))
        throw new OssError(400, 'InvalidArgument', `x-oss-date ${JSON.stringify(date)} is not yyyymmddTHHMMSSZ`);
    const expiresText = query.get('x-oss-expires');
    const expires = /^[0-9]{1,7}$/.test(expiresText) ? Number(expiresText) : NaN;
    if (!(expires >= 1 && expires <= MAX_EXPIRES))
        throw new OssError(400, 'InvalidArgument', `x-oss-expires ${JSON.stringify(expiresText)} is not in 1..${MAX_EXPIRES}`);

    const credential = query.get('x-oss-credential');
    const parts = credential.split('/');
    if (parts.length !== 5)
        throw new OssError(400, 'InvalidArgument', `malformed x-oss-credential ${JSON.stringify(credential)}`);
    const [accessKeyId, day, region, product, terminator] = parts;
    if (accessKeyId !== cfg.accessKeyId)
        throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.',
            { OSSAccessKeyId: accessKeyId });
    const scopeErrors = [];
    if (day !== date.slice(0, 8))
        scopeErrors.push(`scope day ${day} != x-oss-date day ${date.slice(0, 8)}`);
    if (region !== cfg.region)
        scopeErrors.push(`scope region ${region} != bucket region ${cfg.region}`);
    if (product !== 'oss')
        scopeErrors.push(`scope product ${product} != oss`);
    if (terminator !== 'aliyun_v4_request')
        scopeErrors.push(`scope terminator ${terminator} != aliyun_v4_request`);
    if (scopeErrors.length)
        throw new OssError(400, 'InvalidArgument', `invalid credential scope: ${scopeErrors.join('; ')}`);
    checkToken(cfg, query.get('x-oss-security-token'));

    if (dateMs - nowMs > MAX_FUTURE_SKEW_MS)
        throw new OssError(403, 'RequestTimeTooSkewed', 'The difference between the request time and the current time is too large.',
            { RequestTime: date, ServerTime: new Date(nowMs).toISOString() });
    if (nowMs > dateMs + expires * 1000)
        throw new OssError(403, 'AccessDenied', 'Request has expired.',
            { Expires: new Date(dateMs + expires * 1000).toISOString(), ServerTime: new Date(nowMs).toISOString() });

    const queries = {};
    for (const [name, value] of query) {
        if (name !== 'x-oss-signature')
            queries[name] = value;
    }
    const additional = signUtils.fixAdditionalHeaders(
        query.get('x-oss-additional-headers') ? query.get('x-oss-additional-headers').split(';') : []);
    const headers = signedRequestHeaders(reqHeaders, additional);
    let canonicalRequest;
    try {
        canonicalRequest = signUtils.getCanonicalRequest(method, { headers, queries }, cfg.bucket, key, additional);
    } catch (err) {
        throw new OssError(403, 'SignatureDoesNotMatch', `cannot build the canonical request: ${err.message}`);
    }
    const stringToSign = signUtils.getStringToSign(region, date, canonicalRequest, 'oss');
    const expected = signUtils.getSignatureV4(cfg.accessKeySecret, day, region, stringToSign, 'oss');
    const provided = query.get('x-oss-signature');
    if (!timingSafeStringEqual(expected, provided))
        throw new OssError(403, 'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
            { OSSAccessKeyId: accessKeyId, SignatureProvided: provided, StringToSign: stringToSign, CanonicalRequest: canonicalRequest });
}

// Legacy OSS V1 presigned query (OSSAccessKeyId, Expires, Signature).
function verifyV1(cfg, method, key, query, reqHeaders, nowMs) {
    for (const name of ['OSSAccessKeyId', 'Expires', 'Signature']) {
        if (!query.get(name))
            throw new OssError(400, 'InvalidArgument', `missing query parameter ${name}`);
    }
    const accessKeyId = query.get('OSSAccessKeyId');
    if (accessKeyId !== cfg.accessKeyId)
        throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.',
            { OSSAccessKeyId: accessKeyId });
    const expiresText = query.get('Expires');
    if (!/^[0-9]{1,12}$/.test(expiresText))
        throw new OssError(400, 'InvalidArgument', `Expires ${JSON.stringify(expiresText)} is not a Unix time`);
    const expires = Number(expiresText);
    checkToken(cfg, query.get('security-token'));
    if (nowMs > expires * 1000)
        throw new OssError(403, 'AccessDenied', 'Request has expired.',
            { Expires: new Date(expires * 1000).toISOString(), ServerTime: new Date(nowMs).toISOString() });

    // Options as signatureUrl passes them to _signatureForURL: method, signed headers, signed sub-resources.
    const options = { method, subResource: {} };
    Object.assign(options, signedRequestHeaders(reqHeaders, []));
    for (const [name, value] of query) {
        if (name.startsWith('response-') || name.startsWith('x-oss-') || V1_SUBRESOURCES.has(name))
            options.subResource[name] = value;
    }
    // signatureUrl signs the resource `/<bucket>/<key>` with the key not encoded (headerEncoding utf-8).
    const resource = `/${cfg.bucket}/${key}`;
    const { Signature: expected } = signUtils._signatureForURL(cfg.accessKeySecret, options, resource, expiresText);
    const provided = query.get('Signature');
    if (!timingSafeStringEqual(expected, provided)) {
        const stringToSign = signUtils.buildCanonicalString(method, resource,
            { headers: signedRequestHeaders(reqHeaders, []), parameters: options.subResource }, expiresText);
        throw new OssError(403, 'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
            { OSSAccessKeyId: accessKeyId, SignatureProvided: provided, StringToSign: stringToSign });
    }
}

function checkToken(cfg, token) {
    if (cfg.securityToken ? token !== cfg.securityToken : token != null)
        throw new OssError(403, 'InvalidSecurityToken',
            cfg.securityToken ? 'The security token you provided is invalid.' : 'A security token was sent but none is expected.');
}

const etagCache = new Map();

function etagOf(file, st) {
    const id = `${file}\0${st.size}\0${st.mtimeMs}`;
    let etag = etagCache.get(id);
    if (!etag) {
        etag = `"${crypto.createHash('md5').update(fs.readFileSync(file)).digest('hex').toUpperCase()}"`;
        etagCache.set(id, etag);
    }
    return etag;
}

// Range header -> {start, end} | 'unsatisfiable' | null (absent, malformed or multi-range: whole object).
function parseRange(header, size) {
    if (!header)
        return null;
    const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
    if (!m || (m[1] === '' && m[2] === ''))
        return null;
    let start;
    let end;
    if (m[1] === '') {
        const suffix = Number(m[2]);
        if (suffix === 0)
            return 'unsatisfiable';
        start = Math.max(0, size - suffix);
        end = size - 1;
    } else {
        start = Number(m[1]);
        end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
        if (m[2] !== '' && Number(m[2]) < start)
            return null;
    }
    if (start >= size)
        return 'unsatisfiable';
    return { start, end };
}

function headerValue(s, what) {
    if (/[\x00-\x1f\x7f]/.test(s))
        throw new OssError(400, 'InvalidArgument', `${what} contains a control character`);
    return Buffer.from(s, 'utf8').toString('latin1'); // UTF-8 bytes on the wire
}

// The keys to check a request with: the configured ones, or, with a `lookup` (credentials that rotate, like STS
// tokens), the ones lookup(accessKeyId, nowMs) returns for the request's key id: {accessKeySecret, securityToken}, or
// null when that key id is unknown or its credentials have expired at nowMs (as the service refuses them).
function keysFor(cfg, query, nowMs) {
    if (!cfg.lookup)
        return cfg;
    const id = query.has('OSSAccessKeyId') ? query.get('OSSAccessKeyId') : (query.get('x-oss-credential') || '').split('/')[0];
    const keys = cfg.lookup(id, nowMs);
    if (!keys)
        throw new OssError(403, 'InvalidAccessKeyId', 'The OSS Access Key Id you provided does not exist in our records.',
            { OSSAccessKeyId: id });
    return { ...cfg, accessKeyId: id, accessKeySecret: keys.accessKeySecret, securityToken: keys.securityToken || null };
}

function createOrigin(options) {
    const cfg = {
        lookup: options.lookup || null,
        root: path.resolve(options.root),
        bucket: options.bucket,
        accessKeyId: options.accessKeyId,
        accessKeySecret: options.accessKeySecret,
        region: options.region || 'cn-hangzhou',
        securityToken: options.securityToken || null,
        log: options.log || (line => process.stderr.write(`${line}\n`)),
        now: options.now || (() => Date.now()),
    };
    for (const k of cfg.lookup ? ['bucket'] : ['bucket', 'accessKeyId', 'accessKeySecret']) {
        if (!cfg[k])
            throw new Error(`origin: ${k} is required`);
    }
    let seq = 0;

    return http.createServer((req, res) => {
        const started = process.hrtime.bigint();
        const requestId = `${Date.now().toString(16).toUpperCase()}${(++seq).toString(16).padStart(8, '0').toUpperCase()}`;
        const rawUrl = req.url || '/';
        const q = rawUrl.indexOf('?');
        const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
        let bytes = 0;
        let errCode = '-';

        const finish = status => {
            const ms = Number(process.hrtime.bigint() - started) / 1e6;
            cfg.log(`origin ${new Date().toISOString()} ${req.method} ${rawPath} ${status} ${bytes} ${errCode} ${ms.toFixed(1)}ms`);
        };
        const sendError = err => {
            if (!(err instanceof OssError))
                err = new OssError(500, 'InternalError', `origin bug: ${err && err.stack}`);
            errCode = err.code;
            const body = ['<?xml version="1.0" encoding="UTF-8"?>', '<Error>', `  <Code>${xmlEscape(err.code)}</Code>`,
                `  <Message>${xmlEscape(err.message)}</Message>`, `  <RequestId>${requestId}</RequestId>`,
                '  <HostId>127.0.0.1</HostId>',
                ...Object.entries(err.extra).map(([k, v]) => `  <${k}>${xmlEscape(v)}</${k}>`), '</Error>', ''].join('\n');
            const buf = Buffer.from(body, 'utf8');
            res.statusCode = err.status;
            res.setHeader('Server', 'AliyunOSS');
            res.setHeader('x-oss-request-id', requestId);
            res.setHeader('Content-Type', 'application/xml');
            // Not an OSS header: lets a HEAD (which has no body) tell the tests why it failed.
            res.setHeader('x-origin-error', `${err.code}: ${err.message}`.replace(/[^\x20-\x7e]/g, '?').slice(0, 300));
            if (err.status === 405)
                res.setHeader('Allow', 'GET, HEAD');
            if (err.extra.ContentRange)
                res.setHeader('Content-Range', err.extra.ContentRange);
            res.setHeader('Content-Length', buf.length);
            if (req.method === 'HEAD') {
                res.end();
            } else {
                bytes = buf.length;
                res.end(buf);
            }
            finish(err.status);
        };

        try {
            if (req.method !== 'GET' && req.method !== 'HEAD')
                throw new OssError(405, 'MethodNotAllowed', `The specified method ${req.method} is not allowed against this resource.`);
            const decodedPath = pctDecode(rawPath, false, 'path');
            const m = /^\/([^/]+)\/(.*)$/s.exec(decodedPath);
            if (!m)
                throw new OssError(400, 'InvalidRequest', `expected a path-style URL /<bucket>/<key>, got ${JSON.stringify(decodedPath)}`);
            const [, bucket, key] = m;
            if (bucket !== cfg.bucket)
                throw new OssError(404, 'NoSuchBucket', 'The specified bucket does not exist.', { BucketName: bucket });
            if (key === '')
                throw new OssError(400, 'InvalidRequest', 'listing is not supported by this origin; an object key is required');
            const query = parseQuery(q < 0 ? '' : rawUrl.slice(q + 1));
            const isV4 = [...query.keys()].some(k => k.startsWith('x-oss-signature') || k === 'x-oss-credential');
            const isV1 = query.has('Signature') || query.has('OSSAccessKeyId');
            const now = cfg.now();
            if (isV4 && isV1)
                throw new OssError(400, 'InvalidArgument', 'both V1 and V4 signature parameters are present');
            if (isV4)
                verifyV4(keysFor(cfg, query, now), req.method, key, query, req.headers, now);
            else if (isV1)
                verifyV1(keysFor(cfg, query, now), req.method, key, query, req.headers, now);
            else
                throw new OssError(403, 'AccessDenied', 'You have no right to access this object because of bucket acl.');

            // Authorised: find the object (OSS answers 404 only after a valid signature).
            if (key.includes('\0') || key.split('/').some(s => s === '.' || s === '..'))
                throw new OssError(400, 'InvalidObjectName', 'The specified object name is not valid for this origin.');
            const file = path.join(cfg.root, key);
            if (!file.startsWith(cfg.root + path.sep))
                throw new OssError(400, 'InvalidObjectName', 'The specified object name is not valid for this origin.');
            let st;
            try {
                st = fs.statSync(file);
            } catch {
                st = null;
            }
            if (!st || !st.isFile() || key.endsWith('/'))
                throw new OssError(404, 'NoSuchKey', 'The specified key does not exist.', { Key: key });

            const etag = etagOf(file, st);
            const headers = {
                'Server': 'AliyunOSS',
                'x-oss-request-id': requestId,
                'x-oss-object-type': 'Normal',
                'Accept-Ranges': 'bytes',
                'ETag': etag,
                'Last-Modified': new Date(Math.floor(st.mtimeMs / 1000) * 1000).toUTCString(),
                'Content-Type': CONTENT_TYPES[path.extname(key).toLowerCase()] || 'application/octet-stream',
            };
            for (const [param, header] of Object.entries(RESPONSE_OVERRIDES)) {
                if (query.get(param) != null)
                    headers[header] = headerValue(query.get(param), param);
            }
            if (req.headers['if-none-match'] && req.headers['if-none-match'].split(/\s*,\s*/).includes(etag)) {
                res.writeHead(304, { 'Server': 'AliyunOSS', 'x-oss-request-id': requestId, 'ETag': etag });
                res.end();
                finish(304);
                return;
            }
            const range = parseRange(req.headers['range'], st.size);
            if (range === 'unsatisfiable')
                throw new OssError(416, 'InvalidRange', 'The requested range cannot be satisfied.',
                    { RangeRequested: req.headers['range'], ActualObjectSize: st.size, ContentRange: `bytes */${st.size}` });
            let status = 200;
            let start = 0;
            let end = st.size - 1;
            if (range) {
                status = 206;
                ({ start, end } = range);
                headers['Content-Range'] = `bytes ${start}-${end}/${st.size}`;
            }
            headers['Content-Length'] = st.size === 0 ? 0 : end - start + 1;
            res.writeHead(status, headers);
            if (req.method === 'HEAD' || st.size === 0) {
                res.end();
                finish(status);
                return;
            }
            const stream = fs.createReadStream(file, { start, end });
            stream.on('data', chunk => {
                bytes += chunk.length;
            });
            stream.on('error', () => res.destroy());
            res.on('close', () => {
                stream.destroy();
                finish(status);
            });
            stream.pipe(res);
        } catch (err) {
            sendError(err);
        }
    });
}

// Starts an origin on 127.0.0.1 in this process: {server, port, url, close()}.
async function startOrigin(options) {
    const server = createOrigin(options);
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(options.port || 0, '127.0.0.1', resolve);
    });
    const { port } = server.address();
    return {
        server,
        port,
        base: `http://127.0.0.1:${port}`,
        close: () => new Promise(resolve => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

function parseArgs(argv) {
    const names = {
        '--root': 'root', '--port': 'port', '--bucket': 'bucket', '--access-key-id': 'accessKeyId',
        '--access-key-secret': 'accessKeySecret', '--region': 'region', '--security-token': 'securityToken',
    };
    const out = {};
    for (let i = 0; i < argv.length; i++) {
        const [flag, inline] = argv[i].split(/=(.*)/s, 2);
        if (!(flag in names))
            throw new Error(`unknown argument ${argv[i]}`);
        const value = inline !== undefined ? inline : argv[++i];
        if (value === undefined)
            throw new Error(`${flag} needs a value`);
        out[names[flag]] = value;
    }
    for (const required of ['root', 'bucket', 'accessKeyId', 'accessKeySecret']) {
        if (!out[required])
            throw new Error(`missing --${required.replace(/[A-Z]/g, c => `-${c.toLowerCase()}`)}`);
    }
    out.port = Number(out.port || 0);
    if (!Number.isInteger(out.port) || out.port < 0 || out.port > 65535)
        throw new Error('--port must be 0..65535');
    if (!fs.statSync(out.root, { throwIfNoEntry: false })?.isDirectory())
        throw new Error(`--root ${out.root} is not a directory`);
    return out;
}

if (require.main === module) {
    let args;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (err) {
        process.stderr.write(`origin: ${err.message}\nusage: node origin.js --root DIR --port N --bucket NAME ` +
            '--access-key-id ID --access-key-secret SECRET [--region REGION] [--security-token TOKEN]\n');
        process.exit(2);
    }
    startOrigin(args).then(origin => {
        process.stdout.write(`listening ${origin.port}\n`);
        const stop = () => origin.close().then(() => process.exit(0));
        process.on('SIGTERM', stop);
        process.on('SIGINT', stop);
    }, err => {
        process.stderr.write(`origin: ${err.message}\n`);
        process.exit(1);
    });
}

// Verifies one presigned request (V4 or V1) for `cfg` {bucket, region, accessKeyId, accessKeySecret,
// securityToken}; throws an OssError when the store would refuse it. Exported for the vector cross-check.
function verifyPresigned(cfg, method, key, rawQuery, headers, nowMs) {
    const query = parseQuery(rawQuery);
    if (query.has('x-oss-signature') || query.has('x-oss-credential'))
        verifyV4(cfg, method, key, query, headers, nowMs);
    else
        verifyV1(cfg, method, key, query, headers, nowMs);
}

module.exports = { createOrigin, startOrigin, parseQuery, verifyPresigned, OssError };
