// Headless Chromium for the tests: Debian's /usr/bin/chromium driven by playwright-core (which never downloads a
// browser of its own), a fresh profile per launch, no proxy, nothing but 127.0.0.1.
'use strict';

const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { chromium } = require('playwright-core');

const h = require('./harness');

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--no-first-run',
    '--disable-component-update', '--disable-sync', '--disable-quic', '--no-proxy-server',
    '--disable-features=Translate,OptimizationHints,MediaRouter', '--password-store=basic'];

async function launchChromium() {
    if (!fs.existsSync(CHROMIUM))
        throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
    const userDataDir = h.makeTempDir('chromium-profile'); // --user-data-dir, fresh each launch
    const downloadsPath = h.makeTempDir('chromium-downloads');
    const context = await chromium.launchPersistentContext(userDataDir, {
        executablePath: CHROMIUM, headless: true, args: FLAGS, acceptDownloads: true, downloadsPath,
        timeout: 30000, env: h.cleanEnv(),
    });
    return { context, downloadsPath, close: () => context.close() };
}

// Serves one HTML page with share links on 127.0.0.1:0: links = [{id, href, text}].
async function servePage(links) {
    const html = ['<!doctype html>', '<meta charset="utf-8">', '<title>shared files</title>', '<ul>',
        ...links.map(l => `<li><a id="${l.id}" href="${l.href.replace(/&/g, '&amp;').replace(/"/g, '&quot;')}">${l.text}</a></li>`),
        '</ul>'].join('\n');
    const server = http.createServer((req, res) => {
        if (req.url === '/') {
            res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
            res.end(html);
        } else {
            res.writeHead(404);
            res.end();
        }
    });
    await new Promise(resolve => server.listen(0, '127.0.0.1', resolve));
    return {
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () => new Promise(resolve => {
            server.closeAllConnections();
            server.close(() => resolve());
        }),
    };
}

// Clicks #id on `page` and waits for the download it starts; returns {name, url, bytes, savedAs}.
async function clickAndDownload(page, id, saveDir, timeoutMs = 20000) {
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: timeoutMs }), page.click(`#${id}`)]);
    const failure = await download.failure();
    if (failure)
        throw new Error(`Chromium download of #${id} (${download.url()}) failed: ${failure}`);
    const name = download.suggestedFilename(); // the name Chromium chose (Content-Disposition or URL)
    const savedAs = path.join(saveDir, name);
    await download.saveAs(savedAs);
    return { name, url: download.url(), bytes: fs.readFileSync(savedAs), savedAs };
}

module.exports = { launchChromium, servePage, clickAndDownload, CHROMIUM };
