// Shared helpers of the end-to-end tests: temp dirs, child processes killed by PID, the origin and gateway
// launchers, a tiny YAML writer, curl/wget runners and byte comparisons with readable failure messages.
'use strict';

const assert = require('node:assert/strict');
const { spawn } = require('node:child_process');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const E2E_DIR = path.resolve(__dirname, '..');
const REPO_DIR = path.resolve(E2E_DIR, '..', '..');
const ORIGIN_JS = path.join(E2E_DIR, 'origin.js');
const BUCKET = 'test-bucket';
const REGION = 'cn-hangzhou';

for (const mod of ['ali-oss', 's3rver', 'playwright-core', '@smithy/signature-v4']) {
    try {
        require.resolve(mod);
    } catch {
        throw new Error(`npm package ${mod} is missing: run \`npm ci --prefix tests/e2e\` first`);
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Cleanup: every process and temp dir this test file made, killed / removed by the after hook and, as a last
// resort, when the node process exits.

const live = new Set(); // Proc
const tempDirs = new Set();

function makeTempDir(label) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `oss-gw-e2e-${label}-`));
    tempDirs.add(dir);
    return dir;
}

async function cleanupAll() {
    await Promise.all([...live].map(p => p.stop()));
    for (const dir of tempDirs) {
        fs.rmSync(dir, { recursive: true, force: true });
        tempDirs.delete(dir);
    }
}

process.on('exit', () => {
    for (const p of live) {
        try {
            process.kill(p.pid, 'SIGKILL');
        } catch {
            // already gone
        }
    }
    for (const dir of tempDirs)
        fs.rmSync(dir, { recursive: true, force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// Child processes.

const KEEP_BYTES = 256 * 1024;

// A long-running child (origin, gateway): output kept (last 256 KiB per stream), stopped by PID.
class Proc {
    constructor(name, cmd, args, opts = {}) {
        this.name = name;
        this.cmd = cmd;
        this.out = '';
        this.err = '';
        this.exit = null; // {code, signal}
        this.child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
        this.pid = this.child.pid;
        this.waiters = new Set();
        live.add(this);
        this.exited = new Promise(resolve => {
            this.child.on('exit', (code, signal) => {
                this.exit = { code, signal };
                live.delete(this);
                this.notify();
                resolve(this.exit);
            });
            this.child.on('error', err => {
                this.exit = { code: null, signal: null, error: err };
                live.delete(this);
                this.notify();
                resolve(this.exit);
            });
        });
        this.child.stdout.setEncoding('utf8');
        this.child.stderr.setEncoding('utf8');
        this.child.stdout.on('data', d => {
            this.out = (this.out + d).slice(-KEEP_BYTES);
            this.notify();
        });
        this.child.stderr.on('data', d => {
            this.err = (this.err + d).slice(-KEEP_BYTES);
            this.notify();
        });
    }

    notify() {
        for (const w of this.waiters)
            w();
    }

    // Waits until `re` matches stdout or stderr (`stream`: 'out' | 'err'); returns the match.
    waitFor(re, stream, timeoutMs, what) {
        return new Promise((resolve, reject) => {
            const check = () => {
                const m = re.exec(stream === 'out' ? this.out : this.err);
                if (m) {
                    done();
                    resolve(m);
                } else if (this.exit) {
                    done();
                    reject(new Error(`${this.name} exited (${JSON.stringify(this.exit)}) before ${what}\n${this.describe()}`));
                }
            };
            const timer = setTimeout(() => {
                done();
                reject(new Error(`${this.name} did not report ${what} within ${timeoutMs} ms\n${this.describe()}`));
            }, timeoutMs);
            const done = () => {
                clearTimeout(timer);
                this.waiters.delete(check);
            };
            this.waiters.add(check);
            check();
        });
    }

    describe() {
        const tail = s => s.split('\n').slice(-40).join('\n');
        return `--- ${this.name} (pid ${this.pid}) stdout:\n${tail(this.out)}\n--- ${this.name} stderr:\n${tail(this.err)}`;
    }

    // SIGTERM, then SIGKILL after `graceMs`; resolves with the exit status.
    async stop(graceMs = 5000) {
        if (this.exit)
            return this.exit;
        try {
            process.kill(this.pid, 'SIGTERM');
        } catch {
            // already gone
        }
        const timer = setTimeout(() => {
            try {
                process.kill(this.pid, 'SIGKILL');
            } catch {
                // already gone
            }
        }, graceMs);
        const status = await this.exited;
        clearTimeout(timer);
        return status;
    }
}

// Runs a short command to completion: {code, signal, stdout: Buffer, stderr: Buffer}. Killed by PID on timeout.
function run(cmd, args, opts = {}) {
    const timeoutMs = opts.timeoutMs || 30000;
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env || cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
        const out = [];
        const err = [];
        let timedOut = false;
        const fake = { pid: child.pid, stop: async () => killQuiet(child.pid) };
        live.add(fake);
        child.stdout.on('data', d => out.push(d));
        child.stderr.on('data', d => err.push(d));
        const timer = setTimeout(() => {
            timedOut = true;
            killQuiet(child.pid);
        }, timeoutMs);
        child.on('error', e => {
            clearTimeout(timer);
            live.delete(fake);
            reject(new Error(`cannot run ${cmd}: ${e.message}`));
        });
        child.on('close', (code, signal) => {
            clearTimeout(timer);
            live.delete(fake);
            const r = { code, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err) };
            if (timedOut)
                reject(new Error(`${cmd} ${args.join(' ')} timed out after ${timeoutMs} ms\nstderr: ${r.stderr}`));
            else
                resolve(r);
        });
    });
}

function killQuiet(pid) {
    try {
        process.kill(pid, 'SIGKILL');
    } catch {
        // already gone
    }
}

// The environment for clients: no proxies, so that every request goes straight to 127.0.0.1.
function cleanEnv(extra = {}) {
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
        if (!/_proxy$/i.test(k) && !/^(AWS_|OSS_)/.test(k))
            env[k] = v;
    }
    env.LC_ALL = 'C.UTF-8';
    return Object.assign(env, extra);
}

// ---------------------------------------------------------------------------------------------------------------
// Credentials, objects.

function makeCredentials() {
    // The secret has '+', '/' and '=' in it often enough; keep one of each to be sure.
    return {
        accessKeyId: `LTAIe2e${crypto.randomBytes(6).toString('hex')}`,
        accessKeySecret: `${crypto.randomBytes(21).toString('base64')}+/=`,
    };
}

// Writes {key: Buffer} under `root` (the key's '/' are directories); returns the same map.
function writeObjects(root, objects) {
    for (const [key, data] of Object.entries(objects)) {
        const file = path.join(root, key);
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.writeFileSync(file, data);
    }
    return objects;
}

function randomBytes(n, seed) {
    // Deterministic per seed, so that a failure can be reproduced byte for byte.
    const out = Buffer.alloc(n);
    let block = Buffer.alloc(0);
    for (let i = 0, counter = 0; i < n; i += block.length, counter++) {
        block = crypto.createHash('sha256').update(`${seed}:${counter}`).digest();
        block.copy(out, i, 0, Math.min(block.length, n - i));
    }
    return out;
}

// Percent-encodes a key for a URL path: strict RFC 3986 per segment, '/' kept.
function encodeKeyPath(key) {
    return key.split('/').map(seg => encodeURIComponent(seg).replace(/[!'()*]/g,
        c => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)).join('/');
}

// ---------------------------------------------------------------------------------------------------------------
// The origin (child process running origin.js) and the gateway under test.

async function startOriginProcess({ root, credentials, bucket = BUCKET, region = REGION, securityToken }) {
    const args = [ORIGIN_JS, '--root', root, '--port', '0', '--bucket', bucket, '--region', region,
        '--access-key-id', credentials.accessKeyId, '--access-key-secret', credentials.accessKeySecret];
    if (securityToken)
        args.push('--security-token', securityToken);
    const proc = new Proc('origin', process.execPath, args, { cwd: E2E_DIR, env: cleanEnv() });
    const m = await proc.waitFor(/^listening (\d+)$/m, 'out', 10000, 'listening <port>');
    proc.port = Number(m[1]);
    proc.base = `http://127.0.0.1:${proc.port}`;
    return proc;
}

function gatewayBinary() {
    const bin = process.env.GW_BINARY || path.join(REPO_DIR, 'build', 'gateway', 'oss-gateway');
    try {
        fs.accessSync(bin, fs.constants.X_OK);
    } catch {
        assert.fail(`gateway binary ${bin} is missing or not executable: build it (cmake -S . -B build && ` +
            'cmake --build build) or point GW_BINARY at it');
    }
    return bin;
}

// A scalar as YAML: plain when unambiguous, else a JSON string (valid YAML double-quoted scalar).
function yamlScalar(v) {
    if (typeof v === 'number' || typeof v === 'boolean')
        return String(v);
    const s = String(v);
    if (/^[A-Za-z/][A-Za-z0-9_./-]*$/.test(s) && !/^(y|n|yes|no|on|off|true|false|null)$/i.test(s))
        return s;
    return JSON.stringify(s);
}

function yamlFlow(v) {
    if (Array.isArray(v))
        return `[${v.map(yamlFlow).join(', ')}]`;
    if (v && typeof v === 'object')
        return `{${Object.entries(v).map(([k, x]) => `${k}: ${yamlFlow(x)}`).join(', ')}}`;
    return yamlScalar(v);
}

// The config object as YAML in the style of the docs: top-level block keys, flow mappings below them.
function toYaml(config) {
    const lines = [];
    for (const [key, value] of Object.entries(config)) {
        if (Array.isArray(value) && value.some(x => x && typeof x === 'object')) {
            lines.push(`${key}:`);
            for (const item of value)
                lines.push(`  - ${yamlFlow(item)}`);
        } else if (value && typeof value === 'object' && !Array.isArray(value) &&
            Object.values(value).some(x => x && typeof x === 'object')) {
            lines.push(`${key}:`);
            for (const [k, x] of Object.entries(value))
                lines.push(`  ${k}: ${yamlFlow(x)}`);
        } else {
            lines.push(`${key}: ${yamlFlow(value)}`);
        }
    }
    return `${lines.join('\n')}\n`;
}

// Starts the real gateway with `config` (an object, written as YAML to a temp file) and the environment `env`
// (credentials). Resolves once it printed `<6>listening on 127.0.0.1:PORT`; .port and .base are set.
async function startGateway(config, env) {
    const bin = gatewayBinary();
    const dir = makeTempDir('gw');
    const file = path.join(dir, 'gateway.yaml');
    fs.writeFileSync(file, toYaml(config));
    const childEnv = { PATH: process.env.PATH || '/usr/bin:/bin', LC_ALL: 'C.UTF-8' };
    for (const [k, v] of Object.entries(process.env)) {
        if (/^(ASAN|UBSAN|LSAN|MSAN)_OPTIONS$/.test(k))
            childEnv[k] = v;
    }
    Object.assign(childEnv, env);
    const proc = new Proc('gateway', bin, ['-c', file], { cwd: dir, env: childEnv });
    proc.configFile = file;
    proc.configText = fs.readFileSync(file, 'utf8');
    let m;
    try {
        m = await proc.waitFor(/<6>listening on 127\.0\.0\.1:(\d+)/, 'err', 15000, '"<6>listening on 127.0.0.1:PORT"');
    } catch (err) {
        err.message += `\n--- config ${file}:\n${proc.configText}`;
        throw err;
    }
    proc.port = Number(m[1]);
    proc.base = `http://127.0.0.1:${proc.port}`;
    return proc;
}

function ossBackend(originPort, extra = {}) {
    return Object.assign({ type: 'oss', region: REGION, bucket: BUCKET, endpoint: `127.0.0.1:${originPort}`,
        addressing: 'path', scheme: 'http', credentials: 'main' }, extra);
}

// ---------------------------------------------------------------------------------------------------------------
// HTTP without redirects (node http), curl and wget.

// `rawPath` sends a path exactly as given (the URL parser would resolve `..` and `.` segments).
function request(url, { method = 'GET', headers = {}, timeoutMs = 10000, rawPath } = {}) {
    return new Promise((resolve, reject) => {
        const u = new URL(url);
        const options = { method, headers, agent: false, host: u.hostname, port: u.port,
            path: rawPath !== undefined ? rawPath : `${u.pathname}${u.search}` };
        const req = http.request(options, res => {
            const chunks = [];
            res.on('data', c => chunks.push(c));
            res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
            res.on('error', reject);
        });
        req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${url}: no answer within ${timeoutMs} ms`)));
        req.on('error', reject);
        req.end();
    });
}

const CURL_BASE = ['--noproxy', '*', '--silent', '--show-error', '--globoff', '--max-time', '20', '--max-redirs', '5'];

function curl(args, opts = {}) {
    return run('curl', [...CURL_BASE, ...args], opts);
}

function wget(args, opts = {}) {
    return run('wget', ['--no-proxy', '--no-config', '--tries=1', '--timeout=20', '--max-redirect=5', ...args], opts);
}

// ---------------------------------------------------------------------------------------------------------------
// Assertions.

function sha(buf) {
    return crypto.createHash('sha256').update(buf).digest('hex').slice(0, 16);
}

function firstDifference(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
        if (a[i] !== b[i])
            return i;
    }
    return n;
}

function assertSameBytes(actual, expected, what, context = '') {
    if (Buffer.compare(actual, expected) === 0)
        return;
    const at = firstDifference(actual, expected);
    let msg = `${what}: got ${actual.length} bytes (sha256 ${sha(actual)}), expected ${expected.length} bytes ` +
        `(sha256 ${sha(expected)}); first difference at byte ${at}`;
    if (actual.length < 2048 && /^[\x09\x0a\x0d\x20-\x7e]*$/.test(actual.toString('latin1')))
        msg += `\n--- got (text):\n${actual.toString('utf8')}`;
    assert.fail(context ? `${msg}\n${context}` : msg);
}

// A readable summary of an error body from the origin (OSS XML).
function errorSummary(body) {
    const s = body.toString('utf8');
    const code = /<Code>([^<]*)<\/Code>/.exec(s);
    const message = /<Message>([^<]*)<\/Message>/.exec(s);
    return code ? `${code[1]}: ${message ? message[1] : ''}` : s.slice(0, 300);
}

// A before() hook whose failure fails every test of the suite (node:test would only mark them "cancelled"):
// returns ready(), which each test calls first. The first test reports the whole error, later ones a summary.
function guardedBefore(fn, timeoutMs = 30000) {
    const { before } = require('node:test');
    const state = { error: null, reported: false };
    before(async () => {
        try {
            await fn();
        } catch (err) {
            state.error = err;
        }
    }, { timeout: timeoutMs });
    return () => {
        if (!state.error)
            return;
        if (state.reported)
            throw new Error(`setup failed: ${String(state.error.message).split('\n')[0]} (details in the first failure)`);
        state.reported = true;
        throw state.error;
    };
}

function sleep(ms) {
    return new Promise(resolve => setTimeout(resolve, ms));
}

module.exports = {
    E2E_DIR, REPO_DIR, BUCKET, REGION,
    makeTempDir, cleanupAll, Proc, run, cleanEnv,
    makeCredentials, writeObjects, randomBytes, encodeKeyPath,
    startOriginProcess, gatewayBinary, startGateway, ossBackend, toYaml,
    request, curl, wget,
    assertSameBytes, errorSummary, sha, sleep, guardedBefore,
};
