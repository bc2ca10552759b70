#!/usr/bin/env node
// client.js: the two small clients of bench/run that wrk is not.
//
//   node client.js idle --port P --n N --paths FILE
//       opens N keep-alive connections, sends one GET on each and reads its 302, prints `ready <open> <failed>`, then
//       holds every connection open, idle, until SIGTERM or stdin closes.
//   node client.js seq --port P --n N --paths FILE [--close]
//       sends exactly N GETs one after another (one keep-alive connection, reopened when the server closes it; with
//       --close a new connection and `Connection: close` for each), checks each is a 302, prints `done <n>`.
'use strict';

const fs = require('node:fs');
const net = require('node:net');

function arg(name, def) {
    const i = process.argv.indexOf(name);
    return i < 0 ? def : process.argv[i + 1];
}
const mode = process.argv[2];
const port = Number(arg('--port'));
const n = Number(arg('--n', '1'));
const paths = fs.readFileSync(arg('--paths'), 'utf8').split('\n').filter(Boolean);
const close = process.argv.includes('--close');

function request(path) {
    return `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n${close ? 'Connection: close\r\n' : ''}\r\n`;
}

// Reads responses off one socket: calls onResponse(status, closes) for each whole response.
function reader(sock, onResponse) {
    let buf = Buffer.alloc(0);
    sock.on('data', d => {
        buf = buf.length ? Buffer.concat([buf, d]) : d;
        for (;;) {
            const end = buf.indexOf('\r\n\r\n');
            if (end < 0) {
                return;
            }
            const head = buf.subarray(0, end).toString('latin1');
            const len = Number((/\r\ncontent-length: *(\d+)/i.exec(head) || [0, 0])[1]);
            if (buf.length < end + 4 + len) {
                return;
            }
            buf = buf.subarray(end + 4 + len);
            onResponse(Number(head.slice(9, 12)), /\r\nconnection: *close/i.test(head));
        }
    });
}

function idle() {
    const socks = [];
    let open = 0;
    let failed = 0;
    let next = 0;
    let inflight = 0;
    const done = () => {
        if (open + failed === n) {
            console.log(`ready ${open} ${failed}`);
        }
    };
    const start = () => {
        while (inflight < 256 && next < n) {
            const i = next++;
            inflight++;
            const s = net.connect(port, '127.0.0.1');
            let answered = false;
            s.on('connect', () => s.write(request(paths[i % paths.length])));
            reader(s, status => {
                if (answered) {
                    return;
                }
                answered = true;
                inflight--;
                if (status === 302) {
                    open++;
                } else {
                    failed++;
                }
                done();
                start();
            });
            s.on('error', () => {});
            s.on('close', () => {
                if (!answered) {
                    answered = true;
                    inflight--;
                    failed++;
                    done();
                    start();
                } else if (socks[i]) {
                    socks[i] = null;
                }
            });
            socks[i] = s;
        }
    };
    start();
    const stop = () => {
        for (const s of socks) {
            if (s) {
                s.destroy();
            }
        }
        process.exit(0);
    };
    process.on('SIGTERM', stop);
    process.stdin.on('end', stop);
    process.stdin.resume();
}

function seq() {
    let sent = 0;
    let got = 0;
    let sock = null;
    const fail = why => {
        console.error(`client: ${why} after ${got} responses`);
        process.exit(1);
    };
    const connect = () => {
        const s = net.connect(port, '127.0.0.1');
        sock = s;
        s.setNoDelay(true);
        s.on('connect', () => send(s));
        s.on('error', err => fail(err.message));
        reader(s, (status, closes) => {
            if (status !== 302) {
                fail(`status ${status}`);
            }
            got++;
            if (got === n) {
                console.log(`done ${got}`);
                s.destroy();
                process.exit(0);
            }
            if (closes || close) {
                s.removeAllListeners('error');
                s.on('error', () => {});
                s.destroy();
                connect();
            } else {
                send(s);
            }
        });
    };
    const send = s => {
        if (s === sock && sent < n) {
            s.write(request(paths[sent % paths.length]));
            sent++;
        }
    };
    connect();
}

if (mode === 'idle') {
    idle();
} else if (mode === 'seq') {
    seq();
} else {
    console.error('usage: client.js idle|seq --port P --n N --paths FILE [--close]');
    process.exit(2);
}
