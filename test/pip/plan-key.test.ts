/** The pip plan key: what names the pip layers before any wheel is downloaded. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import {
  DEFAULT_BIG_PACKAGE_BYTES,
  type PlanKeyPackage,
  pipPlanKey,
  type WheelLayout,
} from '../../src/pip/index.js';
import { installerFingerprint } from '../../src/pip/plan-key.js';

const sha = (c: string) => c.repeat(64);
const packages: PlanKeyPackage[] = [
  { name: 'alpha', version: '2.0', filename: 'alpha-2.0-py3-none-any.whl', sha256: sha('a') },
  { name: 'beta', version: '1.6', filename: 'beta-1.6-py3-none-any.whl', sha256: sha('b') },
  { name: 'torch', version: '2.1.0', filename: 'torch-2.1.0-cp311-cp311-linux_x86_64.whl', sha256: sha('c') },
];
const layout: WheelLayout = {
  sitePackages: '/usr/local/lib/python3.11/dist-packages',
  interpreter: '/usr/bin/python3.11',
  prefix: '/usr/local',
  binDir: '/usr/local/bin',
};
const big = DEFAULT_BIG_PACKAGE_BYTES;

test('the key is a hex sha256, the same for the same inputs in any package order', () => {
  const k = pipPlanKey(packages, layout, big);
  assert.match(k ?? '', /^[0-9a-f]{64}$/);
  assert.equal(pipPlanKey([...packages].reverse(), { ...layout }, big), k);
  const [a, b, c] = packages as [PlanKeyPackage, PlanKeyPackage, PlanKeyPackage];
  assert.equal(pipPlanKey([b, c, a], layout, big), k);
  // Index hashes are hex in either case: one wheel, one key.
  assert.equal(
    pipPlanKey([{ ...a, sha256: sha('A') }, b, c], layout, big),
    pipPlanKey([a, b, c], layout, big),
  );
});

test("every package's sha256, name, version and file name changes the key", () => {
  const k = pipPlanKey(packages, layout, big);
  for (let i = 0; i < packages.length; i++) {
    for (const change of [
      { sha256: sha('d') },
      { version: '9.9' },
      { name: 'other' },
      { filename: 'other-1.0-py3-none-any.whl' },
    ]) {
      const changed = packages.map((p, j) => (j === i ? { ...p, ...change } : p));
      assert.notEqual(pipPlanKey(changed, layout, big), k, `package ${i}: ${JSON.stringify(change)}`);
    }
  }
  assert.notEqual(pipPlanKey(packages.slice(1), layout, big), k, 'a package less');
});

test('the layout, the big-package threshold and the installer change the key', () => {
  const k = pipPlanKey(packages, layout, big);
  for (const change of [
    { sitePackages: '/usr/local/lib/python3.11/site-packages' },
    { interpreter: '/usr/local/bin/python3' },
    { prefix: '/opt' },
    { binDir: '/opt/bin' },
  ]) {
    assert.notEqual(pipPlanKey(packages, { ...layout, ...change }, big), k, JSON.stringify(change));
  }
  const { binDir: _, ...noBin } = layout;
  assert.notEqual(pipPlanKey(packages, noBin, big), k, 'binDir left to its default');
  assert.notEqual(pipPlanKey(packages, layout, big + 1), k);
  assert.notEqual(pipPlanKey(packages, layout, 50 * 1024 * 1024), k);
  assert.equal(pipPlanKey(packages, layout, big, installerFingerprint()), k);
  assert.notEqual(pipPlanKey(packages, layout, big, 'another-installer'), k);
});

test('no key when any wheel hash is unknown before download', () => {
  const [a, b] = packages as [PlanKeyPackage, PlanKeyPackage];
  const { sha256: _, ...noHash } = b;
  assert.equal(pipPlanKey([a, noHash], layout, big), undefined);
  assert.equal(pipPlanKey([a, { ...b, sha256: 'not-a-digest' }], layout, big), undefined);
  assert.match(pipPlanKey([], layout, big) ?? '', /^[0-9a-f]{64}$/, 'no packages is a known (empty) plan');
});

test('the installer fingerprint comes from the compiled pip modules', () => {
  assert.match(installerFingerprint(), /^[0-9a-f]{16}$/);
  assert.equal(installerFingerprint(), installerFingerprint());
  // What it would be if no module file were found: the module names alone.
  const names = createHash('sha256');
  for (const n of ['index', 'install', 'record', 'scripts', 'names', 'zip']) names.update(`../pip/${n}.js\0`);
  assert.notEqual(installerFingerprint(), names.digest('hex').slice(0, 16), 'the module files were read');
});
