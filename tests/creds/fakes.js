'use strict';
// fakes.js: a fake ECS instance metadata service (HTTP) and a fake STS (HTTPS), written to behave like the documented
// services, for the renewing-credentials tests (issue 11). fakes.test.js proves them faithful by pointing the official
// @alicloud/credentials package at them.
//
// Metadata (as documented for ECS hardened mode, IMDSv2):
//   PUT  /latest/api/token                              X-aliyun-ecs-metadata-token-ttl-seconds: 1..21600 -> token
//   GET  /latest/meta-data/ram/security-credentials/    -> role name        (X-aliyun-ecs-metadata-token: token)
//   GET  /latest/meta-data/ram/security-credentials/R   -> {"AccessKeyId","AccessKeySecret","Expiration",
//                                                           "SecurityToken","LastUpdated","Code":"Success"}
//   GET  /credentials-uri                               -> the credentials-URI form (no Code)
// STS (RPC style, Version 2015-04-01, POST with the parameters in the query and the form body):
//   Action=AssumeRole          signed (HMAC-SHA1, checked with the official @alicloud/openapi-util)
//   Action=AssumeRoleWithOIDC  unsigned; OIDCToken, OIDCProviderArn, RoleArn checked
//   errors: {"RequestId","HostId","Code","Message"} with the documented status codes
// Both serve credentials that rotate every `rotateSeconds` and expire `lifetimeSeconds` after they were issued.
// Modes (metadata `mode`, STS `mode`) select hostile behaviour: ok, code_failed, status500, garbage, huge (10 MiB),
// slow (answer after `slowMs`), role404, reset (destroy the socket); metadata `tokenEndpoint: false` answers 404 to
// the token request and `imdsv2Required: false` serves requests without a token (IMDSv1).
//
// As a program: node fakes.js --pki DIR [--lifetime S] [--rotate S] prints one JSON line {"metadata":PORT,"sts":PORT}
// and serves until stdin closes or SIGTERM; POST /__control {"mode":..,"lifetimeSeconds":..} on either port changes
// the behaviour (loopback only).
const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const https = require('https');
const OpenApiUtil = require('@alicloud/openapi-util').default;

const MAX_TOKEN_TTL = 21600;
const TEN_MIB = 10 * 1024 * 1024;

function iso(sec) {
  return new Date(sec * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

// Credentials for `role` in rotation period `period`: deterministic, so a test can recompute them.
function credsFor(role, period, opts) {
  const h = (what) => crypto.createHash('sha256').update(`${role}/${period}/${what}`).digest('base64').replace(/[^A-Za-z0-9]/g, '');
  const issued = opts.issuedAt ? opts.issuedAt(period) : period * opts.rotateSeconds;
  return {
    AccessKeyId: `STS.${h('id').slice(0, 24)}`,
    AccessKeySecret: h('secret').slice(0, 30),
    SecurityToken: `CAIS${h('token')}`,
    Expiration: iso(issued + opts.lifetimeSeconds),
    LastUpdated: iso(issued),
  };
}

function current(role, opts) {
  const now = Math.floor(Date.now() / 1000);
  return credsFor(role, Math.floor(now / opts.rotateSeconds), opts);
}

function readBody(req, limit) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let n = 0;
    req.on('data', (c) => {
      n += c.length;
      if (n > limit) {
        reject(new Error('body too large'));
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

// hostile answers shared by both fakes; returns true when it handled the response.
function hostile(mode, res, slowMs) {
  switch (mode) {
    case 'status500':
      res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end('Internal Server Error');
      return true;
    case 'garbage':
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"AccessKeyId": "STS.x", "AccessKeySecret": ');
      return true;
    case 'huge': {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': TEN_MIB });
      const chunk = Buffer.alloc(65536, 0x20);
      let sent = 0;
      const pump = () => {
        while (sent < TEN_MIB) {
          sent += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      res.on('error', () => {});
      pump();
      return true;
    }
    case 'reset':
      res.socket.destroy();
      return true;
    case 'slow':
      setTimeout(() => res.socket.destroy(), slowMs);
      return true;
    default:
      return false;
  }
}

function control(state, req, res) {
  readBody(req, 4096).then((body) => {
    Object.assign(state, JSON.parse(body));
    res.writeHead(204);
    res.end();
  }, () => res.destroy());
}

function startMetadata(options = {}) {
  const state = {
    mode: 'ok',
    role: 'oss-gateway-role',
    rotateSeconds: 3600,
    lifetimeSeconds: 21600,
    imdsv2Required: true,
    slowMs: 5000,
    tokens: new Map(),
    requests: [],
    ...options,
  };
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    state.requests.push({ method: req.method, path: url.pathname, headers: req.headers });
    if (url.pathname === '/__control' && req.method === 'POST') {
      control(state, req, res);
      return;
    }
    const text = (status, body) => {
      res.writeHead(status, { 'Content-Type': 'text/plain' });
      res.end(body);
    };
    if (url.pathname === '/latest/api/token') {
      if (state.tokenEndpoint === false) {
        text(404, 'Not Found'); // an instance whose metadata service predates IMDSv2
        return;
      }
      if (req.method !== 'PUT') {
        text(405, 'Method Not Allowed');
        return;
      }
      const ttl = Number(req.headers['x-aliyun-ecs-metadata-token-ttl-seconds']);
      if (!Number.isInteger(ttl) || ttl < 1 || ttl > MAX_TOKEN_TTL) {
        text(400, 'Bad Request');
        return;
      }
      const token = crypto.randomBytes(24).toString('base64url');
      state.tokens.set(token, Date.now() + ttl * 1000);
      text(200, token);
      return;
    }
    if (req.method !== 'GET') {
      text(405, 'Method Not Allowed');
      return;
    }
    if (url.pathname === '/credentials-uri') {
      // A credentials URI is a separate local service: no metadata token, but the same hostile modes.
      if (hostile(state.mode, res, state.slowMs)) {
        return;
      }
      const c = current(state.role, state);
      delete c.LastUpdated;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(c));
      return;
    }
    const token = req.headers['x-aliyun-ecs-metadata-token'];
    if (token !== undefined && !(state.tokens.get(token) > Date.now())) {
      text(401, 'Unauthorized');
      return;
    }
    if (token === undefined && state.imdsv2Required) {
      text(403, 'Forbidden');
      return;
    }
    if (hostile(state.mode, res, state.slowMs)) {
      return;
    }
    const prefix = '/latest/meta-data/ram/security-credentials/';
    if (!url.pathname.startsWith(prefix)) {
      text(404, 'Not Found');
      return;
    }
    const role = url.pathname.slice(prefix.length);
    if (role === '') {
      text(200, state.role);
      return;
    }
    if (role !== state.role || state.mode === 'role404') {
      text(404, 'Not Found');
      return;
    }
    const c = current(role, state);
    c.Code = state.mode === 'code_failed' ? 'Failed' : 'Success';
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(JSON.stringify(c));
  });
  return new Promise((resolve) => server.listen(options.port || 0, '127.0.0.1', () => resolve({ server, state, port: server.address().port })));
}

function stsError(res, status, code, message) {
  res.writeHead(status, { 'Content-Type': 'application/json;charset=utf-8' });
  res.end(JSON.stringify({ RequestId: crypto.randomUUID().toUpperCase(), HostId: 'sts.aliyuncs.com', Code: code, Message: message }));
}

function startSts(options) {
  const state = {
    mode: 'ok',
    rotateSeconds: 3600,
    lifetimeSeconds: 3600,
    slowMs: 5000,
    accessKeys: {}, // AccessKeyId -> AccessKeySecret, for AssumeRole
    oidc: null, // {token, providerArn}
    nonces: new Set(),
    requests: [],
    ...options,
  };
  const server = https.createServer({ cert: fs.readFileSync(options.cert), key: fs.readFileSync(options.key) }, async (req, res) => {
    let body;
    try {
      body = await readBody(req, 65536);
    } catch {
      return;
    }
    const url = new URL(req.url, 'https://x');
    if (url.pathname === '/__control' && req.method === 'POST') {
      Object.assign(state, JSON.parse(body));
      res.writeHead(204);
      res.end();
      return;
    }
    const params = {};
    for (const [k, v] of url.searchParams) {
      params[k] = v;
    }
    if ((req.headers['content-type'] || '').startsWith('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(body)) {
        params[k] = v;
      }
    }
    state.requests.push({ method: req.method, params });
    if (hostile(state.mode, res, state.slowMs)) {
      return;
    }
    if (state.mode === 'code_failed') {
      stsError(res, 403, 'NoPermission', 'You are not authorized to do this action. You should be authorized by RAM.');
      return;
    }
    if (params.Version !== '2015-04-01' || params.Format !== 'JSON') {
      stsError(res, 400, 'InvalidVersion', 'Specified parameter Version is not valid.');
      return;
    }
    const duration = params.DurationSeconds === undefined ? 3600 : Number(params.DurationSeconds);
    if (!Number.isInteger(duration) || duration < 900 || duration > 43200) {
      stsError(res, 400, 'InvalidParameter.DurationSeconds', 'The parameter DurationSeconds is wrongly formed.');
      return;
    }
    if (!/^acs:ram::\d+:role\/[\w.@-]+$/.test(params.RoleArn || '')) {
      stsError(res, 400, 'InvalidParameter.RoleArn', 'The parameter RoleArn is wrongly formed.');
      return;
    }
    if (!/^[\w.@-]{2,64}$/.test(params.RoleSessionName || '')) {
      stsError(res, 400, 'InvalidParameter.RoleSessionName', 'The parameter RoleSessionName is wrongly formed.');
      return;
    }
    let result = {};
    if (params.Action === 'AssumeRole') {
      const secret = state.accessKeys[params.AccessKeyId];
      if (secret === undefined) {
        stsError(res, 404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
        return;
      }
      if (params.SignatureMethod !== 'HMAC-SHA1' || params.SignatureVersion !== '1.0') {
        stsError(res, 400, 'InvalidParameter', 'SignatureMethod and SignatureVersion must be HMAC-SHA1 and 1.0.');
        return;
      }
      const ts = Date.parse(params.Timestamp || '');
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(params.Timestamp || '') || Math.abs(ts - Date.now()) > 15 * 60 * 1000) {
        stsError(res, 400, 'InvalidTimeStamp.Expired', 'Specified time stamp or date value is expired.');
        return;
      }
      if (!params.SignatureNonce || state.nonces.has(params.SignatureNonce)) {
        stsError(res, 400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
        return;
      }
      const { Signature: signature, ...signed } = params;
      const expected = OpenApiUtil.getRPCSignature(signed, req.method, secret);
      if (signature !== expected) {
        stsError(res, 400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
        return;
      }
      state.nonces.add(params.SignatureNonce);
    } else if (params.Action === 'AssumeRoleWithOIDC') {
      if (!state.oidc || params.OIDCProviderArn !== state.oidc.providerArn) {
        stsError(res, 404, 'EntityNotExist.OIDCProvider', 'The specified OIDC provider does not exist.');
        return;
      }
      if (params.OIDCToken !== state.oidc.token) {
        stsError(res, 400, 'AuthenticationFail.OIDCToken.Invalid', 'The OIDC token is invalid.');
        return;
      }
      result.OIDCTokenInfo = { Subject: 'system:serviceaccount:default:oss-gateway', Issuer: 'https://oidc.example', ClientIds: 'sts.aliyuncs.com' };
    } else {
      stsError(res, 404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
      return;
    }
    const life = Math.min(duration, state.lifetimeSeconds);
    const c = current(`${params.RoleArn}/${params.RoleSessionName}`, { ...state, lifetimeSeconds: life });
    delete c.LastUpdated;
    res.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' });
    res.end(
      JSON.stringify({
        RequestId: crypto.randomUUID().toUpperCase(),
        AssumedRoleUser: { AssumedRoleId: `30081280744271****:${params.RoleSessionName}`, Arn: `${params.RoleArn}/${params.RoleSessionName}` },
        Credentials: c,
        ...result,
      }),
    );
  });
  return new Promise((resolve) => server.listen(options.port || 0, '127.0.0.1', () => resolve({ server, state, port: server.address().port })));
}

module.exports = { startMetadata, startSts, credsFor, current, iso };

if (require.main === module) {
  const arg = (name, def) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? process.argv[i + 1] : def;
  };
  const pki = arg('--pki');
  const lifetime = Number(arg('--lifetime', '3600'));
  const rotate = Number(arg('--rotate', '3600'));
  (async () => {
    const md = await startMetadata({ lifetimeSeconds: lifetime, rotateSeconds: rotate });
    const sts = await startSts({
      cert: `${pki}/localhost.crt`,
      key: `${pki}/localhost.key`,
      lifetimeSeconds: lifetime,
      rotateSeconds: rotate,
      accessKeys: JSON.parse(arg('--access-keys', '{}')),
      oidc: arg('--oidc-token') ? { token: arg('--oidc-token'), providerArn: arg('--oidc-provider-arn') } : null,
    });
    process.stdout.write(`${JSON.stringify({ metadata: md.port, sts: sts.port })}\n`);
    const stop = () => process.exit(0);
    process.stdin.on('end', stop);
    process.stdin.resume();
    process.on('SIGTERM', stop);
  })();
}
