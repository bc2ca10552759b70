// Headless Chromium clicks a share link on a web page; the download must land byte-identical with the expected
// file name. First straight to the origin (a harness check that needs no gateway), then through the gateway.
'use strict';

const assert = require('node:assert/strict');
const { after, describe, it } = require('node:test');
const OSS = require('ali-oss');

const h = require('./lib/harness');
const { launchChromium, servePage, clickAndDownload } = require('./lib/browser');

const OBJECTS = {
    'shared/Quarterly report é.bin': h.randomBytes(200000, 'br-bin'),
    'notes/日本語 メモ.txt': Buffer.from('メモ: the browser must save this, not show it\n'),
    'emoji/🎉 party.bin': h.randomBytes(5000, 'br-emoji'),
};

describe('Chromium: share link straight to the origin (harness check)', { timeout: 60000 }, () => {
    const creds = h.makeCredentials();
    let origin;
    let browser;
    let page;
    const ready = h.guardedBefore(async () => {
        const root = h.makeTempDir('objects-br1');
        h.writeObjects(root, OBJECTS);
        origin = await h.startOriginProcess({ root, credentials: creds });
        const oss = new OSS({ accessKeyId: creds.accessKeyId, accessKeySecret: creds.accessKeySecret, bucket: h.BUCKET,
            region: h.REGION, endpoint: origin.base, sldEnable: true });
        const key = 'shared/Quarterly report é.bin';
        page = await servePage([{ id: 'direct', href: await oss.signatureUrlV4('GET', 600, {}, key), text: 'direct' }]);
        browser = await launchChromium();
    });
    after(async () => {
        if (browser)
            await browser.close();
        if (page)
            await page.close();
        await h.cleanupAll();
    });

    it('downloads an ali-oss presigned link with its name', { timeout: 30000 }, async () => {
        ready();
        const tab = await browser.context.newPage();
        await tab.goto(page.url);
        const got = await clickAndDownload(tab, 'direct', h.makeTempDir('saved-br1'));
        assert.equal(got.name, 'Quarterly report é.bin', `Chromium named it ${JSON.stringify(got.name)}`);
        h.assertSameBytes(got.bytes, OBJECTS['shared/Quarterly report é.bin'], 'Chromium download', origin.describe());
        await tab.close();
    });
});

describe('Chromium: share link through the gateway', { timeout: 90000 }, () => {
    const creds = h.makeCredentials();
    let origin;
    let gw;
    let browser;
    let page;
    const diag = () => `${gw ? gw.describe() : ''}\n${origin ? origin.describe() : ''}`;
    const ready = h.guardedBefore(async () => {
        const root = h.makeTempDir('objects-br2');
        h.writeObjects(root, OBJECTS);
        origin = await h.startOriginProcess({ root, credentials: creds });
        gw = await h.startGateway({
            listen: ['127.0.0.1:0'], workers: 1, log: { access: 'stdout', level: 'info' },
            credentials: { main: { from: 'env' } },
            backends: { origin: h.ossBackend(origin.port) },
            routes: [
                { prefix: '/files/', backend: 'origin', expires: '15m' },
                { prefix: '/dl/', backend: 'origin', expires: '15m', disposition: 'attachment' },
            ],
            health: '/healthz',
        }, { OSS_ACCESS_KEY_ID: creds.accessKeyId, OSS_ACCESS_KEY_SECRET: creds.accessKeySecret });
        page = await servePage([
            { id: 'bin', href: `${gw.base}/files/${h.encodeKeyPath('shared/Quarterly report é.bin')}`, text: 'report' },
            { id: 'emoji', href: `${gw.base}/files/${h.encodeKeyPath('emoji/🎉 party.bin')}`, text: 'party' },
            // text/plain would be shown, not saved, without the route's Content-Disposition: attachment
            { id: 'txt', href: `${gw.base}/dl/${h.encodeKeyPath('notes/日本語 メモ.txt')}`, text: 'notes' },
        ]);
        browser = await launchChromium();
    });
    after(async () => {
        if (browser)
            await browser.close();
        if (page)
            await page.close();
        await h.cleanupAll();
    });

    const cases = [
        ['bin', 'shared/Quarterly report é.bin', 'Quarterly report é.bin'],
        ['emoji', 'emoji/🎉 party.bin', '🎉 party.bin'],
        ['txt', 'notes/日本語 メモ.txt', '日本語 メモ.txt'],
    ];
    for (const [id, key, expectedName] of cases) {
        it(`clicking the ${JSON.stringify(key)} share link saves ${JSON.stringify(expectedName)} byte-identical`, { timeout: 30000 }, async () => {
            ready();
            const tab = await browser.context.newPage();
            try {
                await tab.goto(page.url);
                let got;
                try {
                    got = await clickAndDownload(tab, id, h.makeTempDir('saved-br2'));
                } catch (err) {
                    err.message += `\npage now at ${tab.url()}: ${(await tab.content().catch(() => '')).slice(0, 500)}\n${diag()}`;
                    throw err;
                }
                assert.ok(got.url.startsWith(`${origin.base}/${h.BUCKET}/`), `download URL ${got.url} is not on the origin`);
                assert.equal(got.name, expectedName, `Chromium named the download ${JSON.stringify(got.name)} (from ${got.url})`);
                h.assertSameBytes(got.bytes, OBJECTS[key], `Chromium download of ${key}`, diag());
            } finally {
                await tab.close();
            }
        });
    }
});
