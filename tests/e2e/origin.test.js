// Self-test of the test origins, without the gateway: URLs presigned by the official SDKs (ali-oss for OSS V4
// and V1, the AWS SDK signer for S3) download the right bytes, and every kind of broken URL is refused with the
// code the real store would give.
'use strict';

const assert = require('node:assert/strict');
const { after, before, describe, it } = require('node:test');
const OSS = require('ali-oss');

const h = require('./lib/harness');
const fs = require('node:fs');
const path = require('node:path');
const { startOrigin, verifyPresigned } = require('./origin');
const { startS3Origin, presignS3, verifyPresignedV4 } = require('./lib/s3origin');

const KEYS = {
    'plain.bin': h.randomBytes(4096, 'plain'),
    'with space.bin': h.randomBytes(1000, 'space'),
    'plus+sign.bin': h.randomBytes(1001, 'plus'),
    '100% sure.bin': h.randomBytes(1002, 'percent'),
    "odd !'()*~ name.bin": h.randomBytes(1003, 'odd'),
    'unicode/café é 日本語 😀.bin': h.randomBytes(1004, 'unicode'),
    'a/b/c/d/e/f.bin': h.randomBytes(1005, 'deep'),
    'range.bin': h.randomBytes(10000, 'range'),
    'doc.txt': Buffer.from('hello, origin\n'),
};

function client(port, creds, extra = {}) {
    return new OSS(Object.assign({
        accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, bucket: h.BUCKET, region: h.REGION,
        endpoint: `http://127.0.0.1:${port}`, sldEnable: true, // sldEnable = path-style /<bucket>/<key>
    }, extra));
}

async function expectError(url, status, code, opts = {}) {
    const r = await h.request(url, opts);
    const why = opts.method === 'HEAD' ? r.headers['x-origin-error'] : h.errorSummary(r.body);
    assert.equal(r.status, status, `expected ${status} ${code} for ${url}, got ${r.status} (${why})`);
    if (opts.method === 'HEAD')
        assert.match(r.headers['x-origin-error'] || '', new RegExp(`^${code}:`), `HEAD ${url}`);
    else
        assert.equal(h.errorSummary(r.body).split(':')[0], code, `error code for ${url}: ${h.errorSummary(r.body)}`);
    return r;
}

describe('OSS origin (ali-oss decides validity)', { timeout: 60000 }, () => {
    const creds = h.makeCredentials();
    let origin;
    let oss;
    let clockOffset = 0;

    before(async () => {
        const root = h.makeTempDir('origin');
        h.writeObjects(root, KEYS);
        origin = await startOrigin({ root, bucket: h.BUCKET, region: h.REGION, ...creds, log: () => {},
            now: () => Date.now() + clockOffset });
        oss = client(origin.port, creds);
    });
    after(async () => {
        if (origin)
            await origin.close();
        await h.cleanupAll();
    });

    it('serves the right bytes for signatureUrlV4 GET URLs, whatever the key', async () => {
        for (const [key, data] of Object.entries(KEYS)) {
            const url = await oss.signatureUrlV4('GET', 600, {}, key);
            assert.ok(url.startsWith(`http://127.0.0.1:${origin.port}/${h.BUCKET}/`), url);
            const r = await h.request(url);
            assert.equal(r.status, 200, `GET ${key}: ${r.status} ${h.errorSummary(r.body)}`);
            h.assertSameBytes(r.body, data, `GET ${key}`);
            assert.equal(r.headers['content-length'], String(data.length));
            assert.match(r.headers.etag, /^"[0-9A-F]{32}"$/);
            assert.ok(r.headers['last-modified']);
        }
    });

    it('accepts a strictly encoded URL (the gateway form) as well as the SDK form', async () => {
        const key = "odd !'()*~ name.bin";
        const url = new URL(await oss.signatureUrlV4('GET', 600, {}, key));
        const strictPath = `/${h.BUCKET}/${h.encodeKeyPath(key)}`;
        const params = [...url.searchParams].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
        const strictQuery = params.map(([k, v]) => `${h.encodeKeyPath(k)}=${h.encodeKeyPath(v).replace(/\//g, '%2F')}`).join('&');
        const r = await h.request(`${origin.base}${strictPath}?${strictQuery}`);
        assert.equal(r.status, 200, h.errorSummary(r.body));
        h.assertSameBytes(r.body, KEYS[key], 'strict form');
    });

    it('needs a HEAD signature for HEAD', async () => {
        const headUrl = await oss.signatureUrlV4('HEAD', 600, {}, 'plain.bin');
        const r = await h.request(headUrl, { method: 'HEAD' });
        assert.equal(r.status, 200, r.headers['x-origin-error']);
        assert.equal(r.headers['content-length'], '4096');
        assert.equal(r.body.length, 0);
        await expectError(await oss.signatureUrlV4('GET', 600, {}, 'plain.bin'), 403, 'SignatureDoesNotMatch', { method: 'HEAD' });
        await expectError(headUrl, 403, 'SignatureDoesNotMatch'); // and a HEAD URL is no GET URL
    });

    it('refuses a tampered signature, another key, changed expires and a wrong secret', async () => {
        const url = await oss.signatureUrlV4('GET', 600, {}, 'plain.bin');
        const tampered = url.replace(/(x-oss-signature=[0-9a-f]{10})([0-9a-f])/, (_, a, c) => a + (c === '0' ? '1' : '0'));
        assert.notEqual(tampered, url);
        const r = await expectError(tampered, 403, 'SignatureDoesNotMatch');
        assert.match(r.body.toString(), /<CanonicalRequest>GET\n\/test-bucket\/plain.bin\n/);
        await expectError(url.replace('/plain.bin?', '/range.bin?'), 403, 'SignatureDoesNotMatch');
        await expectError(url.replace(/x-oss-expires=600/, 'x-oss-expires=601'), 403, 'SignatureDoesNotMatch');
        const wrongSecret = client(origin.port, { ...creds, accessKeySecret: `${creds.accessKeySecret}x` });
        await expectError(await wrongSecret.signatureUrlV4('GET', 600, {}, 'plain.bin'), 403, 'SignatureDoesNotMatch');
        const wrongId = client(origin.port, { ...creds, accessKeyId: 'LTAIsomeoneelse' });
        await expectError(await wrongId.signatureUrlV4('GET', 600, {}, 'plain.bin'), 403, 'InvalidAccessKeyId');
        const otherRegion = client(origin.port, creds, { region: 'cn-beijing' });
        await expectError(await otherRegion.signatureUrlV4('GET', 600, {}, 'plain.bin'), 400, 'InvalidArgument');
    });

    it('refuses expired, future-dated, over-long and unsigned requests', async () => {
        const url = await oss.signatureUrlV4('GET', 60, {}, 'plain.bin');
        try {
            clockOffset = 59 * 1000;
            assert.equal((await h.request(url)).status, 200, 'valid until x-oss-date + x-oss-expires');
            clockOffset = 62 * 1000;
            const r = await expectError(url, 403, 'AccessDenied');
            assert.match(r.body.toString(), /<Message>Request has expired\.<\/Message>/);
            clockOffset = -16 * 60 * 1000;
            await expectError(url, 403, 'RequestTimeTooSkewed');
        } finally {
            clockOffset = 0;
        }
        // ali-oss signs 604801 s without complaint; OSS refuses it.
        await expectError(await oss.signatureUrlV4('GET', 604801, {}, 'plain.bin'), 400, 'InvalidArgument');
        await expectError(`http://127.0.0.1:${origin.port}/${h.BUCKET}/plain.bin`, 403, 'AccessDenied');
        await expectError(url.replace(/x-oss-date=(\d{8})T/, 'x-oss-date=$1X'), 400, 'InvalidArgument');
    });

    it('answers 404 NoSuchKey only after a valid signature, 405 for other methods', async () => {
        await expectError(await oss.signatureUrlV4('GET', 600, {}, 'missing.bin'), 404, 'NoSuchKey');
        await expectError(await oss.signatureUrlV4('GET', 600, {}, 'a/b'), 404, 'NoSuchKey'); // a directory
        await expectError(await oss.signatureUrlV4('PUT', 600, {}, 'plain.bin'), 405, 'MethodNotAllowed', { method: 'PUT' });
    });

    it('serves ranges: 206 with Content-Range, suffix ranges, 416', async () => {
        const url = await oss.signatureUrlV4('GET', 600, {}, 'range.bin');
        let r = await h.request(url, { headers: { Range: 'bytes=100-199' } });
        assert.equal(r.status, 206);
        assert.equal(r.headers['content-range'], 'bytes 100-199/10000');
        h.assertSameBytes(r.body, KEYS['range.bin'].subarray(100, 200), 'bytes=100-199');
        r = await h.request(url, { headers: { Range: 'bytes=-10' } });
        assert.equal(r.headers['content-range'], 'bytes 9990-9999/10000');
        h.assertSameBytes(r.body, KEYS['range.bin'].subarray(9990), 'bytes=-10');
        r = await expectError(url, 416, 'InvalidRange', { headers: { Range: 'bytes=10000-' } });
        assert.equal(r.headers['content-range'], 'bytes */10000');
    });

    it('honours signed response-content-disposition / response-content-type', async () => {
        const disposition = "attachment; filename=\"caf_.txt\"; filename*=UTF-8''caf%C3%A9.txt";
        const url = await oss.signatureUrlV4('GET', 600, {
            queries: { 'response-content-disposition': disposition, 'response-content-type': 'application/x-test' },
        }, 'doc.txt');
        const r = await h.request(url);
        assert.equal(r.status, 200, h.errorSummary(r.body));
        assert.equal(r.headers['content-disposition'], disposition);
        assert.equal(r.headers['content-type'], 'application/x-test');
        const plain = await h.request(await oss.signatureUrlV4('GET', 600, {}, 'doc.txt'));
        assert.equal(plain.headers['content-type'], 'text/plain');
        assert.equal(plain.headers['content-disposition'], undefined);
        // an unsigned override is a different query, so the signature fails
        await expectError(`${url}&response-cache-control=no-cache`, 403, 'SignatureDoesNotMatch');
    });

    it('verifies legacy V1 URLs with ali-oss signatureUrl', async () => {
        // signatureUrl refuses IP endpoints, so sign for localhost and send to 127.0.0.1.
        const v1 = client(origin.port, creds, { endpoint: `http://localhost:${origin.port}` });
        const toIp = u => u.replace(`//localhost:${origin.port}/`, `//127.0.0.1:${origin.port}/`);
        for (const key of ['with space.bin', 'unicode/café é 日本語 😀.bin', 'plus+sign.bin']) {
            const url = toIp(v1.signatureUrl(key, { expires: 600 }));
            assert.match(url, /[?&]OSSAccessKeyId=/);
            const r = await h.request(url);
            assert.equal(r.status, 200, `V1 GET ${key}: ${h.errorSummary(r.body)}`);
            h.assertSameBytes(r.body, KEYS[key], `V1 GET ${key}`);
        }
        const withDisposition = toIp(v1.signatureUrl('doc.txt', { expires: 600, response: { 'content-disposition': 'attachment' } }));
        assert.equal((await h.request(withDisposition)).headers['content-disposition'], 'attachment');
        const url = toIp(v1.signatureUrl('plain.bin', { expires: 600 }));
        await expectError(url.replace(/Expires=(\d+)/, (_, e) => `Expires=${Number(e) + 1}`), 403, 'SignatureDoesNotMatch');
        await expectError(url, 403, 'SignatureDoesNotMatch', { method: 'HEAD' });
        assert.equal((await h.request(toIp(v1.signatureUrl('plain.bin', { expires: 600, method: 'HEAD' })), { method: 'HEAD' })).status, 200);
        try {
            clockOffset = 601 * 1000;
            await expectError(url, 403, 'AccessDenied');
        } finally {
            clockOffset = 0;
        }
    });
});

describe('OSS origin as a process (CLI), with an STS token', { timeout: 30000 }, () => {
    const creds = h.makeCredentials();
    const token = 'CAIS+e2e/token==';
    let origin;
    before(async () => {
        const root = h.makeTempDir('origin-cli');
        h.writeObjects(root, { 'x/y z.bin': KEYS['plain.bin'] });
        origin = await h.startOriginProcess({ root, credentials: creds, securityToken: token });
    });
    after(() => h.cleanupAll());

    it('prints `listening <port>`, checks the token, logs one line per request and stops on SIGTERM', async () => {
        const warn = console.warn;
        console.warn = () => {}; // ali-oss nags about refreshSTSToken
        let withToken;
        try {
            withToken = client(origin.port, creds, { stsToken: token });
        } finally {
            console.warn = warn;
        }
        const url = await withToken.signatureUrlV4('GET', 600, {}, 'x/y z.bin');
        assert.match(url, /x-oss-security-token=/);
        const r = await h.request(url);
        assert.equal(r.status, 200, h.errorSummary(r.body));
        h.assertSameBytes(r.body, KEYS['plain.bin'], 'GET with token');
        await expectError(await client(origin.port, creds).signatureUrlV4('GET', 600, {}, 'x/y z.bin'), 403, 'InvalidSecurityToken');
        await origin.waitFor(/GET \/test-bucket\/x\/y%20z\.bin 403 \d+ InvalidSecurityToken /, 'err', 2000, 'the log line');
        assert.doesNotMatch(origin.err, /x-oss-signature|[0-9a-f]{64}/, 'the log must not carry signatures');
        const status = await origin.stop();
        assert.deepEqual(status, { code: 0, signal: null });
    });
});

describe('S3 origin (s3rver behind an AWS-SDK SigV4 check)', { timeout: 30000 }, () => {
    const s3creds = { accessKeyId: 'AKIAE2ETEST0000001', secretAccessKey: h.makeCredentials().accessKeySecret };
    let s3;
    before(async () => {
        s3 = await startS3Origin({ dir: h.makeTempDir('s3rver'), bucket: h.BUCKET, ...s3creds,
            objects: { 'dir/with space é.bin': KEYS['range.bin'] } });
    });
    after(async () => {
        if (s3)
            await s3.close();
        await h.cleanupAll();
    });

    it('serves SDK-presigned URLs and refuses broken ones', async () => {
        const key = 'dir/with space é.bin';
        const url = await presignS3(s3, h.BUCKET, key);
        let r = await h.request(url);
        assert.equal(r.status, 200, `${h.errorSummary(r.body)}\n${s3.log.join('\n')}`);
        h.assertSameBytes(r.body, KEYS['range.bin'], 'S3 GET');
        r = await h.request(url, { headers: { Range: 'bytes=100-199' } });
        assert.equal(r.status, 206);
        h.assertSameBytes(r.body, KEYS['range.bin'].subarray(100, 200), 'S3 range');
        const tampered = url.replace(/(X-Amz-Signature=[0-9a-f]{5})([0-9a-f])/, (_, a, c) => a + (c === '0' ? '1' : '0'));
        r = await h.request(tampered);
        assert.equal(r.status, 403);
        assert.equal(h.errorSummary(r.body).split(':')[0], 'SignatureDoesNotMatch', h.errorSummary(r.body));
        r = await h.request(url, { method: 'HEAD' });
        assert.equal(r.status, 403, 'a GET URL must not work for HEAD');
        r = await h.request(await presignS3(s3, h.BUCKET, key, { method: 'HEAD' }), { method: 'HEAD' });
        assert.equal(r.status, 200);
        assert.equal(r.headers['content-length'], '10000');
        const old = await presignS3(s3, h.BUCKET, key, { expiresIn: 60, signingDate: new Date(Date.now() - 120000) });
        r = await h.request(old);
        assert.equal(r.status, 403);
        assert.match(h.errorSummary(r.body), /^AccessDenied: Request has expired/);
        r = await h.request(`${s3.base}/${h.BUCKET}/${h.encodeKeyPath(key)}`);
        assert.equal(r.status, 403, 'unsigned requests are refused');
    });
});

describe('origin verifier against the shared OSS vectors', () => {
    const files = ['oss-v4-presign.jsonl', 'oss-v1-presign.jsonl'].map(f => path.join(h.REPO_DIR, 'tests', 'vectors', f));

    it('accepts each vector URL (url_strict and the SDK url) at its time, refuses it expired or tampered', () => {
        let n = 0;
        for (const file of files) {
            for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
                const v = JSON.parse(line);
                const inp = v.input;
                const cfg = { bucket: inp.bucket, region: inp.region.replace(/^oss-/, ''), accessKeyId: inp.access_key_id,
                    accessKeySecret: inp.access_key_secret, securityToken: inp.security_token || null };
                const t = Date.parse(inp.time);
                const validity = inp.mode === 'oss-v1' ? Number(/[?&]Expires=(\d+)/.exec(v.url)[1]) * 1000 - t : inp.expires * 1000;
                const headers = inp.headers || {};
                for (const u of [v.url_strict, v.url]) {
                    const rawQuery = u.slice(u.indexOf('?') + 1);
                    const verify = (q, now) => verifyPresigned(cfg, inp.method, inp.key, q, headers, now);
                    assert.doesNotThrow(() => verify(rawQuery, t), `${v.id}: ${u}`);
                    assert.doesNotThrow(() => verify(rawQuery, t + validity), `${v.id} at its last valid second`);
                    assert.throws(() => verify(rawQuery, t + validity + 1000), /Request has expired/, `${v.id} expired`);
                    const bad = rawQuery.replace(/((?:x-oss-signature|Signature)=[^&]{3})([^&])/,
                        (_, a, c) => a + (c === '0' ? '1' : '0'));
                    assert.throws(() => verify(bad, t), /does not match/, `${v.id} tampered`);
                    n++;
                }
            }
        }
        assert.ok(n >= 100, `only ${n} vector URLs checked`);
    });
});

describe('S3 front verifier against the shared S3 vectors', () => {
    it('accepts each vector URL at its time, refuses it expired or tampered', async () => {
        const file = path.join(h.REPO_DIR, 'tests', 'vectors', 's3-v4-presign.jsonl');
        let n = 0;
        for (const line of fs.readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
            const v = JSON.parse(line);
            const inp = v.input;
            const cfg = { accessKeyId: inp.access_key_id, secretAccessKey: inp.access_key_secret, region: inp.region, port: 0 };
            const u = new URL(v.url_strict);
            const req = q => ({ method: inp.method, url: `${u.pathname}?${q}`, headers: { host: u.host } });
            const q = u.search.slice(1);
            const t = Date.parse(inp.time);
            await verifyPresignedV4(cfg, req(q), t).catch(e => assert.fail(`${v.id}: ${e.message}\n${e.extra && e.extra.CanonicalRequest}`));
            await assert.rejects(verifyPresignedV4(cfg, req(q), t + inp.expires * 1000 + 1000), /Request has expired/, v.id);
            const bad = q.replace(/(X-Amz-Signature=[0-9a-f]{3})([0-9a-f])/, (_, a, c) => a + (c === '0' ? '1' : '0'));
            await assert.rejects(verifyPresignedV4(cfg, req(bad), t), /does not match/, `${v.id} tampered`);
            n++;
        }
        assert.ok(n >= 20, `only ${n} vectors`);
    });
});
