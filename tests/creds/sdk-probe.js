'use strict';
// sdk-probe.js: obtains credentials with the official @alicloud/credentials providers from the fakes and prints them as
// one JSON line. Run by fakes.test.js in a child process with NODE_EXTRA_CA_CERTS set to the test CA (Node reads it
// only at start-up). The ECS provider has the metadata address 100.100.100.200 built in: http.request is wrapped to
// send that address to the fake on loopback, which changes where the SDK connects and nothing of what it sends.
const http = require('http');

const cfg = JSON.parse(process.argv[2]);
const origRequest = http.request;
http.request = function (opts, ...rest) {
  if (opts && typeof opts === 'object' && (opts.host === '100.100.100.200' || opts.hostname === '100.100.100.200')) {
    opts = { ...opts, hostname: '127.0.0.1', host: '127.0.0.1', port: cfg.metadataPort };
  } else if (opts && typeof opts === 'object' && !['127.0.0.1', 'localhost'].includes(opts.host || opts.hostname)) {
    throw new Error(`sdk-probe: refusing to reach ${opts.host || opts.hostname}: tests stay on loopback`);
  }
  return origRequest.call(this, opts, ...rest);
};

const providers = '@alicloud/credentials/dist/src/providers';
const ECS = require(`${providers}/ecs_ram_role`).default;
const OIDC = require(`${providers}/oidc_role_arn`).default;
const RamRoleArn = require(`${providers}/ram_role_arn`).default;
const StaticAK = require(`${providers}/static_ak`).default;
const URI = require(`${providers}/uri`).default;

async function main() {
  let p;
  switch (cfg.source) {
    case 'ecs_ram_role': {
      const b = ECS.builder().withDisableIMDSv1(cfg.disableIMDSv1 !== false);
      if (cfg.roleName) {
        b.withRoleName(cfg.roleName);
      }
      p = b.build();
      break;
    }
    case 'uri':
      p = URI.builder().withCredentialsURI(cfg.url).build();
      break;
    case 'oidc':
      p = OIDC.builder()
        .withRoleArn(cfg.roleArn)
        .withOIDCProviderArn(cfg.oidcProviderArn)
        .withOIDCTokenFilePath(cfg.oidcTokenFile)
        .withRoleSessionName(cfg.roleSessionName)
        .withStsEndpoint(cfg.stsEndpoint)
        .build();
      break;
    case 'assume_role':
      p = RamRoleArn.builder()
        .withCredentialsProvider(StaticAK.builder().withAccessKeyId(cfg.accessKeyId).withAccessKeySecret(cfg.accessKeySecret).build())
        .withRoleArn(cfg.roleArn)
        .withRoleSessionName(cfg.roleSessionName)
        .withExternalId(cfg.externalId)
        .withPolicy(cfg.policy)
        .withStsEndpoint(cfg.stsEndpoint)
        .build();
      break;
    default:
      throw new Error(`unknown source ${cfg.source}`);
  }
  const c = await p.getCredentials();
  process.stdout.write(`${JSON.stringify({ accessKeyId: c.accessKeyId, accessKeySecret: c.accessKeySecret, securityToken: c.securityToken })}\n`);
}

main().catch((e) => {
  process.stdout.write(`${JSON.stringify({ error: String(e.message || e) })}\n`);
  process.exitCode = 1;
});
