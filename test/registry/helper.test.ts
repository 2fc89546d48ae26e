import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pushBaseImages, skopeoInspect, startRegistry } from '../helpers/registry.js';

for (const auth of ['none', 'basic', 'token'] as const) {
  test(`test registry (${auth}) accepts skopeo pushes of the umoci base images`, async () => {
    const reg = await startRegistry({ auth });
    try {
      const imgs = await pushBaseImages(reg);
      const raw = (await skopeoInspect(reg, imgs.docker, '--raw')) as { mediaType: string };
      assert.equal(raw.mediaType, 'application/vnd.docker.distribution.manifest.v2+json');
      const idx = (await skopeoInspect(reg, imgs.multi, '--raw')) as { manifests: unknown[] };
      assert.equal(idx.manifests.length, 3);
      if (auth !== 'none') {
        const anon = await fetch(`${reg.url}/v2/base/oci/manifests/1`);
        assert.equal(anon.status, 401);
      }
      if (auth === 'token') assert.ok(reg.tokenRequests.some((s) => s.includes('repository:base/oci:')));
    } finally {
      await reg.stop();
    }
  });
}
