import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { buildLayer } from '../../src/layer/build.js';
import { bufferEntry } from '../../src/layer/entry.js';
import { appendLayers } from '../../src/oci/image.js';
import { writeOciLayout } from '../../src/oci/layout.js';
import { pushImage } from '../../src/oci/push.js';
import { parseReference } from '../../src/oci/reference.js';
import { remoteImage } from '../../src/oci/remote.js';
import { Registries, type RegistryOptions } from '../../src/registry/client.js';
import { staticCredentials } from '../../src/registry/credentials.js';
import { headManifest } from '../../src/registry/manifests.js';
import {
  type BaseImages,
  pushBaseImages,
  skopeoInspect,
  startRegistry,
  type TestRegistry,
} from '../helpers/registry.js';
import { startFaultProxy } from './fault-proxy.js';

const execFileP = promisify(execFile);
let src: TestRegistry; // plain: holds the base images
let dst: TestRegistry; // basic auth: the push target
let bases: BaseImages;
let work: string;

before(async () => {
  [src, dst] = await Promise.all([startRegistry(), startRegistry({ auth: 'basic' })]);
  bases = await pushBaseImages(src);
  work = mkdtempSync(join(tmpdir(), 'cogts-faults-'));
});
after(async () => {
  await Promise.all([src?.stop(), dst?.stop()]);
  rmSync(work, { recursive: true, force: true });
});

const fast = { retries: 5, baseMs: 20, maxMs: 200, maxRetryAfterMs: 2000 };
function registries(
  extra: RegistryOptions = {},
  creds = { username: dst.username!, password: dst.password! },
) {
  return new Registries({ retry: fast, credentials: staticCredentials({ [dst.host]: creds }), ...extra });
}

async function codeLayer(tag: string) {
  // ~600 KB of poorly compressible bytes, so chunked uploads take several PATCHes.
  const data = Buffer.alloc(600_000);
  let x = 2463534242;
  for (let i = 0; i < data.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    data[i] = x & 0xff;
  }
  return buildLayer([bufferEntry('/src/weights.bin', data), bufferEntry('/src/tag', tag)], {
    blobDir: join(work, 'blobs'),
  });
}

async function tagExists(r: Registries, repo: string, tag: string): Promise<boolean> {
  return (await headManifest(r.client(dst.host), repo, tag)) !== undefined;
}

test('push through a faulty network (500, 429 + Retry-After, dropped request and response) completes and verifies', async () => {
  const srcProxy = await startFaultProxy(src.host, [
    {
      method: 'GET',
      path: /\/blobs\/sha256:/,
      nth: [0, 2],
      fault: { kind: 'drop-response', afterBytes: 100 },
    },
    { method: 'GET', path: /\/manifests\//, nth: [0], fault: { kind: 'status', status: 503 } },
  ]);
  const dstProxy = await startFaultProxy(dst.host, [
    {
      method: 'HEAD',
      path: /\/blobs\/sha256:/,
      nth: [0],
      fault: { kind: 'status', status: 429, retryAfter: '1' },
    },
    { method: 'PATCH', path: /\/blobs\/uploads\//, nth: [1], fault: { kind: 'status', status: 500 } },
    { method: 'PATCH', path: /\/blobs\/uploads\//, nth: [3], fault: { kind: 'drop-request' } },
    { method: 'PUT', path: /\/blobs\/uploads\//, nth: [0], fault: { kind: 'drop-request' } },
    { method: 'PUT', path: /\/manifests\//, nth: [0], fault: { kind: 'status', status: 502 } },
  ]);
  const r = new Registries({
    retry: fast,
    chunkThreshold: 100_000,
    chunkSize: 128_000,
    credentials: staticCredentials({ [dstProxy.host]: { username: dst.username!, password: dst.password! } }),
  });
  try {
    const base = await remoteImage(r, parseReference(`${srcProxy.host}/base/oci:1`));
    const image = appendLayers(base, [{ layer: await codeLayer('faults') }], { labels: { x: 'y' } });
    const sent = new Map<string, number[]>();
    const pushed = await pushImage(r, image, parseReference(`${dstProxy.host}/models/faulty:v1`), {
      onBytes: (digest, n, size) => {
        assert.ok(n > 0 && n <= size, `${digest}: ${n} of ${size}`);
        sent.set(digest, [...(sent.get(digest) ?? []), n]);
      },
    });
    assert.equal(pushed.digest, image.digest);
    // Upload progress: every uploaded blob ends at its size, even through dropped and failed chunks.
    const uploaded = pushed.blobs.filter((b) => b.result === 'uploaded');
    assert.ok(uploaded.length > 0);
    for (const b of uploaded) assert.equal(sent.get(b.digest)?.at(-1), b.size, b.digest);
    const chunked = uploaded.find((b) => b.size > 100_000);
    assert.ok(chunked && (sent.get(chunked.digest)?.length ?? 0) > 2, 'a chunked upload reports as it goes');
    assert.ok(
      dstProxy.log.some((l) => l.endsWith('drop-request')),
      dstProxy.log.join('\n'),
    );
    assert.ok(dstProxy.log.filter((l) => l.startsWith('PATCH')).length >= 4, dstProxy.log.join('\n'));
    assert.ok(
      dstProxy.log.some((l) => l.includes('429')) ||
        dstProxy.log.some((l) => l.startsWith('HEAD') && l.endsWith('status')),
    );
    assert.ok(srcProxy.log.some((l) => l.endsWith('drop-response')));
    // Verified by a tool that is not cogts, straight from the registry: skopeo checks every blob digest.
    await execFileP('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      `${dst.username}:${dst.password}`,
      `docker://${dst.host}/models/faulty:v1`,
      `oci:${join(work, 'faulty')}:v1`,
    ]);
    await execFileP('umoci', [
      'unpack',
      '--image',
      `${join(work, 'faulty')}:v1`,
      join(work, 'faulty-bundle'),
    ]);
  } finally {
    await r.close();
    await srcProxy.stop();
    await dstProxy.stop();
  }
});

test('a lying server (bytes altered) is caught by digest, and nothing is tagged', async () => {
  const liar = await startFaultProxy(src.host, [
    { method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt-body' } },
  ]);
  const r = registries();
  try {
    await assert.rejects(
      remoteImage(r, parseReference(`${liar.host}/base/oci:1`)),
      (e: Error & { code?: string }) =>
        e.code === 'E_DIGEST_MISMATCH' && /arrived with digest/.test(e.message),
    );
    // Config fetched honestly, layers from the liar: writing a layout refuses the altered layer …
    liar.rules.length = 0;
    const base = await remoteImage(r, parseReference(`${liar.host}/base/oci:1`));
    liar.rules.push({ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'corrupt-body' } });
    await assert.rejects(
      writeOciLayout(base, join(work, 'lied')),
      (e: Error & { code?: string }) => e.code === 'E_DIGEST_MISMATCH',
    );
    // … and a push of it fails before the manifest, so the tag never appears.
    const image = appendLayers(base, [{ layer: await codeLayer('liar') }]);
    await assert.rejects(pushImage(r, image, parseReference(`${dst.host}/models/lied:v1`)), /digest|DIGEST/);
    assert.equal(await tagExists(r, 'models/lied', 'v1'), false);
    // A manifest whose bytes do not match the digest asked for is refused too.
    const digest = base.digest;
    liar.rules.push({ method: 'GET', path: /\/manifests\//, fault: { kind: 'corrupt-body' } });
    await assert.rejects(
      remoteImage(r, parseReference(`${liar.host}/base/oci@${digest}`)),
      /manifest .* has digest .* but was requested as/,
    );
  } finally {
    await r.close();
    await liar.stop();
  }
});

test('wrong password, unknown repository, unknown tag: clear errors, nothing tagged', async () => {
  const good = registries();
  const bad = registries({}, { username: dst.username!, password: 'wrong' });
  try {
    const base = await remoteImage(good, parseReference(bases.oci.replace(src.host, src.host)));
    const image = appendLayers(base, [{ layer: await codeLayer('denied') }]);
    await assert.rejects(
      pushImage(bad, image, parseReference(`${dst.host}/models/denied:v1`)),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'E_REGISTRY_AUTH' &&
        e.message.includes(`"${dst.username}"`) &&
        /cogts login/.test(e.hint ?? ''),
    );
    assert.equal(await tagExists(good, 'models/denied', 'v1'), false);
    await assert.rejects(
      remoteImage(good, parseReference(`${src.host}/no/such-repo:1`)),
      (e: Error & { code?: string }) =>
        e.code === 'E_REGISTRY_NOT_FOUND' &&
        /(NAME|MANIFEST)_UNKNOWN/.test(e.message) &&
        e.message.includes('/v2/no/such-repo/manifests/1'),
    );
    await assert.rejects(
      remoteImage(good, parseReference(`${src.host}/base/oci:missing`)),
      (e: Error & { code?: string }) =>
        e.code === 'E_REGISTRY_NOT_FOUND' && /MANIFEST_UNKNOWN/.test(e.message),
    );
    await assert.rejects(
      remoteImage(registries(), parseReference(`${dst.host}/models/denied:v1`)).then(() => {}),
      /MANIFEST_UNKNOWN|NAME_UNKNOWN/,
    );
  } finally {
    await good.close();
    await bad.close();
  }
});

test('token auth: wrong password, anonymous pull allowed, anonymous push denied, access_token answers', async () => {
  const tok = await startRegistry({ auth: 'token', tokenField: 'access_token' });
  const tb = await pushBaseImages(tok);
  const anon = new Registries({ retry: fast, credentials: staticCredentials({}) });
  const wrong = new Registries({
    retry: fast,
    credentials: staticCredentials({ [tok.host]: { username: tok.username!, password: 'nope' } }),
  });
  try {
    const base = await remoteImage(anon, parseReference(tb.oci));
    assert.equal(base.layers.length, 1);
    const image = appendLayers(base, [{ layer: await codeLayer('anon') }]);
    await assert.rejects(
      pushImage(anon, image, parseReference(`${tok.host}/models/anon:v1`)),
      (e: Error & { code?: string }) => e.code === 'E_REGISTRY_DENIED' && /push/.test(e.message),
    );
    await assert.rejects(
      remoteImage(wrong, parseReference(tb.oci)),
      (e: Error & { code?: string }) =>
        e.code === 'E_REGISTRY_AUTH' && /rejected the username or password/.test(e.message),
    );
    const list = await skopeoInspect(tok, `${tok.host}/models/anon:v1`).catch(() => undefined);
    assert.equal(list, undefined, 'nothing tagged');
    // An identity token (OAuth2 refresh token, as `docker login` stores for some registries) can push.
    const idt = new Registries({
      retry: fast,
      credentials: staticCredentials({
        [tok.host]: { username: '<token>', password: '', identityToken: `refresh-${tok.username}` },
      }),
    });
    const badIdt = new Registries({
      retry: fast,
      credentials: staticCredentials({
        [tok.host]: { username: '<token>', password: '', identityToken: 'refresh-nobody' },
      }),
    });
    try {
      await pushImage(idt, image, parseReference(`${tok.host}/models/idt:v1`));
      await assert.rejects(remoteImage(badIdt, parseReference(tb.oci)), /rejected the stored identity token/);
    } finally {
      await idt.close();
      await badIdt.close();
    }
  } finally {
    await anon.close();
    await wrong.close();
    await tok.stop();
  }
});

test('a plain-HTTP registry that is not loopback needs --insecure-registry', async () => {
  const name = `registry.test:${src.host.split(':')[1]}`;
  const strict = new Registries({
    retry: fast,
    resolve: { 'registry.test': '127.0.0.1' },
    credentials: staticCredentials({}),
  });
  const lax = new Registries({
    retry: fast,
    resolve: { 'registry.test': '127.0.0.1' },
    insecureRegistries: [name],
    credentials: staticCredentials({}),
  });
  try {
    await assert.rejects(
      remoteImage(strict, parseReference(`${name}/base/oci:1`)),
      (e: Error & { code?: string; hint?: string }) =>
        e.code === 'E_REGISTRY_PLAIN_HTTP' &&
        e.hint === `if you trust the network, pass --insecure-registry ${name}`,
    );
    const img = await remoteImage(lax, parseReference(`${name}/base/oci:1`));
    assert.equal(img.layers.length, 1);
  } finally {
    await strict.close();
    await lax.close();
  }
});

test('a base blob copied between registries in chunks uses ranged reads of the source, and verifies', async () => {
  const r = new Registries({
    retry: fast,
    chunkThreshold: 64,
    chunkSize: 100,
    credentials: staticCredentials({ [dst.host]: { username: dst.username!, password: dst.password! } }),
  });
  const srcProxy = await startFaultProxy(src.host);
  try {
    const base = await remoteImage(r, parseReference(`${srcProxy.host}/base/oci:1`));
    assert.ok(base.manifest.layers[0]!.size > 200, 'several chunks');
    await pushImage(r, base, parseReference(`${dst.host}/models/ranged:v1`));
    const ranged = srcProxy.log.filter((l) => l.startsWith('GET') && l.includes('/blobs/'));
    assert.ok(ranged.length >= 3, ranged.join('\n'));
    await execFileP('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      `${dst.username}:${dst.password}`,
      `docker://${dst.host}/models/ranged:v1`,
      `oci:${join(work, 'ranged')}:v1`,
    ]);
  } finally {
    await r.close();
    await srcProxy.stop();
  }
});

test('a loopback registry on HTTPS (self-signed) is found after plain HTTP is refused', async () => {
  const tls = await startRegistry({ tls: true });
  const r = new Registries({ retry: fast, credentials: staticCredentials({}) });
  try {
    const base = await remoteImage(r, parseReference(`${src.host}/base/oci:1`));
    const pushed = await pushImage(r, base, parseReference(`${tls.host}/copied/base:1`));
    assert.equal(pushed.digest, base.digest);
    assert.equal(r.client(tls.host).endpoint.baseUrl, tls.url);
  } finally {
    await r.close();
    await tls.stop();
  }
});

test('behind a mirror, credentials are looked up for the mirror host, never sent for the mirrored name', async () => {
  const mirrors = { 'registry.example': `http://${dst.host}` };
  const creds = { username: dst.username!, password: dst.password! };
  const viaName = new Registries({
    retry: fast,
    mirrors,
    credentials: staticCredentials({ 'registry.example': creds }),
  });
  const viaMirror = new Registries({
    retry: fast,
    mirrors,
    credentials: staticCredentials({ [dst.host]: creds }),
  });
  try {
    await pushImage(
      viaMirror,
      await remoteImage(viaMirror, parseReference(`${src.host}/base/oci:1`)),
      parseReference(`${dst.host}/mirrored/base:1`),
    );
    const img = await remoteImage(viaMirror, parseReference('registry.example/mirrored/base:1'));
    assert.equal(img.layers.length, 1);
    assert.equal(img.reference.registry, 'registry.example', 'the name is kept');
    await assert.rejects(
      remoteImage(viaName, parseReference('registry.example/mirrored/base:1')),
      /requires a login/,
    );
  } finally {
    await viaName.close();
    await viaMirror.close();
  }
});

test('eager upload while building: the blob lands during the build; when it fails, the normal push still delivers', async () => {
  const { buildLayerUploading } = await import('../../src/oci/eager-upload.js');
  const proxy = await startFaultProxy(dst.host);
  const r = new Registries({
    retry: fast,
    credentials: staticCredentials({ [proxy.host]: { username: dst.username!, password: dst.password! } }),
  });
  try {
    const base = await remoteImage(r, parseReference(`${src.host}/base/oci:1`));
    const entries = [bufferEntry('/src/a.bin', randomBytes(40 << 20)), bufferEntry('/src/n', 'eager')];
    const ok = await buildLayerUploading(r, parseReference(`${proxy.host}/models/eager:v1`), entries, {
      blobDir: join(work, 'eager1'),
    });
    assert.equal(ok.uploaded, true);
    const pushed = await pushImage(
      r,
      appendLayers(base, [{ layer: ok }]),
      parseReference(`${proxy.host}/models/eager:v1`),
    );
    assert.equal(pushed.blobs.find((b) => b.digest === ok.digest)?.result, 'exists');
    assert.ok(
      proxy.log.filter((l) => l.startsWith('PATCH')).length >= 3,
      'incompressible 40 MiB: several eager chunks',
    );
    // Now the first PATCH is dropped: the eager upload gives up, the push uploads from the file.
    proxy.rules.push({
      method: 'PATCH',
      path: /\/blobs\/uploads\//,
      nth: [0],
      fault: { kind: 'drop-request' },
    });
    const entries2 = [bufferEntry('/src/a.bin', randomBytes(40 << 20)), bufferEntry('/src/n', 'eager2')];
    const bad = await buildLayerUploading(r, parseReference(`${proxy.host}/models/eager:v2`), entries2, {
      blobDir: join(work, 'eager2'),
    });
    assert.equal(bad.uploaded, false);
    const pushed2 = await pushImage(
      r,
      appendLayers(base, [{ layer: bad }]),
      parseReference(`${proxy.host}/models/eager:v2`),
    );
    assert.equal(pushed2.blobs.find((b) => b.digest === bad.digest)?.result, 'uploaded');
    await execFileP('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--src-creds',
      `${dst.username}:${dst.password}`,
      `docker://${dst.host}/models/eager:v2`,
      `oci:${join(work, 'eager-out')}:v2`,
    ]);
  } finally {
    await r.close();
    await proxy.stop();
  }
});
