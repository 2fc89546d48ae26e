/**
 * PEP 427 installer that writes nothing: it turns verified wheels into LayerEntry values for the tar
 * writer, streaming members so memory stays bounded for multi-GB wheels. Every member is checked
 * against its RECORD hash exactly once: while planning when the wheel file itself was not checked
 * against a known hash, else while the tar writer streams it (a multi-GB torch wheel is then
 * inflated once per build, not twice, and not at all on a layer cache hit).
 * Output is deterministic: sorted entries, a regenerated RECORD, no INSTALLER/REQUESTED/direct_url.json.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import type yauzl from 'yauzl';
import { atomicWrite } from '../atomic-write.js';
import { CogtsError } from '../errors.js';
import { bufferEntry, type LayerEntry } from '../layer/entry.js';
import { distInfoStem, normalizeName } from './names.js';
import { formatRecord, parseRecord, type RecordRow, recordHash } from './record.js';
import { parseScriptEntryPoints, rewriteShebang, scriptWrapper } from './scripts.js';
import { MemberCheck, openZip, readAll, type ZipHandle } from './zip.js';

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

/**
 * Opens the wheel on the first member streamed and closes it once no member has been streaming for a
 * moment, so a writer that skips entries (layer cache hit) or interleaves wheels leaks no descriptor.
 */
class SharedZip {
  private handle: Promise<{ h: ZipHandle; byName: Map<string, yauzl.Entry> }> | undefined;
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(
    private readonly path: string,
    private readonly shown: string,
  ) {}
  async stream(member: string): Promise<Readable> {
    clearTimeout(this.timer);
    this.active++;
    let s: Readable;
    try {
      this.handle ??= openZip(this.path, this.shown).then((h) => ({
        h,
        byName: new Map(h.entries.map((e) => [e.fileName.replace(/^(\.\/)+/, ''), e])),
      }));
      const { h, byName } = await this.handle;
      const e = byName.get(member);
      if (!e)
        throw new CogtsError('E_PIP_WHEEL', `${this.shown}: member ${member} vanished from the cached wheel`);
      s = await h.open(e);
    } catch (err) {
      this.release();
      throw err;
    }
    let done = false;
    const once = () => {
      if (!done) {
        done = true;
        this.release();
      }
    };
    s.once('end', once);
    s.once('close', once);
    s.once('error', once);
    return s;
  }
  private release(): void {
    if (--this.active > 0) return;
    this.timer = setTimeout(() => {
      const h = this.handle;
      this.handle = undefined;
      void h?.then(({ h }) => h.close()).catch(() => undefined);
    }, 250);
    this.timer.unref();
  }
}

/** One installed file: streamed from a wheel member, or small generated/rewritten bytes kept inline. */
interface PlannedFile {
  path: string;
  size: number;
  mode: number;
  sha256: string;
  member?: string;
  /** base64 */
  data?: string;
  /** `sha256` is RECORD's claim, checked when the member is streamed (see installer note above). */
  unchecked?: true;
}

/**
 * The verified layout of one wheel for one WheelLayout. Cached by (wheel sha256, layout) so a warm
 * rebuild neither re-inflates nor re-hashes multi-GB wheels: the cache file is only written after
 * every member matched RECORD, and the wheel itself sits in the cache under its own sha256.
 */
export interface WheelPlan {
  v: 1;
  key: string;
  name: string;
  version: string;
  size: number;
  files: PlannedFile[];
}

export function entriesFromPlan(plan: WheelPlan, wheelPath: string, shown: string): InstalledWheel {
  const shared = new SharedZip(wheelPath, shown);
  const entries: LayerEntry[] = plan.files.map((f) => {
    const executable = (f.mode & 0o111) !== 0;
    if (f.data !== undefined)
      return { ...bufferEntry(f.path, Buffer.from(f.data, 'base64'), f.mode), executable };
    const member = f.member as string;
    return {
      type: 'file',
      path: f.path,
      size: f.size,
      mode: f.mode,
      executable,
      open: f.unchecked
        ? async () => {
            const s = await shared.stream(member);
            const check = new MemberCheck(
              f,
              () =>
                new CogtsError(
                  'E_PIP_WHEEL_RECORD',
                  `${shown}: ${member} does not match its RECORD hash (corrupt or tampered wheel)`,
                ),
            );
            s.on('error', (e) => check.destroy(e));
            return s.pipe(check);
          }
        : () => shared.stream(member),
    };
  });
  return {
    key: plan.key,
    name: plan.name,
    version: plan.version,
    entries,
    size: plan.size,
    digests: new Map(plan.files.map((f) => [f.path, f.sha256])),
  };
}

export async function planWheel(
  wheelPath: string,
  pkg: { key: string; filename: string; version: string },
  layout: WheelLayout,
  /**
   * The wheel file matched a hash from the index, a lock or --hash: members are not read here; their
   * RECORD hashes are checked as the layer is written (PlannedFile.unchecked).
   */
  opts: { wheelHashChecked?: boolean } = {},
): Promise<WheelPlan> {
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
    const out: PlannedFile[] = [];
    const rows: RecordRow[] = [];
    let size = 0;
    const inline = (path: string, body: Buffer, mode: number) => {
      const h = createHash('sha256').update(body).digest();
      out.push({ path, size: body.length, mode, sha256: h.toString('hex'), data: body.toString('base64') });
      rows.push({ path: posix.relative(L.site, path), hash: recordHash(h), size: String(body.length) });
      size += body.length;
    };
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
      const keep = kind === 'scripts' && e.uncompressedSize <= SCRIPT_BUFFER_LIMIT;
      const executable = ((e.externalFileAttributes >>> 16) & 0o111) !== 0 || kind === 'scripts';
      /** A member streamed from the wheel into the layer, under the digest RECORD gives it. */
      const member = (digest: Buffer, unchecked: boolean) => {
        out.push({
          path: dest,
          size: e.uncompressedSize,
          mode: executable ? 0o755 : 0o644,
          sha256: digest.toString('hex'),
          member: name,
          ...(unchecked ? { unchecked: true as const } : {}),
        });
        rows.push({
          path: posix.relative(L.site, dest),
          hash: `sha256=${digest.toString('base64url')}`,
          size: String(e.uncompressedSize),
        });
        size += e.uncompressedSize;
      };
      const claimed = Buffer.from(want, 'base64url');
      if (opts.wheelHashChecked && !keep && claimed.length === 32) {
        member(claimed, true);
        continue;
      }
      const hash = createHash('sha256');
      const src = await z.open(e);
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
      const rewritten = keep ? rewriteShebang(Buffer.concat(chunks), layout.interpreter) : undefined;
      if (rewritten) inline(dest, rewritten, 0o755);
      else member(digest, false);
    }
    const ep = await read('entry_points.txt');
    for (const s of ep ? parseScriptEntryPoints(ep, `${where}:${distInfo}/entry_points.txt`) : []) {
      inline(posix.join(L.bin, s.name), Buffer.from(scriptWrapper(s, layout.interpreter)), 0o755);
    }
    rows.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    rows.push({ path: `${distInfo}/RECORD`, hash: '', size: '' });
    const recordBody = Buffer.from(formatRecord(rows));
    const recordHashHex = createHash('sha256').update(recordBody).digest('hex');
    out.push({
      path: posix.join(L.site, distInfo, 'RECORD'),
      size: recordBody.length,
      mode: 0o644,
      sha256: recordHashHex,
      data: recordBody.toString('base64'),
    });
    size += recordBody.length;
    const seen = new Set<string>();
    for (const f of out) {
      if (seen.has(f.path)) throw new CogtsError('E_PIP_WHEEL', `${where}: two members install to ${f.path}`);
      seen.add(f.path);
    }
    out.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    const nameFromMeta = /^Name:\s*(.+)$/im.exec((await read('METADATA')) ?? '')?.[1]?.trim() ?? pkg.key;
    return { v: 1, key: pkg.key, name: nameFromMeta, version: pkg.version, size, files: out };
  } finally {
    z.close();
  }
}

/** planWheel with its result cached under <cacheDir>/plans, keyed by wheel sha256 and layout. */
export async function cachedPlan(
  wheelPath: string,
  wheelSha256: string,
  pkg: { key: string; filename: string; version: string },
  layout: WheelLayout,
  cacheDir: string,
  opts: { wheelHashChecked?: boolean } = {},
): Promise<WheelPlan> {
  const key = createHash('sha256')
    .update(
      JSON.stringify([
        1,
        wheelSha256,
        layout.sitePackages,
        layout.interpreter,
        layout.binDir ?? '',
        layout.prefix ?? '',
      ]),
    )
    .digest('hex');
  const file = join(cacheDir, 'plans', key.slice(0, 2), `${key}.json`);
  try {
    const plan = JSON.parse(await readFile(file, 'utf8')) as WheelPlan;
    if (plan.v === 1 && plan.key === pkg.key) return plan;
  } catch {
    /* not cached yet */
  }
  // A cached plan with unchecked files stays safe for any later use: its entries check as they stream.
  const plan = await planWheel(wheelPath, pkg, layout, opts);
  await atomicWrite(file, JSON.stringify(plan));
  return plan;
}
