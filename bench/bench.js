#!/usr/bin/env node
// bench.js: the side-by-side benchmark of issue 7 and the signer micro-benchmark of issue 2. Started by bench/run,
// which builds, installs the Node peer's packages and raises the open-file limit first; see bench/README.md.
//
// Every server runs pinned to core 0 and wrk to core 1 (taskset), on 127.0.0.1 only. Every process it starts is
// stopped by its PID, every run is bounded in time, and its temporary directory is removed at the end.
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');

const { keys } = require('./keys');
const { verifyLocation } = require('./verify');

const HERE = __dirname;
const PARTS = ['sgn', 'compare', 'idle', 'workers', 'callgrind'];

// ---- options ----

function usage(code) {
    (code ? console.error : console.log)(`usage: bench/run [options]
  --build DIR       build directory holding gateway/oss-gateway and bench/sgn_bench (default: build-bench)
  --parts LIST      comma-separated subset of ${PARTS.join(',')} (default: all)
  --rounds N        alternating rounds of the comparison (default 5)
  --duration S      seconds per timed wrk run (default 5)
  --conns N         wrk connections (default 64)
  --idle N          idle keep-alive connections for the RSS figure (default 10000)
  --quick           1 round of 2 s, 1000 idle connections: a smoke test of the script, not figures
  --targets LIST    comparison targets, a subset of nginx,node+ali-oss,gateway,gateway+log (default: all)
  --baseline BIN    also time this oss-gateway binary, as target "gateway@<its directory's name>" (an A/B of a
                    change; may be given more than once)
  --modes LIST      keepalive,close or one of them (default: both)
  --out FILE        also write the report (markdown) and FILE.json (default: bench/out/results-<time>.md)
  --results DIR     where the data (JSON, CSV) and the plots (SVG, PNG) go (default: bench/results, which is
                    committed; with --quick, bench/out/plots)`);
    process.exit(code);
}

const opt = { build: path.join(HERE, '..', 'build-bench'), parts: PARTS, rounds: 5, duration: 5, conns: 64, idle: 10000 };
for (let i = 2; i < process.argv.length; i++) {
    const a = process.argv[i];
    const v = () => {
        if (i + 1 >= process.argv.length) {
            usage(2);
        }
        return process.argv[++i];
    };
    if (a === '--build') {
        opt.build = path.resolve(v());
    } else if (a === '--parts') {
        opt.parts = v().split(',');
        if (opt.parts.some(p => !PARTS.includes(p))) {
            usage(2);
        }
    } else if (a === '--rounds') {
        opt.rounds = Number(v());
    } else if (a === '--duration') {
        opt.duration = Number(v());
    } else if (a === '--conns') {
        opt.conns = Number(v());
    } else if (a === '--idle') {
        opt.idle = Number(v());
    } else if (a === '--quick') {
        Object.assign(opt, { rounds: 1, duration: 2, idle: 1000, quick: true });
    } else if (a === '--targets') {
        opt.targets = v().split(',');
    } else if (a === '--baseline') {
        (opt.baseline = opt.baseline || []).push(path.resolve(v()));
    } else if (a === '--modes') {
        opt.modes = v().split(',');
    } else if (a === '--out') {
        opt.out = path.resolve(v());
    } else if (a === '--results') {
        opt.results = path.resolve(v());
    } else if (a === '--help' || a === '-h') {
        usage(0);
    } else {
        usage(2);
    }
}
const GATEWAY = path.join(opt.build, 'gateway', 'oss-gateway');
const SGN_BENCH = path.join(opt.build, 'bench', 'sgn_bench');
const MODES = opt.modes || ['keepalive', 'close'];
const SERVER_CPU = '0';
const CLIENT_CPU = '1';
const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK']).stdout.toString().trim()) || 100;

// Fake credentials of Alibaba Cloud's shapes: nothing here talks to a real store.
const CREDS = { id: 'LTAI5tBenchmarkKeyId0001', secret: 'bEnChMaRkSeCrEtOfThIrTyByTeS00' };
const STORE = { bucket: 'examplebucket', region: 'cn-hangzhou', host: 'examplebucket.oss-cn-hangzhou.aliyuncs.com', expires: 900 };
const ENV = { ...process.env, OSS_ACCESS_KEY_ID: CREDS.id, OSS_ACCESS_KEY_SECRET: CREDS.secret };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-bench-'));
const KEYS = keys(1000);
const PATHS = path.join(tmp, 'paths.txt');
fs.writeFileSync(PATHS, KEYS.map(k => k.path).join('\n') + '\n');

// ---- small helpers ----

const sleep = ms => new Promise(r => setTimeout(r, ms));
const median = xs => {
    const s = xs.filter(x => Number.isFinite(x)).sort((a, b) => a - b);
    if (s.length === 0) {
        return NaN;
    }
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const loadavg = () => fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
const log = (...a) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...a);

function procStat(pid) {
    try {
        const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
        return s.slice(s.lastIndexOf(')') + 2).split(' '); // field 3 (state) is index 0
    } catch {
        return null;
    }
}

// cpuTicks sums utime + stime of `pids` (each a whole process: all its threads).
function cpuTicks(pids) {
    let t = 0;
    for (const pid of pids) {
        const f = procStat(pid);
        if (f) {
            t += Number(f[11]) + Number(f[12]);
        }
    }
    return t;
}

// core0Busy is the busy time of the server's core, in ticks, from /proc/stat: what else ran there shows as the
// difference from the server's own ticks.
function coreBusy(cpu) {
    const line = fs.readFileSync('/proc/stat', 'utf8').split('\n').find(l => l.startsWith(`cpu${cpu} `));
    const f = line.trim().split(/\s+/).slice(1).map(Number);
    return f[0] + f[1] + f[2] + f[5] + f[6] + f[7]; // user nice system irq softirq steal
}

function statusKiB(pid, field) {
    try {
        const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
        return m ? Number(m[1]) : NaN;
    } catch {
        return NaN;
    }
}

function childrenOf(pid) {
    const out = [];
    for (const d of fs.readdirSync('/proc')) {
        if (/^\d+$/.test(d)) {
            const f = procStat(d);
            if (f && Number(f[1]) === pid) {
                out.push(Number(d));
            }
        }
    }
    return out;
}

function alive(pid) {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

function freePort() {
    return new Promise((resolve, reject) => {
        const s = net.createServer();
        s.on('error', reject);
        s.listen(0, '127.0.0.1', () => {
            const { port } = s.address();
            s.close(() => resolve(port));
        });
    });
}

// ---- processes: every one is tracked and stopped by PID ----

const live = new Map(); // pid -> {name, proc, extra: () => [pids]}

function startProc(name, cmd, args, { env = ENV, ready, stream = 'stderr', timeoutMs = 20000 } = {}) {
    return new Promise((resolve, reject) => {
        const proc = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
        const rec = { name, proc, out: '', extra: () => [] };
        live.set(proc.pid, rec);
        let done = false;
        const timer = setTimeout(() => {
            if (!done) {
                done = true;
                reject(new Error(`${name}: not ready in ${timeoutMs} ms\n${rec.out}`));
            }
        }, timeoutMs);
        const onData = which => d => {
            if (rec.out.length < 65536) {
                rec.out += d.toString();
            }
            if (!done && ready && which === stream) {
                const m = ready.exec(rec.out);
                if (m) {
                    done = true;
                    clearTimeout(timer);
                    resolve({ ...rec, pid: proc.pid, match: m });
                }
            }
        };
        proc.stdout.on('data', onData('stdout'));
        proc.stderr.on('data', onData('stderr'));
        proc.on('error', err => {
            if (!done) {
                done = true;
                clearTimeout(timer);
                reject(new Error(`${name}: ${err.message}`));
            }
        });
        proc.on('exit', (code, sig) => {
            rec.exited = true;
            if (!done) {
                done = true;
                clearTimeout(timer);
                reject(new Error(`${name}: exited (${code ?? sig}) before it was ready\n${rec.out}`));
            }
        });
        if (!ready) {
            done = true;
            clearTimeout(timer);
            resolve({ ...rec, pid: proc.pid });
        }
    });
}

async function stopProc(pid, graceMs = 10000) {
    const rec = live.get(pid);
    if (!rec) {
        return;
    }
    const extra = rec.extra();
    if (!rec.exited) {
        try {
            process.kill(pid, 'SIGTERM');
        } catch {}
        const until = Date.now() + graceMs;
        while (!rec.exited && Date.now() < until) {
            await sleep(20);
        }
        if (!rec.exited) {
            try {
                process.kill(pid, 'SIGKILL');
            } catch {}
            await sleep(100);
        }
    }
    for (const x of extra) {
        if (alive(x)) {
            try {
                process.kill(x, 'SIGKILL');
            } catch {}
        }
    }
    live.delete(pid);
}

function killAllNow() {
    for (const [pid, rec] of live) {
        for (const x of rec.extra()) {
            try {
                process.kill(x, 'SIGKILL');
            } catch {}
        }
        try {
            process.kill(pid, 'SIGKILL');
        } catch {}
    }
    live.clear();
    fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('SIGINT', () => {
    killAllNow();
    process.exit(130);
});
process.on('SIGTERM', () => {
    killAllNow();
    process.exit(143);
});

// run runs a command to its end (bounded by `timeoutMs`) and returns its output.
function run(cmd, args, { timeoutMs = 120000, env = ENV } = {}) {
    return new Promise((resolve, reject) => {
        const proc = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
        live.set(proc.pid, { name: cmd, proc, extra: () => [] });
        let out = '';
        let err = '';
        proc.stdout.on('data', d => (out += d));
        proc.stderr.on('data', d => (err += d));
        const timer = setTimeout(() => {
            try {
                process.kill(proc.pid, 'SIGKILL');
            } catch {}
        }, timeoutMs);
        proc.on('error', e => {
            clearTimeout(timer);
            live.delete(proc.pid);
            reject(e);
        });
        proc.on('exit', (code, sig) => {
            clearTimeout(timer);
            live.delete(proc.pid);
            resolve({ code, sig, out, err });
        });
    });
}

// ---- the servers ----

function gatewayYaml(name, { workers = 1, access = 'off' } = {}) {
    const file = path.join(tmp, `${name}.yaml`);
    fs.writeFileSync(
        file,
        `listen: ["127.0.0.1:0"]
workers: ${workers}
limits: {max_connections: 30000, max_connections_per_ip: 30000, idle_timeout: 120s}
log: {access: ${access}, level: info}
credentials:
  default: {from: env}
backends:
  main: {type: oss, region: ${STORE.region}, bucket: ${STORE.bucket}, endpoint: oss-cn-hangzhou.aliyuncs.com,
         addressing: virtual, scheme: https}
routes:
  - {prefix: /files/, backend: main, expires: 15m, sign_window: 0s}
`
    );
    return file;
}

async function startGateway(name, { workers = 1, access = 'off', cpus = SERVER_CPU, bin = GATEWAY } = {}) {
    const yaml = gatewayYaml(name, { workers, access });
    const p = await startProc(name, 'taskset', ['-c', cpus, bin, '-c', yaml], { ready: /listening on 127\.0\.0\.1:(\d+)/ });
    return { name, kind: 'gateway', pid: p.pid, port: Number(p.match[1]), pids: () => [p.pid], signs: true };
}

async function startPeer(name, { cpus = SERVER_CPU } = {}) {
    const p = await startProc(name, 'taskset', ['-c', cpus, process.execPath, path.join(HERE, 'peer.js'), '--port', '0'], {
        ready: /listening (\d+)/,
        stream: 'stdout',
    });
    return { name, kind: 'peer', pid: p.pid, port: Number(p.match[1]), pids: () => [p.pid], signs: true };
}

async function startNginx(name, url, { workers = 1, cpus = SERVER_CPU, masterProcess = true, prefixCmd = [], conns = 1024 } = {}) {
    const dir = path.join(tmp, name);
    fs.mkdirSync(dir, { recursive: true });
    const port = await freePort();
    let conf = fs
        .readFileSync(path.join(HERE, 'nginx.conf.in'), 'utf8')
        .replaceAll('@DIR@', dir)
        .replaceAll('@PORT@', String(port))
        .replaceAll('@WORKERS@', String(workers))
        .replaceAll('@CONNS@', String(conns))
        .replaceAll('@URL@', url);
    if (!masterProcess) {
        conf = conf.replace('master_process on;', 'master_process off;');
    }
    fs.writeFileSync(path.join(dir, 'nginx.conf'), conf);
    const args = ['-c', cpus, ...prefixCmd, 'nginx', '-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', path.join(dir, 'error.log')];
    const p = await startProc(name, 'taskset', args);
    // Ready when it accepts a connection (nginx prints nothing on success).
    const until = Date.now() + 20000;
    for (;;) {
        const ok = await new Promise(resolve => {
            const s = net.connect(port, '127.0.0.1');
            s.on('connect', () => {
                s.destroy();
                resolve(true);
            });
            s.on('error', () => resolve(false));
        });
        if (ok) {
            break;
        }
        if (Date.now() > until || live.get(p.pid) === undefined || live.get(p.pid).exited) {
            throw new Error(`${name}: nginx did not start\n${fs.existsSync(path.join(dir, 'error.log')) ? fs.readFileSync(path.join(dir, 'error.log'), 'utf8') : ''}`);
        }
        await sleep(50);
    }
    const workersOf = () => (masterProcess ? childrenOf(p.pid) : []);
    live.get(p.pid).extra = workersOf;
    return { name, kind: 'nginx', pid: p.pid, port, pids: () => [p.pid, ...workersOf()], workerPids: workersOf, signs: false, url };
}

// ---- checking a target's answers before it is timed ----

function get(port, p, headers = {}) {
    return new Promise((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, path: p, method: 'GET', agent: false, headers }, res => {
            res.resume();
            res.on('end', () => resolve(res));
        });
        req.setTimeout(5000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end();
    });
}

async function check(target) {
    const sample = KEYS.filter((_, i) => i % 50 === 7);
    for (const k of sample) {
        const res = await get(target.port, k.path);
        if (res.statusCode !== 302) {
            throw new Error(`${target.name}: ${k.path} answered ${res.statusCode}, not 302`);
        }
        if (target.signs) {
            verifyLocation(res.headers.location, { key: k.key, ...STORE, creds: CREDS });
        } else if (res.headers.location !== target.url) {
            throw new Error(`${target.name}: Location is not the fixed URL`);
        }
    }
    return sample.length;
}

// ---- wrk ----

function parseDuration(v, unit) {
    const x = Number(v);
    return unit === 'us' ? x : unit === 'ms' ? x * 1000 : unit === 's' ? x * 1e6 : unit === 'm' ? x * 60e6 : NaN;
}

async function wrk(port, { close = false, duration = opt.duration, conns = opt.conns, threads = 1, cpus = CLIENT_CPU } = {}) {
    const args = ['-c', cpus, 'wrk', '-t', String(threads), '-c', String(conns), '-d', `${duration}s`, '--timeout', '5s', '--latency'];
    if (close) {
        args.push('-H', 'Connection: close');
    }
    args.push('-s', path.join(HERE, 'wrk.lua'), `http://127.0.0.1:${port}/`, '--', PATHS);
    const r = await run('taskset', args, { timeoutMs: (duration + 30) * 1000 });
    const o = r.out;
    const m = /(\d+) requests in ([\d.]+)(\w+)/.exec(o);
    if (r.code !== 0 || !m) {
        throw new Error(`wrk failed (${r.code ?? r.sig}): ${o}${r.err}`);
    }
    const lat = {};
    for (const [, pct, v, unit] of o.matchAll(/^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$/gm)) {
        lat[pct] = parseDuration(v, unit);
    }
    const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(o);
    const non3xx = /Non-2xx or 3xx responses: (\d+)/.exec(o);
    return {
        requests: Number(m[1]),
        rps: Number((/Requests\/sec:\s+([\d.]+)/.exec(o) || [])[1]),
        p50: lat['50'],
        p99: lat['99'],
        errors: se ? se.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
        non3xx: non3xx ? Number(non3xx[1]) : 0,
        raw: o,
    };
}

async function measure(target, mode, wrkOpts = {}) {
    const pids = target.pids();
    const c0 = cpuTicks(pids);
    const b0 = coreBusy(SERVER_CPU);
    const k0 = coreBusy(CLIENT_CPU);
    const t0 = process.hrtime.bigint();
    const w = await wrk(target.port, { close: mode === 'close', ...wrkOpts });
    const wall = Number(process.hrtime.bigint() - t0) / 1e9;
    const ticks = cpuTicks(pids) - c0;
    const busy = coreBusy(SERVER_CPU) - b0;
    const kbusy = coreBusy(CLIENT_CPU) - k0;
    const r = {
        target: target.name,
        mode,
        rps: w.rps,
        p50: w.p50,
        p99: w.p99,
        cpu_us: (ticks / CLK_TCK) * 1e6 / w.requests,
        server_util: ticks / CLK_TCK / wall,
        core0_other: Math.max(0, busy - ticks) / CLK_TCK / wall,
        core1_busy: kbusy / CLK_TCK / wall, /* wrk's core: near 100% means the client, not the server, is the limit */
        errors: w.errors,
        non3xx: w.non3xx,
        requests: w.requests,
        load: loadavg(),
    };
    log(
        `${r.target.padEnd(12)} ${mode.padEnd(9)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${fmtUs(r.p50)}  p99 ${fmtUs(r.p99)}  ` +
            `cpu ${r.cpu_us.toFixed(1)} us/req  util ${(r.server_util * 100).toFixed(0)}%  other@core0 ${(r.core0_other * 100).toFixed(0)}%  core1 ${(r.core1_busy * 100).toFixed(0)}%` +
            `${r.errors || r.non3xx ? `  errors ${r.errors} non3xx ${r.non3xx}` : ''}  load ${r.load}`
    );
    return r;
}

const CENSUS = ['epoll_wait', 'epoll_ctl', 'accept4', 'recvfrom', 'sendto', 'writev', 'setsockopt', 'shutdown', 'close'];
let perfOk;

// census counts the server's system calls per request during one wrk run, with perf's syscall tracepoints (no hardware
// counters needed). A deterministic complement to the CPU time, which other work on the machine makes noisy.
async function census(target, mode, duration = 3) {
    if (perfOk === undefined) {
        perfOk = spawnSync('perf', ['stat', '-e', 'raw_syscalls:sys_enter', 'true']).status === 0;
    }
    if (!perfOk) {
        return null;
    }
    const events = ['raw_syscalls:sys_enter', ...CENSUS.map(s => `syscalls:sys_enter_${s}`)];
    const perf = run('perf', ['stat', '-x', ',', '-e', events.join(','), '-p', target.pids().join(','), '--', 'sleep', String(duration + 1)], {
        timeoutMs: (duration + 30) * 1000,
    });
    await sleep(300);
    const w = await wrk(target.port, { close: mode === 'close', duration, ...(target.wrkOpts || {}) });
    const r = await perf;
    const counts = {};
    for (const line of r.err.split('\n')) {
        const f = line.split(',');
        const m = /^(?:raw_)?syscalls:sys_enter_?(\w*)$/.exec(f[2] || '');
        if (m) {
            counts[m[1] || 'all'] = Number(f[0]);
        }
    }
    const per = {};
    for (const [k, v] of Object.entries(counts)) {
        per[k] = v / w.requests;
    }
    log(`${target.name.padEnd(12)} ${mode.padEnd(9)} syscalls/request ${per.all.toFixed(2)}: ` + CENSUS.filter(k => per[k] > 0.005).map(k => `${k} ${per[k].toFixed(2)}`).join(', '));
    return per;
}

function fmtUs(us) {
    return us >= 1000 ? `${(us / 1000).toFixed(2)}ms` : `${us.toFixed(0)}us`;
}
const mib = kib => (kib / 1024).toFixed(1);

// ---- the parts ----

const report = { started: new Date().toISOString(), host: {}, options: { ...opt }, parts: {} };
const md = [];

function hostInfo() {
    report.host = {
        cpus: os.cpus().length,
        model: os.cpus()[0].model,
        kernel: os.release(),
        uptime_start: spawnSync('uptime').stdout.toString().trim(),
        nginx: spawnSync('nginx', ['-v']).stderr.toString().trim(),
        wrk: spawnSync('wrk', ['-v']).stdout.toString().split('\n')[0].trim(),
        node: process.version,
        ali_oss: require('ali-oss/package.json').version,
        gateway: spawnSync(GATEWAY, ['--version']).stdout.toString().trim(),
        commit: spawnSync('git', ['-C', HERE, 'rev-parse', '--short', 'HEAD']).stdout.toString().trim(),
        dirty: spawnSync('git', ['-C', HERE, 'status', '--porcelain', '--', '../gateway', '../signer']).stdout.toString().trim() !== '',
    };
}

async function partSgn() {
    log('signer micro-benchmark');
    const r = await run('taskset', ['-c', SERVER_CPU, SGN_BENCH], { timeoutMs: 300000 });
    if (r.code !== 0) {
        throw new Error(`sgn_bench failed: ${r.out}${r.err}`);
    }
    const best = Number(/ns_per_presign_best ([\d.]+)/.exec(r.out)[1]);
    const med = Number(/ns_per_presign_median ([\d.]+)/.exec(r.out)[1]);
    const urlBytes = Number(/url_bytes (\d+)/.exec(r.out)[1]);
    const ir = {};
    const heap = {};
    const N = [1000, 2000];
    for (const n of N) {
        const out = path.join(tmp, `sgn.cg.${n}`);
        const c = await run('valgrind', ['--tool=callgrind', `--callgrind-out-file=${out}`, SGN_BENCH, '--count', String(n)], {
            timeoutMs: 300000,
        });
        if (c.code !== 0) {
            throw new Error(`sgn_bench under callgrind failed: ${c.err}`);
        }
        ir[n] = Number(/^summary: (\d+)/m.exec(fs.readFileSync(out, 'utf8'))[1]);
        const mc = await run('valgrind', ['--tool=memcheck', SGN_BENCH, '--count', String(n)], { timeoutMs: 300000 });
        heap[n] = Number(/total heap usage: ([\d,]+) allocs/.exec(mc.err)[1].replaceAll(',', ''));
    }
    const res = {
        ns_best: best,
        ns_median: med,
        url_bytes: urlBytes,
        ir_per_presign: (ir[N[1]] - ir[N[0]]) / (N[1] - N[0]),
        allocs_per_presign: (heap[N[1]] - heap[N[0]]) / (N[1] - N[0]),
        ir,
        heap,
    };
    report.parts.sgn = res;
    md.push(
        '## Signer micro-benchmark (bench/sgn_bench)',
        '',
        `OSS V4 GET, virtual-hosted https, cached signing key, ${urlBytes}-byte URL; pinned to core ${SERVER_CPU}.`,
        '',
        '| ns/presign (best / median of 7 x 200k) | instructions/presign (callgrind, 2N-N) | heap allocations/presign |',
        '|---|---|---|',
        `| ${best} / ${med} | ${res.ir_per_presign.toFixed(0)} | ${res.allocs_per_presign} (memcheck: ${heap[N[0]]} vs ${heap[N[1]]} for N=${N[0]}, ${N[1]}; interposed malloc count in the loop: 0) |`,
        ''
    );
    log(`signer: ${best} ns best, ${med} ns median, ${res.ir_per_presign.toFixed(0)} Ir/presign, ${res.allocs_per_presign} allocs/presign`);
}

async function partCompare() {
    log('comparison: starting the servers');
    const gw = await startGateway('gateway');
    // nginx's fixed Location is a real gateway URL for a typical key: the same shape and length as what is signed.
    const first = await get(gw.port, KEYS[0].path);
    const fixedUrl = first.headers.location;
    const want = opt.targets || ['nginx', 'node+ali-oss', 'gateway', 'gateway+log'];
    const targets = [await startNginx('nginx', fixedUrl)]; // the baseline of every ratio, always timed
    if (want.includes('node+ali-oss')) {
        targets.push(await startPeer('node+ali-oss'));
    }
    if (want.includes('gateway')) {
        targets.push(gw);
    }
    if (want.includes('gateway+log')) {
        targets.push(await startGateway('gateway+log', { access: path.join(tmp, 'access.log') }));
    }
    for (const bin of opt.baseline || []) {
        targets.push(await startGateway(`gateway@${path.basename(path.dirname(bin))}`, { bin }));
    }
    for (const t of targets) {
        const n = await check(t);
        log(`${t.name}: ${n} Locations checked${t.signs ? ' with ali-oss (valid V4 signatures for the keys asked)' : ' (the fixed URL; not re-signed)'}`);
    }
    log(`warm-up (${opt.quick ? 1 : 2} s each)`);
    for (const t of targets) {
        await wrk(t.port, { duration: opt.quick ? 1 : 2 });
        await wrk(t.port, { duration: 1, close: true });
    }
    const results = [];
    for (let r = 0; r < opt.rounds; r++) {
        const order = targets.map((_, i) => targets[(i + r) % targets.length]);
        log(`round ${r + 1}/${opt.rounds}: ${order.map(t => t.name).join(', ')}`);
        for (const mode of MODES) {
            for (const t of order) {
                results.push({ round: r + 1, ...(await measure(t, mode)) });
            }
        }
    }
    const syscalls = {};
    for (const mode of MODES) {
        for (const t of targets) {
            syscalls[`${t.name}/${mode}`] = await census(t, mode);
        }
    }
    for (const t of targets) {
        await check(t); // still signing correctly after the load
    }
    const rss = {};
    for (const t of targets) {
        if (t.kind === 'nginx') {
            const w = t.workerPids();
            rss[t.name] = { hwm: w.reduce((a, p) => a + statusKiB(p, 'VmHWM'), 0), master: statusKiB(t.pid, 'VmHWM') };
        } else {
            rss[t.name] = { hwm: statusKiB(t.pid, 'VmHWM') };
        }
    }
    const logBytes = fs.existsSync(path.join(tmp, 'access.log')) ? fs.statSync(path.join(tmp, 'access.log')).size : 0;
    for (const t of targets) {
        await stopProc(t.pid);
    }
    await stopProc(gw.pid); /* a no-op when it was one of the targets */
    fs.rmSync(path.join(tmp, 'access.log'), { force: true });

    // Ratios to nginx are paired: each round's figure over nginx's in the same round and mode (minutes apart at most),
    // then the median over the rounds, which cancels most of the drift of a shared virtual machine's speed.
    const ratio = (t, mode, key) =>
        median(
            results
                .filter(x => x.target === t.name && x.mode === mode)
                .map(x => x[key] / (results.find(n => n.target === 'nginx' && n.mode === mode && n.round === x.round) || {})[key])
        );
    const summary = {};
    for (const t of targets) {
        for (const mode of MODES) {
            const rs = results.filter(x => x.target === t.name && x.mode === mode);
            summary[`${t.name}/${mode}`] = {
                rps_x: ratio(t, mode, 'rps'),
                p99_x: ratio(t, mode, 'p99'),
                cpu_x: ratio(t, mode, 'cpu_us'),
                rps: median(rs.map(x => x.rps)),
                p50: median(rs.map(x => x.p50)),
                p99: median(rs.map(x => x.p99)),
                cpu_us: median(rs.map(x => x.cpu_us)),
                util: median(rs.map(x => x.server_util)),
                other: median(rs.map(x => x.core0_other)),
                client: median(rs.map(x => x.core1_busy)),
                errors: rs.reduce((a, x) => a + x.errors + x.non3xx, 0),
            };
        }
    }
    report.parts.compare = { results, summary, rss, syscalls, fixed_url: fixedUrl, access_log_bytes: logBytes };
    md.push(
        `## Side by side: ${opt.conns} connections, ${opt.duration} s x ${opt.rounds} alternating rounds, medians`,
        '',
        `Server on core ${SERVER_CPU}, wrk -t1 on core ${CLIENT_CPU}; keys rotate over ${KEYS.length} names. nginx answers a fixed ${fixedUrl.length}-byte URL ` +
            `(${fixedUrl.length - fixedUrl.indexOf('?') - 1} bytes of query), every other target signs each request.`,
        '',
        'Ratios (x nginx) are medians of per-round ratios to nginx in the same round. Server core busy: the server\'s CPU time over the run\'s wall time; ' +
            'wrk\'s core: how busy core 1 was (near 100%: the client, not the server, set the pace); other: what else ran on core 0.',
        '',
        '| target | mode | req/s | x nginx | p50 | p99 | p99 x nginx | server CPU us/req | x nginx | server core busy | wrk\'s core | other on core 0 | errors |',
        '|---|---|---|---|---|---|---|---|---|---|---|---|---|'
    );
    for (const mode of MODES) {
        for (const t of targets) {
            const s = summary[`${t.name}/${mode}`];
            md.push(
                `| ${t.name} | ${mode} | ${s.rps.toFixed(0)} | ${s.rps_x.toFixed(2)} | ${fmtUs(s.p50)} | ${fmtUs(s.p99)} | ${s.p99_x.toFixed(2)} | ` +
                    `${s.cpu_us.toFixed(1)} | ${s.cpu_x.toFixed(2)} | ${(s.util * 100).toFixed(0)}% | ${(s.client * 100).toFixed(0)}% | ${(s.other * 100).toFixed(0)}% | ${s.errors} |`
            );
        }
    }
    md.push('', '| target | peak RSS (VmHWM) over all rounds |', '|---|---|');
    for (const t of targets) {
        md.push(`| ${t.name} | ${mib(rss[t.name].hwm)} MiB${rss[t.name].master ? ` (worker; master ${mib(rss[t.name].master)} MiB)` : ''} |`);
    }
    if (Object.values(syscalls).some(Boolean)) {
        md.push('', 'System calls per request (perf syscall tracepoints, one extra 3 s run each):', '', `| target | mode | all | ${CENSUS.join(' | ')} |`, `|---|---|---|${CENSUS.map(() => '---|').join('')}`);
        for (const mode of MODES) {
            for (const t of targets) {
                const p = syscalls[`${t.name}/${mode}`];
                if (p) {
                    md.push(`| ${t.name} | ${mode} | ${p.all.toFixed(2)} | ${CENSUS.map(k => (p[k] || 0).toFixed(2)).join(' | ')} |`);
                }
            }
        }
    }
    md.push('', `The access log written by gateway+log: ${(logBytes / 1048576).toFixed(0)} MiB.`, '');
}

async function partIdle() {
    const n = opt.idle;
    // RSS at a few counts up to n, each from a fresh server, so the plot shows how memory grows with idle connections.
    const counts = [...new Set([Math.round(n / 10), Math.round(n / 2), n].filter(c => c > 0))];
    log(`RSS with ${counts.join(', ')} idle keep-alive connections`);
    const rows = [];
    const gw0 = await startGateway('gw-url');
    const fixedUrl = (await get(gw0.port, KEYS[0].path)).headers.location;
    await stopProc(gw0.pid);
    for (const start of [() => startGateway('gateway'), () => startNginx('nginx', fixedUrl, { conns: 30000 }), () => startPeer('node+ali-oss')]) {
        for (const count of counts) {
            const t = await start();
            await check(t);
            const memPids = t.kind === 'nginx' ? t.workerPids() : [t.pid];
            const before = memPids.reduce((a, p) => a + statusKiB(p, 'VmRSS'), 0);
            const c = await startProc(`idle-client-${t.name}`, 'taskset', ['-c', CLIENT_CPU, process.execPath, path.join(HERE, 'client.js'), 'idle', '--port', String(t.port), '--n', String(count), '--paths', PATHS], {
                ready: /ready (\d+) (\d+)/,
                stream: 'stdout',
                timeoutMs: 180000,
            });
            await sleep(1000);
            const open = Number(c.match[1]);
            const failed = Number(c.match[2]);
            const rss = memPids.reduce((a, p) => a + statusKiB(p, 'VmRSS'), 0);
            const hwm = memPids.reduce((a, p) => a + statusKiB(p, 'VmHWM'), 0);
            await stopProc(c.pid);
            await stopProc(t.pid);
            rows.push({ target: t.name, count, open, failed, before, rss, hwm });
            log(`${t.name}: ${open} open (${failed} failed): RSS ${mib(before)} -> ${mib(rss)} MiB, peak ${mib(hwm)} MiB`);
        }
    }
    report.parts.idle = rows;
    md.push(`## Idle keep-alive connections (each sent one request, then idles)`, '', '| target | connections held | RSS before | RSS holding them | peak RSS | per connection |', '|---|---|---|---|---|---|');
    for (const r of rows) {
        md.push(`| ${r.target} | ${r.open}${r.failed ? ` (${r.failed} refused)` : ''} | ${mib(r.before)} MiB | ${mib(r.rss)} MiB | ${mib(r.hwm)} MiB | ${(((r.rss - r.before) * 1024) / Math.max(1, r.open)).toFixed(0)} B |`);
    }
    md.push('');
}

async function partWorkers() {
    log('workers: 1 (pinned) vs 2 (sharing both cores with wrk)');
    const gw0 = await startGateway('gw-url');
    const fixedUrl = (await get(gw0.port, KEYS[0].path)).headers.location;
    await stopProc(gw0.pid);
    const configs = [
        { name: 'gateway w1', start: () => startGateway('gateway-w1'), wrk: { threads: 1, cpus: CLIENT_CPU } },
        { name: 'gateway w2', start: () => startGateway('gateway-w2', { workers: 2, cpus: '0,1' }), wrk: { threads: 2, cpus: '0,1' } },
        { name: 'nginx w1', start: () => startNginx('nginx-w1', fixedUrl), wrk: { threads: 1, cpus: CLIENT_CPU } },
        { name: 'nginx w2', start: () => startNginx('nginx-w2', fixedUrl, { workers: 2, cpus: '0,1' }), wrk: { threads: 2, cpus: '0,1' } },
    ];
    const targets = [];
    for (const c of configs) {
        const t = await c.start();
        t.name = c.name;
        t.wrkOpts = c.wrk;
        await check(t);
        await wrk(t.port, { duration: 1, ...c.wrk });
        targets.push(t);
    }
    const rounds = Math.max(1, Math.min(3, opt.rounds));
    const results = [];
    for (let r = 0; r < rounds; r++) {
        for (const mode of MODES) {
            for (const t of targets) {
                results.push(await measure(t, mode, t.wrkOpts));
            }
        }
    }
    for (const t of targets) {
        await stopProc(t.pid);
    }
    report.parts.workers = results;
    md.push(
        `## workers: 1 vs 2 (${rounds} rounds, medians)`,
        '',
        'w1: server on core 0, wrk -t1 on core 1. w2: server (2 workers) and wrk -t2 both free to use cores 0-1.',
        '',
        '| config | mode | req/s | p99 | server CPU us/req |',
        '|---|---|---|---|---|'
    );
    for (const mode of MODES) {
        for (const t of targets) {
            const rs = results.filter(x => x.target === t.name && x.mode === mode);
            md.push(`| ${t.name} | ${mode} | ${median(rs.map(x => x.rps)).toFixed(0)} | ${fmtUs(median(rs.map(x => x.p99)))} | ${median(rs.map(x => x.cpu_us)).toFixed(1)} |`);
        }
    }
    md.push('');
}

// callgrindRun starts `startFn` under callgrind, sends exactly n requests with client.js seq, stops it with SIGTERM and
// returns the total instructions (Ir) of the run.
async function callgrindRun(name, n, close, startFn) {
    const out = path.join(tmp, `${name}.${n}.${close ? 'close' : 'ka'}.cg`);
    const t = await startFn(out);
    const args = ['-c', CLIENT_CPU, process.execPath, path.join(HERE, 'client.js'), 'seq', '--port', String(t.port), '--n', String(n), '--paths', PATHS];
    if (close) {
        args.push('--close');
    }
    const r = await run('taskset', args, { timeoutMs: 600000 });
    if (r.code !== 0) {
        throw new Error(`${name}: client failed: ${r.out}${r.err}`);
    }
    await stopProc(t.pid, 60000);
    const text = fs.readFileSync(out, 'utf8');
    return Number(/^summary: (\d+)/m.exec(text)[1]);
}

async function partCallgrind() {
    log('instructions per request under callgrind');
    const gw0 = await startGateway('gw-url');
    const fixedUrl = (await get(gw0.port, KEYS[0].path)).headers.location;
    await stopProc(gw0.pid);
    const vg = out => ['valgrind', '--tool=callgrind', `--callgrind-out-file=${out}`];
    const servers = {
        gateway: async out => {
            const yaml = gatewayYaml('gateway-cg');
            const p = await startProc('gateway-cg', 'taskset', ['-c', SERVER_CPU, ...vg(out), GATEWAY, '-c', yaml], {
                ready: /listening on 127\.0\.0\.1:(\d+)/,
                timeoutMs: 60000,
            });
            return { pid: p.pid, port: Number(p.match[1]) };
        },
        nginx: async out => startNginx('nginx-cg', fixedUrl, { masterProcess: false, prefixCmd: vg(out) }),
    };
    const n1 = opt.quick ? 200 : 2000;
    const n2 = 2 * n1;
    const rows = [];
    for (const [name, startFn] of Object.entries(servers)) {
        for (const close of [false, true]) {
            const a = await callgrindRun(name, n1, close, startFn);
            const b = await callgrindRun(name, n2, close, startFn);
            rows.push({ target: name, mode: close ? 'close' : 'keepalive', ir_per_request: (b - a) / (n2 - n1), ir: { [n1]: a, [n2]: b } });
            log(`${name} ${close ? 'close' : 'keepalive'}: ${((b - a) / (n2 - n1)).toFixed(0)} Ir/request`);
        }
    }
    report.parts.callgrind = rows;
    md.push(
        `## User-space instructions per request (callgrind, (Ir(${n2}) - Ir(${n1})) / ${n2 - n1})`,
        '',
        `One client, requests one after another over the ${KEYS.length} keys: keep-alive (one connection, reopened after 1000 requests) or a new connection per request. Kernel work is not counted.`,
        '',
        '| target | mode | instructions/request |',
        '|---|---|---|'
    );
    for (const r of rows) {
        md.push(`| ${r.target} | ${r.mode} | ${r.ir_per_request.toFixed(0)} |`);
    }
    md.push('');
}

async function main() {
    if (os.cpus().length < 2) {
        throw new Error('needs 2 cores: the server on one, wrk on the other');
    }
    for (const f of [GATEWAY, SGN_BENCH]) {
        if (!fs.existsSync(f)) {
            throw new Error(`${f} is missing: build first (bench/run does)`);
        }
    }
    hostInfo();
    log(`start: ${report.host.uptime_start}`);
    const parts = { sgn: partSgn, compare: partCompare, idle: partIdle, workers: partWorkers, callgrind: partCallgrind };
    for (const p of PARTS) {
        if (opt.parts.includes(p)) {
            await parts[p]();
        }
    }
    report.host.uptime_end = spawnSync('uptime').stdout.toString().trim();
    const head = [
        `# bench/run results, ${report.started}${opt.quick ? ' (--quick: a smoke test, not figures)' : ''}`,
        '',
        `${report.host.model}, ${report.host.cpus} cores, Linux ${report.host.kernel}; ${report.host.nginx}; ${report.host.wrk}; node ${report.host.node}, ali-oss ${report.host.ali_oss}; ` +
            `${report.host.gateway} at ${report.host.commit}${report.host.dirty ? ' + local changes' : ''}.`,
        '',
        `Load at start: \`${report.host.uptime_start}\`; at end: \`${report.host.uptime_end}\`.`,
        '',
    ];
    const text = [...head, ...md].join('\n');
    console.log(text);
    const out = opt.out || path.join(HERE, 'out', `results-${report.started.replace(/[:.]/g, '-')}.md`);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, text + '\n');
    fs.writeFileSync(`${out}.json`, JSON.stringify(report, null, 1) + '\n');
    log(`written ${out} and ${out}.json`);
    const results = opt.results || path.join(HERE, opt.quick ? path.join('out', 'plots') : 'results');
    const p = await run(process.execPath, [path.join(HERE, 'plot.js'), `${out}.json`, results], { timeoutMs: 120000 });
    if (p.code !== 0) {
        throw new Error(`plot.js failed: ${p.out}${p.err}`);
    }
    fs.copyFileSync(out, path.join(results, 'results.md'));
    log(`data and plots in ${results}`);
}

main()
    .then(() => {
        killAllNow();
    })
    .catch(err => {
        console.error(`bench: ${err.stack || err}`);
        killAllNow();
        process.exit(1);
    });
