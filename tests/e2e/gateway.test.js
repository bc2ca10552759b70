// End to end: the real gateway in front of the local OSS origin (which checks every signature with ali-oss),
// driven by curl and wget the way users run them.
'use strict';

const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { after, describe, it: nodeIt } = require('node:test');

const h = require('./lib/harness');

// key -> content. Each is downloaded through the gateway and compared byte for byte.
const OBJECTS = {
    'with space.bin': h.randomBytes(1000, 'gw-space'),
    'plus+sign.bin': h.randomBytes(1001, 'gw-plus'),
    '100% sure.bin': h.randomBytes(1002, 'gw-percent'),
    'café é.bin': h.randomBytes(1003, 'gw-e-acute'),
    '日本語/ファイル 名.bin': h.randomBytes(1004, 'gw-japanese'),
    'emoji 😀/🎉 party.bin': h.randomBytes(1005, 'gw-emoji'),
    'a/b/c/d/e/f.bin': h.randomBytes(1006, 'gw-deep'),
    "sym/a&b=c;d,e!'()*~@$.bin": h.randomBytes(1007, 'gw-subdelims'),
    'sym/what?#frag.bin': h.randomBytes(1008, 'gw-query-chars'),
    'big/large file.bin': h.randomBytes(3 * 1024 * 1024 + 17, 'gw-large'),
    'report 2024.txt': Buffer.from('quarterly numbers\n'),
};

const BIG = 'big/large file.bin';

function link(base, prefix, key) {
    return `${base}${prefix}${h.encodeKeyPath(key)}`;
}

describe('gateway + OSS origin: curl, wget, expiry', { timeout: 120000 }, () => {
    const creds = h.makeCredentials();
    let origin;
    let gw;
    let work;

    const diag = () => `${gw ? gw.describe() : '(gateway not started)'}\n${origin ? origin.describe() : ''}`;

    // curl -L URL into a file: {code, redirects, effective, body, stderr}.
    async function curlGet(url, extra = []) {
        const out = path.join(fs.mkdtempSync(path.join(work, 'curl-')), 'out');
        const r = await h.curl(['--location', '--output', out, '--write-out', '%{http_code} %{num_redirects} %{url_effective}',
            ...extra, url]);
        const [code, redirects, effective] = r.stdout.toString().split(' ');
        return { exit: r.code, code: Number(code), redirects: Number(redirects), effective, stderr: r.stderr.toString(),
            body: fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0) };
    }

    function explain(what, r) {
        return `${what}: curl exit ${r.exit}, HTTP ${r.code} after ${r.redirects} redirect(s), last URL ${r.effective}` +
            `\n${r.code >= 400 ? `origin said ${h.errorSummary(r.body)}` : ''}${r.stderr ? `\ncurl: ${r.stderr}` : ''}\n${diag()}`;
    }

    const ready = h.guardedBefore(async () => {
        work = h.makeTempDir('gateway');
        const root = h.makeTempDir('objects');
        h.writeObjects(root, OBJECTS);
        origin = await h.startOriginProcess({ root, credentials: creds });
        gw = await h.startGateway({
            listen: ['127.0.0.1:0'],
            workers: 1,
            log: { access: 'stdout', level: 'info' },
            credentials: { main: { from: 'env' } },
            backends: {
                origin: h.ossBackend(origin.port),
                legacy: h.ossBackend(origin.port, { type: 'oss-v1' }),
            },
            routes: [
                { prefix: '/files/', backend: 'origin', expires: '15m' },
                { prefix: '/dl/', backend: 'origin', expires: '15m', disposition: 'attachment' },
                { prefix: '/short/', backend: 'origin', expires: '2s' },
                { prefix: '/v1/', backend: 'legacy', expires: '15m' },
                { prefix: '/pre/', backend: 'origin', expires: '15m', key_prefix: 'a/b/' },
            ],
            health: '/healthz',
            metrics: '/metrics',
        }, { OSS_ACCESS_KEY_ID: creds.accessKeyId, OSS_ACCESS_KEY_SECRET: creds.accessKeySecret });
    });
    const it = (name, opts, fn) => nodeIt(name, opts, async t => {
        ready();
        await fn(t);
    });

    after(() => h.cleanupAll());

    for (const [key, data] of Object.entries(OBJECTS)) {
        it(`curl -L downloads ${JSON.stringify(key)} byte-identical`, { timeout: 20000 }, async () => {
            const url = link(gw.base, '/files/', key);
            const redirect = await h.request(url);
            const location = redirect.headers.location || '';
            const [locPath, locQuery = ''] = location.split('?');
            assert.equal(redirect.status, 302, `GET ${url}: ${redirect.status} ${redirect.body}\n${diag()}`);
            assert.equal(locPath, `${origin.base}/${h.BUCKET}/${h.encodeKeyPath(key)}`,
                `Location path is not the strictly encoded key: ${location}`);
            assert.match(locQuery, /^(?:[A-Za-z0-9._~-]|%[0-9A-F]{2}|[=&])+$/, `Location query is not strictly encoded: ${location}`);
            const r = await curlGet(url);
            assert.equal(r.code, 200, explain(`curl -L ${url}`, r));
            assert.equal(r.redirects, 1, explain(`curl -L ${url} (one redirect expected)`, r));
            assert.ok(r.effective.startsWith(`${origin.base}/${h.BUCKET}/`), explain('final URL is not the origin', r));
            h.assertSameBytes(r.body, data, `curl -L ${url}`, diag());
        });
    }

    it('takes a raw "+" in the link as a plus, not a space', { timeout: 20000 }, async () => {
        const url = `${gw.base}/files/plus+sign.bin`;
        const r = await curlGet(url);
        assert.equal(r.code, 200, explain(`curl -L ${url}`, r));
        h.assertSameBytes(r.body, OBJECTS['plus+sign.bin'], `curl -L ${url}`, diag());
    });

    it('redirects with 302, a path-style presigned Location on the origin and Cache-Control: no-store', { timeout: 10000 }, async () => {
        const key = 'with space.bin';
        const r = await h.request(link(gw.base, '/files/', key));
        assert.equal(r.status, 302, `GET /files/${key}: ${r.status} ${r.body}\n${diag()}`);
        const loc = new URL(r.headers.location);
        assert.equal(`${loc.protocol}//${loc.host}`, origin.base, `Location ${r.headers.location} must point at the origin`);
        assert.equal(loc.pathname, `/${h.BUCKET}/with%20space.bin`, `Location path of ${r.headers.location}`);
        assert.equal(loc.searchParams.get('x-oss-signature-version'), 'OSS4-HMAC-SHA256', r.headers.location);
        assert.equal(loc.searchParams.get('x-oss-expires'), '900', `15m route: x-oss-expires in ${r.headers.location}`);
        assert.match(loc.searchParams.get('x-oss-credential'), new RegExp(`^${creds.accessKeyId}/\\d{8}/${h.REGION}/oss/aliyun_v4_request$`));
        assert.equal(r.headers['cache-control'], 'no-store');
        const head = await h.request(link(gw.base, '/files/', key), { method: 'HEAD' });
        assert.equal(head.status, 302, `HEAD /files/${key}: ${head.status}`);
        assert.notEqual(head.headers.location, r.headers.location, 'HEAD must get its own (HEAD-signed) URL');
    });

    it('curl -I -L (HEAD) gets 200 and the right Content-Length through the redirect', { timeout: 20000 }, async () => {
        for (const key of [BIG, '日本語/ファイル 名.bin']) {
            const url = link(gw.base, '/files/', key);
            const r = await h.curl(['--head', '--location', url]);
            const blocks = r.stdout.toString().split(/\r?\n\r?\n/).filter(b => b.trim());
            const status = blocks.map(b => b.split(/\r?\n/)[0]);
            const msg = `curl -I -L ${url}: status lines ${JSON.stringify(status)}\n${r.stdout}\n${r.stderr}\n${diag()}`;
            assert.equal(r.code, 0, msg);
            assert.equal(blocks.length, 2, msg);
            assert.match(status[0], /^HTTP\/1\.[01] 302/, msg);
            assert.match(status[1], /^HTTP\/1\.[01] 200/, msg);
            const len = /^content-length:\s*(\d+)/im.exec(blocks[1]);
            assert.equal(len && Number(len[1]), OBJECTS[key].length, `Content-Length of the final HEAD response\n${msg}`);
        }
    });

    it('curl -r 100-199 -L gets exactly those bytes (206)', { timeout: 20000 }, async () => {
        const url = link(gw.base, '/files/', BIG);
        let r = await curlGet(url, ['--range', '100-199']);
        assert.equal(r.code, 206, explain(`curl -r 100-199 -L ${url}`, r));
        h.assertSameBytes(r.body, OBJECTS[BIG].subarray(100, 200), `curl -r 100-199 -L ${url}`, diag());
        r = await curlGet(url, ['--range', '-1000']);
        assert.equal(r.code, 206, explain(`curl -r -1000 -L ${url}`, r));
        h.assertSameBytes(r.body, OBJECTS[BIG].subarray(OBJECTS[BIG].length - 1000), `curl -r -1000 -L ${url}`, diag());
    });

    it('wget names the file from the link', { timeout: 30000 }, async () => {
        for (const key of ['with space.bin', 'emoji 😀/🎉 party.bin', BIG]) {
            const dir = fs.mkdtempSync(path.join(work, 'wget-'));
            const url = link(gw.base, '/files/', key);
            const r = await h.wget(['--quiet', url], { cwd: dir });
            const files = fs.readdirSync(dir);
            const expected = key.split('/').pop();
            const msg = `wget ${url}: exit ${r.code}, files ${JSON.stringify(files)}, expected [${JSON.stringify(expected)}]` +
                `\n${r.stderr}\n${diag()}`;
            assert.equal(r.code, 0, msg);
            assert.deepEqual(files, [expected], msg);
            h.assertSameBytes(fs.readFileSync(path.join(dir, expected)), OBJECTS[key], `wget ${url}`, diag());
        }
    });

    it('wget --content-disposition names the file from the /dl/ route\'s filename, unicode included', { timeout: 30000 }, async () => {
        for (const key of ['report 2024.txt', '日本語/ファイル 名.bin', 'café é.bin']) {
            const dir = fs.mkdtempSync(path.join(work, 'wget-cd-'));
            // The link's last segment is not the name, so only Content-Disposition can produce it.
            const url = `${link(gw.base, '/dl/', key)}?via=share-link`;
            const r = await h.wget(['--quiet', '--content-disposition', url], { cwd: dir });
            const files = fs.readdirSync(dir);
            const expected = key.split('/').pop();
            const probe = await h.request(link(gw.base, '/dl/', key));
            const msg = `wget --content-disposition ${url}: exit ${r.code}, files ${JSON.stringify(files)}, expected ` +
                `[${JSON.stringify(expected)}]; gateway Location: ${probe.headers.location}\n${r.stderr}\n${diag()}`;
            assert.equal(r.code, 0, msg);
            assert.deepEqual(files, [expected], msg);
            h.assertSameBytes(fs.readFileSync(path.join(dir, expected)), OBJECTS[key], `wget ${url}`, diag());
        }
    });

    it('signs attachment dispositions as attachment; filename="ascii"; filename*=UTF-8\'\'pct', { timeout: 10000 }, async () => {
        const r = await h.request(link(gw.base, '/dl/', '日本語/ファイル 名.bin'));
        assert.equal(r.status, 302, `${r.status} ${r.body}`);
        const cd = new URL(r.headers.location).searchParams.get('response-content-disposition');
        const expectedStar = "filename*=UTF-8''%E3%83%95%E3%82%A1%E3%82%A4%E3%83%AB%20%E5%90%8D.bin";
        assert.match(cd || '', /^attachment; filename="[\x20-\x21\x23-\x5b\x5d-\x7e]*"; /, `disposition ${cd}`);
        assert.ok((cd || '').endsWith(`; ${expectedStar}`), `disposition ${cd} should end with ${expectedStar}`);
        const ascii = await h.request(link(gw.base, '/dl/', 'report 2024.txt'));
        const cd2 = new URL(ascii.headers.location).searchParams.get('response-content-disposition');
        assert.equal(cd2, "attachment; filename=\"report 2024.txt\"; filename*=UTF-8''report%202024.txt");
    });

    it('a legacy V1 (oss-v1) backend downloads byte-identical, GET and HEAD', { timeout: 20000 }, async () => {
        for (const key of ['with space.bin', 'café é.bin', 'plus+sign.bin']) {
            const url = link(gw.base, '/v1/', key);
            const r = await curlGet(url);
            assert.equal(r.code, 200, explain(`curl -L ${url}`, r));
            assert.match(r.effective, /[?&]OSSAccessKeyId=/, explain('V1 URL expected', r));
            h.assertSameBytes(r.body, OBJECTS[key], `curl -L ${url}`, diag());
        }
        const head = await h.curl(['--head', '--location', '--write-out', '%{http_code}', '--output', '/dev/null',
            link(gw.base, '/v1/', BIG)]);
        assert.equal(head.stdout.toString(), '200', `V1 HEAD through the redirect: ${head.stdout} ${head.stderr}\n${diag()}`);
    });

    it('key_prefix is prepended to the key', { timeout: 20000 }, async () => {
        const url = `${gw.base}/pre/c/d/e/f.bin`;
        const r = await curlGet(url);
        assert.equal(r.code, 200, explain(`curl -L ${url}`, r));
        h.assertSameBytes(r.body, OBJECTS['a/b/c/d/e/f.bin'], `curl -L ${url}`, diag());
    });

    it('an expired URL is refused by the origin, a fresh request to the gateway works again', { timeout: 30000 }, async () => {
        const key = 'with space.bin';
        const first = await h.request(link(gw.base, '/short/', key));
        assert.equal(first.status, 302, `GET /short/: ${first.status}\n${diag()}`);
        const loc = new URL(first.headers.location);
        assert.equal(loc.searchParams.get('x-oss-expires'), '2', `2s route: ${first.headers.location}`);
        const d = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(loc.searchParams.get('x-oss-date'));
        assert.ok(d, `x-oss-date in ${first.headers.location}`);
        const deadline = Date.UTC(d[1], d[2] - 1, d[3], d[4], d[5], d[6]) + 2000;
        const wait = deadline + 1100 - Date.now();
        assert.ok(wait < 10000, `the URL expires ${wait} ms from now, more than 2s after signing: ${first.headers.location}`);
        if (Date.now() < deadline - 200) {
            const early = await h.request(first.headers.location);
            assert.equal(early.status, 200, `fresh 2s URL refused: ${h.errorSummary(early.body)}\n${diag()}`);
        }
        await h.sleep(Math.max(0, wait));
        const late = await h.request(first.headers.location);
        assert.equal(late.status, 403, `expired URL: origin answered ${late.status} ${h.errorSummary(late.body)}`);
        assert.equal(h.errorSummary(late.body), 'AccessDenied: Request has expired.');
        const r = await curlGet(link(gw.base, '/short/', key));
        assert.equal(r.code, 200, explain('fresh request after expiry', r));
        assert.notEqual(r.effective, first.headers.location, 'the gateway handed out the expired URL again');
        h.assertSameBytes(r.body, OBJECTS[key], 'download after expiry', diag());
    });

    it('answers health, 405, 404 and 400 itself', { timeout: 10000 }, async () => {
        const health = await h.request(`${gw.base}/healthz`);
        assert.equal(health.status, 200, '/healthz');
        const post = await h.request(link(gw.base, '/files/', 'with space.bin'), { method: 'POST' });
        assert.equal(post.status, 405, 'POST /files/...');
        assert.match(post.headers.allow || '', /^GET, HEAD$/, `Allow: ${post.headers.allow}`);
        assert.equal((await h.request(`${gw.base}/nothing/here.bin`)).status, 404, 'no route');
        for (const bad of ['/files/', '/files/bad%ZZescape', '/files/nul%00byte', '/files/a/../b.bin', '/files/a/./b.bin',
            '/files/%C3%28invalid-utf8']) {
            const r = await h.request(gw.base, { rawPath: bad });
            assert.equal(r.status, 400, `${bad}: expected 400, got ${r.status} ${r.headers.location || ''}`);
        }
        const metrics = await h.request(`${gw.base}/metrics`);
        assert.equal(metrics.status, 200, '/metrics');
    });

    it('keeps signatures and the secret out of its logs, and exits 0 on SIGTERM', { timeout: 15000 }, async () => {
        // The access log is flushed on a timer: a last request, then wait for its line. With one worker the log is in
        // request order, so every earlier request's line is there too.
        assert.equal((await h.request(`${gw.base}/log-flush-marker`)).status, 404, 'the marker request');
        await gw.waitFor(/"path":"\/log-flush-marker"/, 'out', 5000, 'the access log line of the marker request');
        const logs = gw.out + gw.err;
        assert.ok(!logs.includes(creds.accessKeySecret), 'the secret is in the gateway output');
        assert.doesNotMatch(logs, /x-oss-signature=|Signature=|[0-9a-f]{64}/, `a signature is in the gateway output\n${diag()}`);
        assert.match(gw.out, /\/files\//, `no access log lines on stdout\n${diag()}`);
        const status = await gw.stop(10000);
        assert.deepEqual(status, { code: 0, signal: null }, `gateway exit after SIGTERM\n${diag()}`);
    });
});

describe('gateway with STS credentials (OSS_SESSION_TOKEN)', { timeout: 60000 }, () => {
    const creds = h.makeCredentials();
    const token = 'CAIS+sts/Token==e2e';
    let origin;
    let gw;
    const ready = h.guardedBefore(async () => {
        const root = h.makeTempDir('objects-sts');
        h.writeObjects(root, { 'sts/file é.bin': OBJECTS['café é.bin'] });
        origin = await h.startOriginProcess({ root, credentials: creds, securityToken: token });
        gw = await h.startGateway({
            listen: ['127.0.0.1:0'], workers: 1, log: { access: 'stdout', level: 'info' },
            credentials: { main: { from: 'env' } },
            backends: { origin: h.ossBackend(origin.port) },
            routes: [{ prefix: '/files/', backend: 'origin', expires: '15m' }],
            health: '/healthz',
        }, { OSS_ACCESS_KEY_ID: creds.accessKeyId, OSS_ACCESS_KEY_SECRET: creds.accessKeySecret, OSS_SESSION_TOKEN: token });
    });
    after(() => h.cleanupAll());

    nodeIt('signs x-oss-security-token and the download works', { timeout: 20000 }, async () => {
        ready();
        const url = link(gw.base, '/files/', 'sts/file é.bin');
        const r = await h.curl(['--location', '--write-out', '\n%{http_code} %{url_effective}', url]);
        const text = r.stdout.toString('latin1');
        const tail = text.slice(text.lastIndexOf('\n') + 1);
        const body = Buffer.from(text.slice(0, text.lastIndexOf('\n')), 'latin1');
        assert.match(tail, /^200 /, `curl -L ${url}: ${tail} ${h.errorSummary(body)}\n${gw.describe()}\n${origin.describe()}`);
        assert.match(tail, /x-oss-security-token=/, tail);
        h.assertSameBytes(body, OBJECTS['café é.bin'], `curl -L ${url}`);
    });
});
