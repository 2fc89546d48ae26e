import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseChallenge } from '../../src/registry/challenge.js';
import { dockerConfigCredentials, saveDockerConfigAuth } from '../../src/registry/credentials.js';

test('WWW-Authenticate challenges parse (quoted, escaped, unquoted params)', () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/ubuntu:pull"',
    ),
    {
      scheme: 'bearer',
      params: {
        realm: 'https://auth.docker.io/token',
        service: 'registry.docker.io',
        scope: 'repository:library/ubuntu:pull',
      },
    },
  );
  assert.deepEqual(parseChallenge('Basic realm="a \\"b\\"", charset=UTF-8'), {
    scheme: 'basic',
    params: { realm: 'a "b"', charset: 'UTF-8' },
  });
  assert.equal(parseChallenge(undefined), undefined);
});

test('credentials: $DOCKER_CONFIG auths (Hub key), $REGISTRY_AUTH_FILE first, credHelpers via a docker-credential program; login writes auths', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-creds-'));
  try {
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    // A real credential helper speaking the protocol: server URL on stdin, JSON on stdout.
    writeFileSync(
      join(bin, 'docker-credential-cogtstest'),
      '#!/bin/sh\nread server\nif [ "$server" = "helped.example:5000" ]; then echo \'{"Username":"h","Secret":"s3"}\'; else echo "credentials not found in native keychain"; exit 1; fi\n',
    );
    chmodSync(join(bin, 'docker-credential-cogtstest'), 0o755);
    const cfgDir = join(dir, 'docker');
    mkdirSync(cfgDir);
    writeFileSync(
      join(cfgDir, 'config.json'),
      JSON.stringify({
        auths: {
          'https://index.docker.io/v1/': { auth: Buffer.from('hub:pw').toString('base64') },
          'http://old.example:5000/v2/': { username: 'o', password: 'p' },
        },
        credHelpers: { 'helped.example:5000': 'cogtstest' },
      }),
    );
    writeFileSync(
      join(dir, 'auth.json'),
      JSON.stringify({ auths: { 'ghcr.io': { auth: Buffer.from('gh:tok:en').toString('base64') } } }),
    );
    const env = {
      DOCKER_CONFIG: cfgDir,
      REGISTRY_AUTH_FILE: join(dir, 'auth.json'),
      PATH: `${bin}:${process.env.PATH}`,
    };
    const saved = process.env.PATH;
    process.env.PATH = env.PATH;
    try {
      const lookup = dockerConfigCredentials(env);
      assert.deepEqual(await lookup('docker.io'), { username: 'hub', password: 'pw' });
      assert.deepEqual(await lookup('old.example:5000'), { username: 'o', password: 'p' });
      assert.deepEqual(await lookup('ghcr.io'), { username: 'gh', password: 'tok:en' });
      assert.deepEqual(await lookup('helped.example:5000'), { username: 'h', password: 's3' });
      assert.equal(await lookup('nobody.example'), undefined);
    } finally {
      process.env.PATH = saved;
    }
    const path = await saveDockerConfigAuth(
      'docker.io',
      { username: 'new', password: 'x' },
      { DOCKER_CONFIG: cfgDir },
    );
    const cfg = JSON.parse(readFileSync(path, 'utf8')) as {
      auths: Record<string, { auth: string }>;
      credHelpers: object;
    };
    assert.equal(Buffer.from(cfg.auths['https://index.docker.io/v1/']!.auth, 'base64').toString(), 'new:x');
    assert.ok(cfg.credHelpers, 'other settings kept');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
