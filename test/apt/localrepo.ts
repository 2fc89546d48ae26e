import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createCleartextMessage, generateKey, type PrivateKey, readKey, readPrivateKey, sign } from 'openpgp';
import { fixturesDir } from '../helpers/paths.js';

interface Recipe {
  Package: string;
  Version: string;
  Architecture: string;
  compression: 'xz' | 'zstd' | 'gzip';
  files: Record<string, string>;
  links?: Record<string, string>;
  hardlinks?: Record<string, string>;
  conffiles?: string[];
  postinst?: string;
  [field: string]: unknown;
}

const CONTROL_FIELDS = [
  'Package',
  'Version',
  'Architecture',
  'Multi-Arch',
  'Pre-Depends',
  'Depends',
  'Provides',
  'Breaks',
];

export function recipes(): { packages: Recipe[]; baseStatus: Record<string, string>[] } {
  return JSON.parse(readFileSync(join(fixturesDir, 'debs', 'recipes.json'), 'utf8'));
}

/** Builds one recipe with the real dpkg-deb (so our reader is checked against dpkg's own output). */
export function buildDeb(r: Recipe, outDir: string): string {
  const root = mkdtempSync(join(tmpdir(), 'cogts-deb-'));
  mkdirSync(join(root, 'DEBIAN'));
  for (const [p, content] of Object.entries(r.files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), content, { mode: content.startsWith('#!') ? 0o755 : 0o644 });
  }
  for (const [p, target] of Object.entries(r.links ?? {})) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    symlinkSync(target, join(root, p));
  }
  for (const [p, target] of Object.entries(r.hardlinks ?? {})) linkSync(join(root, target), join(root, p));
  const control = CONTROL_FIELDS.filter((f) => r[f] !== undefined).map((f) => `${f}: ${r[f]}`);
  control.push(
    'Maintainer: cogts tests <tests@cogts.invalid>',
    'Priority: optional',
    `Description: ${r.Package} fixture`,
    ' Built by test/apt/localrepo.ts.',
  );
  writeFileSync(join(root, 'DEBIAN', 'control'), `${control.join('\n')}\n`);
  if (r.conffiles) writeFileSync(join(root, 'DEBIAN', 'conffiles'), `${r.conffiles.join('\n')}\n`);
  if (r.postinst) {
    writeFileSync(join(root, 'DEBIAN', 'postinst'), r.postinst);
    chmodSync(join(root, 'DEBIAN', 'postinst'), 0o755);
  }
  const md5 = execFileSync(
    'sh',
    ['-c', "find . -path ./DEBIAN -prune -o -type f -printf '%P\\n' | sort | xargs -r md5sum"],
    { cwd: root },
  ).toString();
  writeFileSync(join(root, 'DEBIAN', 'md5sums'), md5);
  const out = join(outDir, `${r.Package}_${r.Version}_${r.Architecture}.deb`);
  execFileSync('dpkg-deb', ['--root-owner-group', `-Z${r.compression}`, '--build', root, out], {
    stdio: 'ignore',
  });
  return out;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

/** A Packages stanza for a built .deb, as dpkg-scanpackages would write it. */
function packagesStanza(deb: string, filename: string): string {
  const control = execFileSync('dpkg-deb', ['-f', deb]).toString().trimEnd();
  const data = readFileSync(deb);
  return `${control}\nFilename: ${filename}\nSize: ${data.length}\nSHA256: ${sha256(data)}\n`;
}

export interface LocalRepo {
  root: string;
  /** Armored public key that signs InRelease. */
  publicKey: string;
  /** Binary (gpg keyring) form of the same key. */
  publicKeyBinary: Uint8Array;
  privateKey: PrivateKey;
  /** A second, untrusted key pair (to sign with the wrong key). */
  otherKey: PrivateKey;
}

export async function signClear(text: string, key: PrivateKey): Promise<string> {
  return sign({ message: await createCleartextMessage({ text }), signingKeys: key });
}

function release(files: Record<string, Buffer>, suite: string): string {
  const lines = Object.entries(files).map(([p, b]) => ` ${sha256(b)} ${String(b.length).padStart(8)} ${p}`);
  return `Origin: cogts-test\nSuite: ${suite}\nCodename: ${suite}\nArchitectures: amd64\nComponents: main\nDate: Thu, 01 Jan 2026 00:00:00 UTC\nSHA256:\n${lines.join('\n')}\n`;
}

let keys: { priv: PrivateKey; other: PrivateKey; armored: string } | undefined;

/**
 * A signed archive on disk: `dists/test` (main/binary-amd64, Packages + .xz + .gz) and a flat repo
 * in `flat/` (InRelease + Packages.gz at its root, like NVIDIA's CUDA repos).
 */
export async function buildLocalRepo(): Promise<LocalRepo> {
  if (!keys) {
    const a = await generateKey({
      type: 'ecc',
      userIDs: [{ name: 'cogts test archive' }],
      format: 'armored',
    });
    const b = await generateKey({ type: 'ecc', userIDs: [{ name: 'someone else' }], format: 'armored' });
    keys = {
      priv: await readPrivateKey({ armoredKey: a.privateKey }),
      other: await readPrivateKey({ armoredKey: b.privateKey }),
      armored: a.publicKey,
    };
  }
  const root = mkdtempSync(join(tmpdir(), 'cogts-repo-'));
  const pool = join(root, 'pool');
  mkdirSync(pool);
  const stanzas: string[] = [];
  for (const r of recipes().packages) {
    const deb = buildDeb(r, pool);
    stanzas.push(packagesStanza(deb, `pool/${deb.slice(pool.length + 1)}`));
  }
  const packages = Buffer.from(stanzas.join('\n'));
  const dir = join(root, 'dists', 'test', 'main', 'binary-amd64');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'Packages'), packages);
  execFileSync('xz', ['-k', '-9', join(dir, 'Packages')]);
  execFileSync('gzip', ['-k', '-9', '-n', join(dir, 'Packages')]);
  const rel = release(
    {
      'main/binary-amd64/Packages': packages,
      'main/binary-amd64/Packages.xz': readFileSync(join(dir, 'Packages.xz')),
      'main/binary-amd64/Packages.gz': readFileSync(join(dir, 'Packages.gz')),
    },
    'test',
  );
  writeFileSync(join(root, 'dists', 'test', 'InRelease'), await signClear(rel, keys.priv));
  // Flat layout: Filename relative to the repo root, only Packages.gz.
  const flat = join(root, 'flat');
  mkdirSync(flat);
  const flatStanzas: string[] = [];
  for (const r of recipes().packages.filter((p) => p.Package === 'hello-data')) {
    const deb = buildDeb(r, flat);
    flatStanzas.push(packagesStanza(deb, `./${deb.slice(flat.length + 1)}`));
  }
  const flatPackages = Buffer.from(flatStanzas.join('\n'));
  writeFileSync(join(flat, 'Packages'), flatPackages);
  execFileSync('gzip', ['-k', '-9', '-n', join(flat, 'Packages')]);
  writeFileSync(
    join(flat, 'InRelease'),
    await signClear(release({ 'Packages.gz': readFileSync(join(flat, 'Packages.gz')) }, 'flat'), keys.priv),
  );
  const pub = await readKey({ armoredKey: keys.armored });
  return {
    root,
    publicKey: keys.armored,
    publicKeyBinary: pub.write(),
    privateKey: keys.priv,
    otherKey: keys.other,
  };
}

/** Serves `root` on 127.0.0.1; `overrides` replace a path's body (tampering tests). */
export async function serve(
  root: string,
  overrides: Map<string, Buffer> = new Map(),
): Promise<{ url: string; server: Server; hits: string[] }> {
  const hits: string[] = [];
  const server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    hits.push(path);
    const body = overrides.get(path);
    if (body) {
      res.end(body);
      return;
    }
    try {
      const data = readFileSync(join(root, path));
      res.end(data);
    } catch {
      res.statusCode = 404;
      res.end('not found');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return { url: `http://127.0.0.1:${port}`, server, hits };
}

/** A minimal base rootfs directory: sources, keyring, dpkg status, merged /usr (bin → usr/bin). */
export function makeBase(opts: {
  sourcesList: string;
  keyring?: { path: string; data: Uint8Array | string };
}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cogts-base-'));
  mkdirSync(join(dir, 'usr', 'bin'), { recursive: true });
  mkdirSync(join(dir, 'usr', 'lib', 'x86_64-linux-gnu'), { recursive: true });
  symlinkSync('usr/bin', join(dir, 'bin'));
  symlinkSync('usr/lib', join(dir, 'lib'));
  mkdirSync(join(dir, 'etc', 'apt', 'trusted.gpg.d'), { recursive: true });
  writeFileSync(join(dir, 'etc', 'apt', 'sources.list'), opts.sourcesList);
  if (opts.keyring) {
    mkdirSync(dirname(join(dir, opts.keyring.path)), { recursive: true });
    writeFileSync(join(dir, opts.keyring.path), opts.keyring.data);
  }
  mkdirSync(join(dir, 'var', 'lib', 'dpkg', 'info'), { recursive: true });
  const status = recipes()
    .baseStatus.map(
      (s) =>
        `Package: ${s.Package}\nStatus: install ok installed\nPriority: required\nArchitecture: ${s.Architecture}\nVersion: ${s.Version}\n${s.Depends ? `Depends: ${s.Depends}\n` : ''}Description: base ${s.Package}\n`,
    )
    .join('\n');
  writeFileSync(join(dir, 'var', 'lib', 'dpkg', 'status'), status);
  writeFileSync(join(dir, 'var', 'lib', 'dpkg', 'available'), '');
  copyFileSync(join(dir, 'var', 'lib', 'dpkg', 'status'), join(dir, 'var', 'lib', 'dpkg', 'status-old'));
  return dir;
}
