import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatReference, parseReference } from '../../src/oci/reference.js';
import { isLoopback, parseMirrors, resolveEndpoint } from '../../src/registry/endpoint.js';

const D = `sha256:${'a'.repeat(64)}`;

test('references parse like Docker', () => {
  const cases: [string, string][] = [
    ['ubuntu', 'docker.io/library/ubuntu:latest'],
    [
      'nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04',
      'docker.io/nvidia/cuda:12.1.1-cudnn8-runtime-ubuntu22.04',
    ],
    ['index.docker.io/python:3.11', 'docker.io/library/python:3.11'],
    ['localhost/x', 'localhost/x:latest'],
    ['localhost:5000/a/b:t', 'localhost:5000/a/b:t'],
    ['127.0.0.1:5000/m@' + D, '127.0.0.1:5000/m@' + D],
    ['ghcr.io/o/m:v1@' + D, 'ghcr.io/o/m:v1@' + D],
    ['[::1]:5000/m:v', '[::1]:5000/m:v'],
    ['[fe80::1]/m', '[fe80::1]/m:latest'],
    ['r8.im/user/model', 'r8.im/user/model:latest'],
    ['Registry/x', 'Registry/x:latest'],
  ];
  for (const [input, want] of cases) assert.equal(formatReference(parseReference(input)), want, input);
  const r = parseReference('127.0.0.1:5000/m:t@' + D);
  assert.deepEqual(r, { registry: '127.0.0.1:5000', repository: 'm', tag: 't', digest: D });
});

test('bad references are clear errors', () => {
  for (const bad of ['', 'UPPER', 'a/B', 'x:bad tag', 'x@sha256:123', 'a//b', 'x:']) {
    assert.throws(
      () => parseReference(bad),
      (e: Error & { code?: string }) => e.code === 'E_REFERENCE',
      bad,
    );
  }
});

test('mirrors change where a registry is reached, and only loopback or insecure hosts use HTTP', () => {
  const mirrors = parseMirrors(['docker.io=http://127.0.0.1:5000/', 'ghcr.io=https://m.example']);
  assert.equal(resolveEndpoint('docker.io', { mirrors }).baseUrl, 'http://127.0.0.1:5000');
  assert.equal(resolveEndpoint('docker.io', { mirrors }).insecure, true);
  assert.equal(resolveEndpoint('docker.io').baseUrl, 'https://registry-1.docker.io');
  assert.equal(resolveEndpoint('ghcr.io', { mirrors }).baseUrl, 'https://m.example');
  assert.equal(resolveEndpoint('127.0.0.1:5000').baseUrl, 'http://127.0.0.1:5000');
  assert.equal(resolveEndpoint('reg.internal:5000').insecure, false);
  assert.equal(
    resolveEndpoint('reg.internal:5000', { insecureRegistries: ['reg.internal:5000'] }).insecure,
    true,
  );
  assert.ok(isLoopback('[::1]:5000') && isLoopback('localhost') && !isLoopback('10.0.0.1'));
  assert.throws(() => parseMirrors(['docker.io']), /invalid registry mirror/);
});
