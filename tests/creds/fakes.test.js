'use strict';
// fakes.test.js: proves the fakes faithful: the official @alicloud/credentials obtains from them exactly the
// credentials they serve (ECS IMDSv2 hardened mode, credentials URI, AssumeRoleWithOIDC, AssumeRole with an RPC
// signature the fake checks with the official @alicloud/openapi-util), and fails on their error modes. Also checks
// our C signer's test vector (test_sgn_rpc.c) with openapi-util.
const assert = require('node:assert');
const { execFileSync, execFile } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { test, before, after } = require('node:test');
const OpenApiUtil = require('@alicloud/openapi-util').default;
const fakes = require('./fakes.js');

let pki, md, sts;
const ROLE_ARN = 'acs:ram::123456789012:role/oss-gateway';
const OIDC_PROVIDER = 'acs:ram::123456789012:oidc-provider/ack-rrsa-c1';
const AK = { id: 'LTAI5tBaseKeyId00', secret: 'base/secret+value' };

before(async () => {
  pki = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-creds-fakes-'));
  execFileSync('sh', [path.join(__dirname, 'gen-certs.sh'), pki]);
  fs.writeFileSync(path.join(pki, 'oidc-token'), 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln\n');
  md = await fakes.startMetadata({});
  sts = await fakes.startSts({
    cert: path.join(pki, 'localhost.crt'),
    key: path.join(pki, 'localhost.key'),
    accessKeys: { [AK.id]: AK.secret },
    oidc: { token: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJzYSJ9.c2ln\n', providerArn: OIDC_PROVIDER },
  });
});

after(() => {
  md.server.close();
  sts.server.close();
  fs.rmSync(pki, { recursive: true, force: true });
});

function probe(cfg) {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(__dirname, 'sdk-probe.js'), JSON.stringify({ metadataPort: md.port, ...cfg })],
      { env: { ...process.env, NODE_EXTRA_CA_CERTS: path.join(pki, 'ca.crt') }, timeout: 20000 },
      (err, stdout) => resolve(JSON.parse(stdout.trim().split('\n').pop() || '{"error":"no output"}')),
    );
  });
}

function expectSame(got, want) {
  assert.ok(!got.error, got.error);
  assert.deepStrictEqual(got, { accessKeyId: want.AccessKeyId, accessKeySecret: want.AccessKeySecret, securityToken: want.SecurityToken });
}

test('ECS RAM role, IMDSv2 hardened: the SDK gets the served credentials', async () => {
  md.state.requests.length = 0;
  const got = await probe({ source: 'ecs_ram_role' });
  expectSame(got, fakes.current(md.state.role, md.state));
  // The SDK did the token dance: PUT the token with its TTL header, then every GET carried the token.
  const put = md.state.requests.find((r) => r.method === 'PUT');
  assert.strictEqual(put.path, '/latest/api/token');
  assert.strictEqual(put.headers['x-aliyun-ecs-metadata-token-ttl-seconds'], '21600');
  const gets = md.state.requests.filter((r) => r.method === 'GET');
  assert.ok(gets.some((r) => r.path === '/latest/meta-data/ram/security-credentials/'), 'role discovered');
  assert.ok(gets.every((r) => typeof r.headers['x-aliyun-ecs-metadata-token'] === 'string'));
});

test('ECS error modes fail the SDK too', async () => {
  for (const mode of ['code_failed', 'status500', 'garbage', 'role404']) {
    md.state.mode = mode;
    const got = await probe({ source: 'ecs_ram_role', roleName: md.state.role });
    assert.ok(got.error, `${mode}: SDK accepted ${JSON.stringify(got)}`);
  }
  md.state.mode = 'ok';
});

test('credentials URI', async () => {
  const got = await probe({ source: 'uri', url: `http://127.0.0.1:${md.port}/credentials-uri` });
  expectSame(got, fakes.current(md.state.role, md.state));
});

test('AssumeRoleWithOIDC over HTTPS with the test CA', async () => {
  const got = await probe({
    source: 'oidc',
    roleArn: ROLE_ARN,
    oidcProviderArn: OIDC_PROVIDER,
    oidcTokenFile: path.join(pki, 'oidc-token'),
    roleSessionName: 'oss-gateway',
    stsEndpoint: `localhost:${sts.port}`,
  });
  expectSame(got, fakes.current(`${ROLE_ARN}/oss-gateway`, sts.state));
  const req = sts.state.requests.at(-1);
  assert.strictEqual(req.params.Action, 'AssumeRoleWithOIDC');
  assert.strictEqual(req.params.Version, '2015-04-01');
});

test('AssumeRole: the SDK signature verifies with openapi-util, a wrong secret does not', async () => {
  const cfg = {
    source: 'assume_role',
    accessKeyId: AK.id,
    accessKeySecret: AK.secret,
    roleArn: ROLE_ARN,
    roleSessionName: 'oss-gateway',
    externalId: 'abc def*~',
    policy: '{"Version":"1","Statement":[{"Effect":"Allow","Action":"oss:GetObject","Resource":"*"}]}',
    stsEndpoint: `localhost:${sts.port}`,
  };
  expectSame(await probe(cfg), fakes.current(`${ROLE_ARN}/oss-gateway`, sts.state));
  const bad = await probe({ ...cfg, accessKeySecret: 'wrong' });
  assert.match(bad.error, /SignatureDoesNotMatch/);
});

test('our C signer vector (test_sgn_rpc.c) matches openapi-util', () => {
  const params = {
    Version: '2015-04-01',
    Action: 'AssumeRole',
    Format: 'JSON',
    Timestamp: '2026-12-08T01:00:00Z',
    SignatureMethod: 'HMAC-SHA1',
    SignatureVersion: '1.0',
    SignatureNonce: 'n0nce-1',
    AccessKeyId: 'STS.idTEST',
    SecurityToken: 'CAIS+x/y=',
    RoleArn: 'acs:ram::123456789012:role/gw',
    Policy: '{"Version":"1"}',
    ExternalId: 'abc def*~',
    RoleSessionName: 'oss-gateway',
    DurationSeconds: '3600',
  };
  assert.strictEqual(OpenApiUtil.getRPCSignature(params, 'POST', 'test/secret+1'), 'b/bCcGTcwpOScTS2vVK0qE5MipE=');
});
