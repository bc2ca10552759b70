// End to end with an S3 backend: the gateway (type: s3, path style, http) in front of s3rver, a third-party S3
// server, with every SigV4 presigned URL checked by the AWS SDK's signer (see lib/s3origin.js for why).
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, describe, it: nodeIt } = require('node:test');

const h = require('./lib/harness');
const { startS3Origin } = require('./lib/s3origin');

const OBJECTS = {
    'dir/with space é.bin': h.randomBytes(70000, 's3-space'),
    'plus+sign.bin': h.randomBytes(1001, 's3-plus'),
    '100% sure.bin': h.randomBytes(1002, 's3-percent'),
    'unicode/日本語 😀.bin': h.randomBytes(1003, 's3-unicode'),
    'a/b/c/d/e/f.bin': h.randomBytes(1004, 's3-deep'),
    "sym/a&b=c;d,e!'()*~@$.bin": h.randomBytes(1005, 's3-subdelims'),
};

describe('gateway + s3rver (S3 SigV4 backend)', { timeout: 60000 }, () => {
    const creds = { accessKeyId: 'AKIAE2E0000000000001', secretAccessKey: h.makeCredentials().accessKeySecret };
    let s3;
    let gw;
    let work;
    const diag = () => `${gw ? gw.describe() : ''}\n--- s3 origin log:\n${s3 ? s3.log.slice(-20).join('\n') : ''}`;

    const ready = h.guardedBefore(async () => {
        work = h.makeTempDir('s3');
        s3 = await startS3Origin({ dir: h.makeTempDir('s3rver-data'), bucket: h.BUCKET, region: 'us-east-1', ...creds,
            objects: OBJECTS });
        gw = await h.startGateway({
            listen: ['127.0.0.1:0'], workers: 1, log: { access: 'stdout', level: 'info' },
            credentials: { main: { from: 'env' } },
            backends: {
                store: { type: 's3', region: 'us-east-1', bucket: h.BUCKET, endpoint: `127.0.0.1:${s3.port}`,
                    addressing: 'path', scheme: 'http', credentials: 'main' },
            },
            routes: [{ prefix: '/files/', backend: 'store', expires: '15m' }],
            health: '/healthz',
        }, { AWS_ACCESS_KEY_ID: creds.accessKeyId, AWS_SECRET_ACCESS_KEY: creds.secretAccessKey });
    });
    const it = (name, opts, fn) => nodeIt(name, opts, async t => {
        ready();
        await fn(t);
    });
    after(async () => {
        await h.cleanupAll(); // the gateway first, then the in-process s3 origin
        if (s3)
            await s3.close();
    });

    async function curlGet(url, extra = []) {
        const out = path.join(fs.mkdtempSync(path.join(work, 'curl-')), 'out');
        const r = await h.curl(['--location', '--output', out, '--write-out', '%{http_code} %{num_redirects} %{url_effective}',
            ...extra, url]);
        const [code, redirects, effective] = r.stdout.toString().split(' ');
        const body = fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0);
        const why = `curl -L ${url}: exit ${r.code}, HTTP ${code} after ${redirects} redirect(s), last URL ${effective}\n` +
            `${Number(code) >= 400 ? `S3 said ${h.errorSummary(body)}\n` : ''}${r.stderr}\n${diag()}`;
        return { code: Number(code), effective, body, why };
    }

    for (const [key, data] of Object.entries(OBJECTS)) {
        it(`curl -L downloads ${JSON.stringify(key)} byte-identical`, { timeout: 20000 }, async () => {
            const r = await curlGet(`${gw.base}/files/${h.encodeKeyPath(key)}`);
            assert.equal(r.code, 200, r.why);
            assert.ok(r.effective.startsWith(`${s3.base}/${h.BUCKET}/`), `final URL is not path style on s3rver\n${r.why}`);
            assert.match(r.effective, /[?&]X-Amz-Signature=[0-9a-f]{64}/, r.why);
            h.assertSameBytes(r.body, data, `curl -L ${key}`, diag());
        });
    }

    it('curl -r 100-199 -L and curl -I -L work through the redirect', { timeout: 20000 }, async () => {
        const key = 'dir/with space é.bin';
        const url = `${gw.base}/files/${h.encodeKeyPath(key)}`;
        const r = await curlGet(url, ['--range', '100-199']);
        assert.equal(r.code, 206, r.why);
        h.assertSameBytes(r.body, OBJECTS[key].subarray(100, 200), `curl -r 100-199 -L ${key}`, diag());
        const head = await h.curl(['--head', '--location', url]);
        const blocks = head.stdout.toString().split(/\r?\n\r?\n/).filter(b => b.trim());
        const msg = `curl -I -L ${url}:\n${head.stdout}\n${head.stderr}\n${diag()}`;
        assert.equal(blocks.length, 2, msg);
        assert.match(blocks[1], /^HTTP\/1\.[01] 200/, msg);
        assert.match(blocks[1], new RegExp(`^content-length:\\s*${OBJECTS[key].length}\\r?$`, 'im'), msg);
    });
});
