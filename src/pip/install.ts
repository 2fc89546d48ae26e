/**
 * PEP 427 installer that writes nothing: it turns verified wheels into LayerEntry values for the tar
 * writer. Each wheel is read twice through yauzl (once to verify every member against RECORD and
 * learn sizes, once when the writer streams it), so memory stays bounded for multi-GB wheels.
 * Output is deterministic: sorted entries, a regenerated RECORD, no INSTALLER/REQUESTED/direct_url.json.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';
import { CogtsError } from '../errors.js';
import { bufferEntry, type FileEntry, type LayerEntry } from '../layer/entry.js';
import { distInfoStem, normalizeName } from './names.js';
import { formatRecord, parseRecord, type RecordRow, recordHash } from './record.js';
import { parseScriptEntryPoints, rewriteShebang, scriptWrapper } from './scripts.js';
import { openZip, readAll, type ZipHandle } from './zip.js';

export interface WheelLayout {
  /** Absolute image path of site-packages, e.g. /usr/local/lib/python3.11/site-packages. */
  sitePackages: string;
  /** Absolute image path of the interpreter scripts run with, e.g. /usr/local/bin/python3. */
  interpreter: string;
  /** Where scripts go; default: the interpreter's folder. */
  binDir?: string;
  /** sys.prefix for `.data/data` and headers; default: sitePackages minus /lib/pythonX.Y/site-packages. */
  prefix?: string;
}

export interface InstalledWheel {
  key: string;
  name: string;
  version: string;
  /** Sorted by path. */
  entries: LayerEntry[];
  /** Bytes unpacked (what grouping uses). */
  size: number;
  /** Content digest per image path, to tell real clashes from identical duplicates. */
  digests: Map<string, string>;
}

const SCRIPT_BUFFER_LIMIT = 4 << 20;

function layoutPaths(l: WheelLayout) {
  if (!posix.isAbsolute(l.sitePackages) || !posix.isAbsolute(l.interpreter)) {
    throw new CogtsError(
      'E_PIP_LAYOUT',
      `sitePackages (${l.sitePackages}) and interpreter (${l.interpreter}) must be absolute image paths`,
    );
  }
  const pm = /^(.*)\/lib\/(python\d+\.\d+)\/(site|dist)-packages$/.exec(l.sitePackages);
  const prefix = l.prefix ?? (pm ? pm[1] || '/' : posix.dirname(l.sitePackages));
  const pyDir = pm?.[2] ?? 'python3';
  return {
    site: l.sitePackages,
    bin: l.binDir ?? posix.dirname(l.interpreter),
    prefix,
    include: posix.join(prefix, 'include', pyDir),
  };
}

/** Reject names that would escape their folder once joined (zip-slip) or that are absolute. */
function safeMember(name: string, where: string): string {
  if (
    name.startsWith('/') ||
    /^[A-Za-z]:/.test(name) ||
    name.includes('\\') ||
    name.split('/').some((s) => s === '..') ||
    name.includes('\0')
  ) {
    throw new CogtsError(
      'E_PIP_WHEEL_UNSAFE_PATH',
      `${where}: member "${name}" has an absolute or escaping path; refusing to install`,
    );
  }
  return name.replace(/^(\.\/)+/, '');
}

/** Opens the wheel once per streaming pass and closes it after its last member was streamed. */
class SharedZip {
  private handle: Promise<ZipHandle> | undefined;
  remaining = 0;
  constructor(private readonly path: string) {}
  async stream(e: yauzl.Entry): Promise<Readable> {
    this.handle ??= openZip(this.path);
    const h = await this.handle;
    const s = await h.open(e);
    let done = false;
    const release = () => {
      if (done) return;
      done = true;
      if (--this.remaining === 0) {
        h.close();
        this.handle = undefined;
      }
    };
    s.once('end', release);
    s.once('close', release);
    s.once('error', release);
    return s;
  }
}

export async function planWheel(
  wheelPath: string,
  pkg: { key: string; filename: string; version: string },
  layout: WheelLayout,
): Promise<InstalledWheel> {
  const where = pkg.filename;
  const L = layoutPaths(layout);
  const z = await openZip(wheelPath, pkg.filename);
  try {
    const files = z.entries.filter((e) => !e.fileName.endsWith('/'));
    const names = files.map((e) => safeMember(e.fileName, where));
    const byName = new Map(files.map((e, i) => [names[i] as string, e]));
    const stem = distInfoStem(pkg.key, pkg.version).toLowerCase();
    const distInfos = [
      ...new Set(names.map((n) => n.split('/')[0] as string).filter((d) => d.endsWith('.dist-info'))),
    ];
    const distInfo =
      distInfos.find((d) => normalizeName(d.slice(0, -10).split('-')[0] as string) === pkg.key) ??
      (distInfos.length === 1 ? distInfos[0] : undefined);
    if (!distInfo)
      throw new CogtsError(
        'E_PIP_WHEEL',
        `${where}: no ${stem}.dist-info folder (found: ${distInfos.join(', ') || 'none'})`,
      );
    const dataDir = `${distInfo.slice(0, -10)}.data`;
    const read = async (n: string) => {
      const e = byName.get(`${distInfo}/${n}`);
      return e ? (await readAll(await z.open(e))).toString('utf8') : undefined;
    };
    const wheelMeta = await read('WHEEL');
    if (!wheelMeta) throw new CogtsError('E_PIP_WHEEL', `${where}: ${distInfo}/WHEEL is missing`);
    const wv = /^Wheel-Version:\s*(\d+)/im.exec(wheelMeta)?.[1];
    if (wv !== '1')
      throw new CogtsError('E_PIP_WHEEL', `${where}: unsupported Wheel-Version ${wv ?? '(none)'}`);
    const recordText = await read('RECORD');
    if (recordText === undefined)
      throw new CogtsError('E_PIP_WHEEL', `${where}: ${distInfo}/RECORD is missing`);
    const record = new Map(
      parseRecord(recordText, `${where}:${distInfo}/RECORD`).map((r) => [safeMember(r.path, where), r]),
    );
    const skip = new Set([
      `${distInfo}/RECORD`,
      `${distInfo}/RECORD.jws`,
      `${distInfo}/RECORD.p7s`,
      `${distInfo}/INSTALLER`,
      `${distInfo}/REQUESTED`,
      `${distInfo}/direct_url.json`,
    ]);
    for (const r of record.keys()) {
      if (!skip.has(r) && !byName.has(r))
        throw new CogtsError('E_PIP_WHEEL', `${where}: RECORD lists ${r} but the wheel does not contain it`);
    }
    const shared = new SharedZip(wheelPath);
    const entries: FileEntry[] = [];
    const rows: RecordRow[] = [];
    const digests = new Map<string, string>();
    let size = 0;
    let streamed = 0;
    for (const [i, e] of files.entries()) {
      const name = names[i] as string;
      if (skip.has(name)) continue;
      const rec = record.get(name);
      if (!rec?.hash)
        throw new CogtsError('E_PIP_WHEEL', `${where}: ${name} is not listed with a hash in RECORD`);
      const [algo, want] = rec.hash.split('=', 2) as [string, string];
      if (algo !== 'sha256')
        throw new CogtsError(
          'E_PIP_WHEEL',
          `${where}: RECORD uses ${algo} for ${name}; only sha256 is accepted`,
        );
      let dest: string;
      let kind = 'lib';
      if (name.startsWith(`${dataDir}/`)) {
        const sub = name.slice(dataDir.length + 1);
        const slash = sub.indexOf('/');
        kind = sub.slice(0, slash);
        const rest = sub.slice(slash + 1);
        if (kind === 'purelib' || kind === 'platlib') dest = posix.join(L.site, rest);
        else if (kind === 'scripts') dest = posix.join(L.bin, rest);
        else if (kind === 'headers') dest = posix.join(L.include, pkg.key, rest);
        else if (kind === 'data') dest = posix.join(L.prefix, rest);
        else throw new CogtsError('E_PIP_WHEEL', `${where}: unknown .data folder "${kind}" (${name})`);
      } else dest = posix.join(L.site, name);
      const hash = createHash('sha256');
      const src = await z.open(e);
      const keep = kind === 'scripts' && e.uncompressedSize <= SCRIPT_BUFFER_LIMIT;
      const chunks: Buffer[] = [];
      for await (const c of src) {
        hash.update(c as Buffer);
        if (keep) chunks.push(c as Buffer);
      }
      const digest = hash.digest();
      if (digest.toString('base64url') !== want.replace(/=+$/, '')) {
        throw new CogtsError(
          'E_PIP_WHEEL_RECORD',
          `${where}: ${name} does not match its RECORD hash (corrupt or tampered wheel)`,
        );
      }
      const executable = ((e.externalFileAttributes >>> 16) & 0o111) !== 0 || kind === 'scripts';
      const mode = executable ? 0o755 : 0o644;
      const rewritten = keep ? rewriteShebang(Buffer.concat(chunks), layout.interpreter) : undefined;
      if (rewritten) {
        entries.push({ ...bufferEntry(dest, rewritten, 0o755), executable: true });
        const h = createHash('sha256').update(rewritten).digest();
        rows.push({
          path: posix.relative(L.site, dest),
          hash: recordHash(h),
          size: String(rewritten.length),
        });
        digests.set(dest, h.toString('hex'));
        size += rewritten.length;
      } else {
        streamed++;
        entries.push({
          type: 'file',
          path: dest,
          size: e.uncompressedSize,
          mode,
          executable,
          open: () => shared.stream(e),
        });
        rows.push({
          path: posix.relative(L.site, dest),
          hash: `sha256=${digest.toString('base64url')}`,
          size: String(e.uncompressedSize),
        });
        digests.set(dest, digest.toString('hex'));
        size += e.uncompressedSize;
      }
    }
    shared.remaining = streamed;
    const ep = await read('entry_points.txt');
    for (const s of ep ? parseScriptEntryPoints(ep, `${where}:${distInfo}/entry_points.txt`) : []) {
      const dest = posix.join(L.bin, s.name);
      const body = Buffer.from(scriptWrapper(s, layout.interpreter));
      const h = createHash('sha256').update(body).digest();
      entries.push({ ...bufferEntry(dest, body, 0o755), executable: true });
      rows.push({ path: posix.relative(L.site, dest), hash: recordHash(h), size: String(body.length) });
      digests.set(dest, h.toString('hex'));
      size += body.length;
    }
    const recordPath = posix.join(L.site, distInfo, 'RECORD');
    rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    rows.push({ path: `${distInfo}/RECORD`, hash: '', size: '' });
    const recordBody = formatRecord(rows);
    entries.push(bufferEntry(recordPath, recordBody, 0o644));
    digests.set(recordPath, createHash('sha256').update(recordBody).digest('hex'));
    size += Buffer.byteLength(recordBody);
    const seen = new Set<string>();
    for (const en of entries) {
      if (seen.has(en.path))
        throw new CogtsError('E_PIP_WHEEL', `${where}: two members install to ${en.path}`);
      seen.add(en.path);
    }
    entries.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const nameFromMeta = /^Name:\s*(.+)$/im.exec((await read('METADATA')) ?? '')?.[1]?.trim() ?? pkg.key;
    return { key: pkg.key, name: nameFromMeta, version: pkg.version, entries, size, digests };
  } finally {
    z.close();
  }
}
