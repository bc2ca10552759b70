// An S3-compatible origin for the S3 backend test: s3rver (a third-party S3 server) behind a front that checks
// SigV4 presigned queries with the AWS SDK's own signer (@smithy/signature-v4, the signer inside AWS SDK for
// JavaScript v3).
//
// Why the front: s3rver 3.7.1 verifies V2 signatures but not V4 ones. Its authentication middleware says
// "Signature version 4 calculation is unimplemeneted" and accepts any X-Amz-Signature as long as the access key
// exists, X-Amz-Date parses and the URL has not expired. So a wrong signature would pass s3rver alone; the front
// recomputes the signature at the request's X-Amz-Date and refuses a mismatch with 403 SignatureDoesNotMatch.
'use strict';

const crypto = require('node:crypto');
const http = require('node:http');

const { Hash } = require('@smithy/hash-node');
const { SignatureV4 } = require('@smithy/signature-v4');
const S3rver = require('s3rver');
const AWSAccount = require('s3rver/lib/models/account');
const S3Object = require('s3rver/lib/models/object');

const AUTH_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders',
    'X-Amz-Signature', 'X-Amz-Security-Token'];
const utf8 = new TextDecoder('utf-8', { fatal: true });

class S3Error extends Error {
    constructor(status, code, message, extra = {}) {
        super(message);
        this.status = status;
        this.code = code;
        this.extra = extra;
    }
}

function pctDecode(s, plusIsSpace) {
    const raw = Buffer.from(plusIsSpace ? s.replace(/\+/g, ' ') : s, 'latin1');
    const out = [];
    for (let i = 0; i < raw.length; i++) {
        if (raw[i] === 0x25) {
            const hex = raw.subarray(i + 1, i + 3).toString('latin1');
            if (!/^[0-9A-Fa-f]{2}$/.test(hex))
                throw new S3Error(400, 'InvalidArgument', 'malformed percent-encoding');
            out.push(parseInt(hex, 16));
            i += 2;
        } else {
            out.push(raw[i]);
        }
    }
    try {
        return utf8.decode(Buffer.from(out));
    } catch {
        throw new S3Error(400, 'InvalidArgument', 'not UTF-8 after percent-decoding');
    }
}

// AWS SDK style path encoding (extendedEncodeURIComponent per segment): what S3 canonicalises a key to.
function encodePath(p) {
    return p.split('/').map(seg => encodeURIComponent(seg).replace(/[!'()*]/g,
        c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

function xmlEscape(s) {
    return String(s).replace(/[<>&'"]/g, c => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]);
}

function parseAmzDate(s) {
    const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s || '');
    return m ? Date.UTC(+m[1], m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : NaN;
}

// Keeps the canonical request the SDK builds, for the error body.
class RecordingSignatureV4 extends SignatureV4 {
    createCanonicalRequest(...args) {
        this.lastCanonicalRequest = super.createCanonicalRequest(...args);
        return this.lastCanonicalRequest;
    }
}

async function verifyPresignedV4(cfg, req, now = Date.now()) {
    const rawUrl = req.url || '/';
    const q = rawUrl.indexOf('?');
    const rawPath = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = {};
    for (const part of (q < 0 ? '' : rawUrl.slice(q + 1)).split('&')) {
        if (part === '')
            continue;
        const eq = part.indexOf('=');
        const name = pctDecode(eq < 0 ? part : part.slice(0, eq), true);
        if (name in query)
            throw new S3Error(400, 'InvalidArgument', `duplicate query parameter ${name}`);
        query[name] = eq < 0 ? '' : pctDecode(part.slice(eq + 1), true);
    }
    if (!('X-Amz-Algorithm' in query))
        throw new S3Error(403, 'AccessDenied', 'Access Denied (this origin serves presigned SigV4 requests only)');
    if (query['X-Amz-Algorithm'] !== 'AWS4-HMAC-SHA256')
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"');
    for (const name of AUTH_PARAMS.slice(0, 6)) {
        if (!query[name])
            throw new S3Error(400, 'AuthorizationQueryParametersError', `missing query parameter ${name}`);
    }
    const date = query['X-Amz-Date'];
    const dateMs = parseAmzDate(date);
    if (Number.isNaN(dateMs))
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Date must be yyyyMMddTHHmmssZ');
    const expires = /^[0-9]{1,7}$/.test(query['X-Amz-Expires']) ? Number(query['X-Amz-Expires']) : NaN;
    if (!(expires >= 1 && expires <= 604800))
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-Expires must be 1..604800');
    const [accessKeyId, day, region, service, terminator, ...rest] = query['X-Amz-Credential'].split('/');
    if (accessKeyId !== cfg.accessKeyId)
        throw new S3Error(403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    if (rest.length || day !== date.slice(0, 8) || region !== cfg.region || service !== 's3' || terminator !== 'aws4_request')
        throw new S3Error(400, 'AuthorizationQueryParametersError',
            `bad credential scope ${day}/${region}/${service}/${terminator}: want ${date.slice(0, 8)}/${cfg.region}/s3/aws4_request`);
    if (dateMs - now > 15 * 60 * 1000)
        throw new S3Error(403, 'AccessDenied', 'Request is not valid yet');
    if (now > dateMs + expires * 1000)
        throw new S3Error(403, 'AccessDenied', 'Request has expired');

    const signedNames = query['X-Amz-SignedHeaders'].split(';');
    if (!signedNames.includes('host'))
        throw new S3Error(400, 'AuthorizationQueryParametersError', 'X-Amz-SignedHeaders must include host');
    const headers = { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' }; // payload is never signed in a presigned GET
    for (const name of signedNames) {
        if (req.headers[name] === undefined)
            throw new S3Error(403, 'SignatureDoesNotMatch', `signed header ${name} is not in the request`);
        headers[name] = String(req.headers[name]);
    }
    const unsigned = {};
    for (const [name, value] of Object.entries(query)) {
        if (!AUTH_PARAMS.includes(name))
            unsigned[name] = value;
    }
    const signer = new RecordingSignatureV4({
        credentials: { accessKeyId: cfg.accessKeyId, secretAccessKey: cfg.secretAccessKey,
            sessionToken: query['X-Amz-Security-Token'] },
        region: cfg.region, service: 's3', sha256: Hash.bind(null, 'sha256'), uriEscapePath: false, applyChecksum: false,
    });
    const presigned = await signer.presign({
        method: req.method, protocol: 'http:', hostname: '127.0.0.1', port: cfg.port, // (host comes from headers)
        path: encodePath(pctDecode(rawPath, false)), query: unsigned, headers,
    }, {
        signingDate: new Date(dateMs), expiresIn: expires,
        unsignableHeaders: new Set(['x-amz-content-sha256']), unhoistableHeaders: new Set(['x-amz-content-sha256']),
    });
    const expected = presigned.query['X-Amz-Signature'];
    const provided = query['X-Amz-Signature'];
    const same = crypto.timingSafeEqual(crypto.createHash('sha256').update(expected).digest(),
        crypto.createHash('sha256').update(provided).digest());
    if (!same || presigned.query['X-Amz-SignedHeaders'] !== query['X-Amz-SignedHeaders'])
        throw new S3Error(403, 'SignatureDoesNotMatch',
            'The request signature we calculated does not match the signature you provided. Check your key and signing method.',
            { SignatureProvided: provided, CanonicalRequest: signer.lastCanonicalRequest });
}

// Starts s3rver (data in `dir`, bucket `bucket` holding `objects` {key: Buffer}) behind the verifying front on
// 127.0.0.1:0. Returns {port, base, log: string[], close()}.
async function startS3Origin({ dir, bucket, region = 'us-east-1', accessKeyId, secretAccessKey, objects = {} }) {
    const s3rver = new S3rver({ directory: dir, silent: true, configureBuckets: [{ name: bucket }],
        allowMismatchedSignatures: false, vhostBuckets: false, resetOnClose: false });
    AWSAccount.DUMMY_ACCOUNT.createKeyPair(accessKeyId, secretAccessKey);
    await s3rver.configureBuckets();
    for (const [key, content] of Object.entries(objects))
        await s3rver.store.putObject(new S3Object(bucket, key, content, { 'content-type': 'application/octet-stream' }));
    const s3Handler = s3rver.callback();
    const cfg = { accessKeyId, secretAccessKey, region, port: 0 };
    const log = [];
    const server = http.createServer((req, res) => {
        const path = (req.url || '').split('?')[0];
        verifyPresignedV4(cfg, req).then(() => {
            res.on('finish', () => log.push(`s3 ${req.method} ${path} ${res.statusCode}`));
            s3Handler(req, res);
        }, err => {
            if (!(err instanceof S3Error))
                err = new S3Error(500, 'InternalError', `front bug: ${err && err.stack}`);
            log.push(`s3 ${req.method} ${path} ${err.status} ${err.code}: ${err.message}`);
            const body = Buffer.from(['<?xml version="1.0" encoding="UTF-8"?>', '<Error>',
                `  <Code>${xmlEscape(err.code)}</Code>`, `  <Message>${xmlEscape(err.message)}</Message>`,
                ...Object.entries(err.extra).map(([k, v]) => `  <${k}>${xmlEscape(v)}</${k}>`), '</Error>', ''].join('\n'));
            res.writeHead(err.status, { 'Content-Type': 'application/xml', 'Content-Length': body.length });
            res.end(req.method === 'HEAD' ? undefined : body);
        });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', resolve);
    });
    cfg.port = server.address().port;
    return {
        port: cfg.port,
        base: `http://127.0.0.1:${cfg.port}`,
        log,
        signer: new SignatureV4({ credentials: { accessKeyId, secretAccessKey }, region, service: 's3',
            sha256: Hash.bind(null, 'sha256'), uriEscapePath: false, applyChecksum: false }),
        close: () => new Promise(resolve => {
            AWSAccount.DUMMY_ACCOUNT.revokeAccessKey(accessKeyId);
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

// A presigned GET URL made with the AWS SDK signer, as the SDK's S3 presigner shapes it (path style, host signed,
// UNSIGNED-PAYLOAD). For the harness self-test only; the gateway makes its own.
async function presignS3(origin, bucket, key, { method = 'GET', expiresIn = 900, signingDate = new Date() } = {}) {
    const req = await origin.signer.presign({
        method, protocol: 'http:', hostname: '127.0.0.1', port: origin.port, path: `/${bucket}/${encodePath(key)}`,
        query: {}, headers: { host: `127.0.0.1:${origin.port}`, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' },
    }, { signingDate, expiresIn, unsignableHeaders: new Set(['x-amz-content-sha256']),
        unhoistableHeaders: new Set(['x-amz-content-sha256']) });
    const qs = Object.entries(req.query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
    return `${origin.base}${req.path}?${qs}`;
}

module.exports = { startS3Origin, presignS3, verifyPresignedV4 };
