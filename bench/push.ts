/**
 * Push benchmark (issue 3): a model-code layer of ~200 MB on a small base, pushed to a local
 * docker-registry, then rebuilt and pushed again after one file changes — cogts vs `umoci insert`
 * + `skopeo copy` doing the same on the same registry. Each measurement is a fresh process.
 *
 *   npx tsc -p tsconfig.json --outDir dist-b && node dist-b/bench/push.js [runs=5] [sizeMB=200]
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildLayerUploading } from '../src/oci/eager-upload.js';
import { appendLayers } from '../src/oci/image.js';
import { pushImage } from '../src/oci/push.js';
import { parseReference } from '../src/oci/reference.js';
import { remoteImage } from '../src/oci/remote.js';
import { Registries } from '../src/registry/client.js';
import { staticCredentials } from '../src/registry/credentials.js';
import { codeEntries } from '../src/sources/code.js';
import { baseImageLayout, pushBaseImages, startRegistry } from '../test/helpers/registry.js';

const self = fileURLToPath(import.meta.url);

/** Child mode: one cogts build of the code layer on the base, pushed. Prints ms. */
async function cogtsOnce(project: string, base: string, target: string, blobDir: string): Promise<void> {
  const t0 = performance.now();
  const registries = new Registries({ credentials: staticCredentials({}) });
  // The code layer is uploaded while it is built (EagerUpload); the push then finds it present.
  const [baseImage, layer] = await Promise.all([
    remoteImage(registries, parseReference(base)),
    codeEntries(project).then((e) => buildLayerUploading(registries, parseReference(target), e, { blobDir })),
  ]);
  const image = appendLayers(baseImage, [{ layer, createdBy: 'COPY . /src' }], { workingDir: '/src' });
  await pushImage(registries, image, parseReference(target));
  await registries.close();
  process.stdout.write(`${Math.round(performance.now() - t0)}\n`);
}

function timeChild(args: string[]): number {
  const r = spawnSync(process.execPath, [self, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`cogts run failed: ${r.stderr}`);
  return Number(r.stdout.trim());
}

function timeCmds(cmds: [string, string[]][]): number {
  const t0 = performance.now();
  for (const [cmd, args] of cmds) execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  return Math.round(performance.now() - t0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  if (process.argv[2] === '--cogts-once') {
    await cogtsOnce(process.argv[3]!, process.argv[4]!, process.argv[5]!, process.argv[6]!);
    return;
  }
  const runs = Number(process.argv[2] ?? 5);
  const sizeMB = Number(process.argv[3] ?? 200);
  const work = mkdtempSync(join(tmpdir(), 'cogts-bench-push-'));
  const reg = await startRegistry();
  try {
    const bases = await pushBaseImages(reg);
    const layout = await baseImageLayout();
    const project = join(work, 'model');
    mkdirSync(join(project, 'weights'), { recursive: true });
    for (let i = 0; i < sizeMB / 50; i++)
      writeFileSync(join(project, 'weights', `part${i}.bin`), randomBytes(50 << 20));
    for (let i = 0; i < 200; i++) writeFileSync(join(project, `mod${i}.py`), `# module ${i}\n`.repeat(50));
    writeFileSync(join(project, 'predict.py'), 'v = 0\n');
    const rows: Record<string, number[]> = {
      'cogts push': [],
      'cogts rebuild+push': [],
      'umoci+skopeo push': [],
      'umoci+skopeo rebuild+push': [],
    };
    for (let r = 0; r < runs; r++) {
      writeFileSync(join(project, 'predict.py'), `v = ${r}a\n`);
      const blobDir = join(work, `blobs-${r}`);
      rows['cogts push']!.push(
        timeChild(['--cogts-once', project, bases.oci, `${reg.host}/bench/cogts-${r}:v1`, blobDir]),
      );
      writeFileSync(join(project, 'predict.py'), `v = ${r}b\n`);
      rows['cogts rebuild+push']!.push(
        timeChild(['--cogts-once', project, bases.oci, `${reg.host}/bench/cogts-${r}:v2`, blobDir]),
      );
      // umoci+skopeo: insert the project at /src into a fresh copy of the base layout, copy it to the registry.
      for (const [name, v, tag] of [
        ['umoci+skopeo push', `${r}c`, 'v1'],
        ['umoci+skopeo rebuild+push', `${r}d`, 'v2'],
      ] as const) {
        writeFileSync(join(project, 'predict.py'), `v = ${v}\n`);
        const l = join(work, `layout-${r}-${tag}`);
        cpSync(layout, l, { recursive: true });
        rows[name]!.push(
          timeCmds([
            ['umoci', ['insert', '--image', `${l}:amd64`, project, '/src']],
            [
              'skopeo',
              [
                'copy',
                '--quiet',
                '--dest-tls-verify=false',
                `oci:${l}:amd64`,
                `docker://${reg.host}/bench/umoci-${r}:${tag}`,
              ],
            ],
          ]),
        );
        rmSync(l, { recursive: true, force: true });
      }
      rmSync(blobDir, { recursive: true, force: true });
    }
    const date = new Date().toISOString().slice(0, 10);
    const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
    process.stdout.write(`date ${date}, ${runs} runs, code layer ${sizeMB} MB random + 200 small files\n`);
    process.stdout.write('| case | median ms | all runs (ms) |\n|---|---|---|\n');
    for (const [k, v] of Object.entries(rows)) process.stdout.write(`| ${k} | ${m[k]} | ${v.join(', ')} |\n`);
    process.stdout.write(
      `ratio push cogts/umoci+skopeo = ${(m['cogts push']! / m['umoci+skopeo push']!).toFixed(2)}; ` +
        `rebuild+push = ${(m['cogts rebuild+push']! / m['umoci+skopeo rebuild+push']!).toFixed(2)}\n`,
    );
  } finally {
    await reg.stop();
    rmSync(work, { recursive: true, force: true });
  }
}

await main();
