#!/usr/bin/env node
// peer.js: the program a user would write instead of oss-gateway: Node's http server and the official Alibaba Cloud
// OSS SDK (ali-oss, pinned in package.json) presigning every request with signatureUrlV4, answered with a 302.
//
//   OSS_ACCESS_KEY_ID=... OSS_ACCESS_KEY_SECRET=... node peer.js [--port 0]
//
// prints `listening <port>` on stdout once it listens on 127.0.0.1; stops on SIGTERM.
'use strict';

const http = require('node:http');
const OSS = require('ali-oss');

const port = Number(process.argv[process.argv.indexOf('--port') + 1] || 0);
const client = new OSS({
    region: 'oss-cn-hangzhou',
    bucket: 'examplebucket',
    accessKeyId: process.env.OSS_ACCESS_KEY_ID,
    accessKeySecret: process.env.OSS_ACCESS_KEY_SECRET,
    secure: true,
    authorizationV4: true,
});
const PREFIX = '/files/';

function reply(res, status, text) {
    res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
    res.end(text);
}

const server = http.createServer(async (req, res) => {
    const q = req.url.indexOf('?');
    const path = q < 0 ? req.url : req.url.slice(0, q);
    if (!path.startsWith(PREFIX)) {
        return reply(res, 404, 'no route for this path\n');
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
        return reply(res, 405, 'method not allowed\n');
    }
    let key;
    try {
        key = decodeURIComponent(path.slice(PREFIX.length));
    } catch {
        return reply(res, 400, 'bad percent-encoding\n');
    }
    if (key === '') {
        return reply(res, 400, 'empty key\n');
    }
    const url = await client.signatureUrlV4(req.method, 900, {}, key);
    const body = `<!DOCTYPE html>\n<title>Found</title>\n<p>The file is <a href="${url.replace(/&/g, '&amp;')}">here</a>.</p>\n`;
    res.writeHead(302, {
        Location: url,
        'Cache-Control': 'no-store',
        'Content-Type': 'text/html; charset=utf-8',
        'Content-Length': Buffer.byteLength(body),
    });
    res.end(req.method === 'HEAD' ? undefined : body);
});
server.keepAliveTimeout = 60000;
server.headersTimeout = 61000;
server.listen(port, '127.0.0.1', () => console.log(`listening ${server.address().port}`));
process.on('SIGTERM', () => process.exit(0));
