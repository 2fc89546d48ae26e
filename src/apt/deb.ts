import { createHash } from 'node:crypto';
import { once } from 'node:events';
import {
  closeSync,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join, posix } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { Parser, type ReadEntry } from 'tar';
import { CogtsError } from '../errors.js';
import { compressionOf, decompress } from './decompress.js';

/** One member of an `ar` archive (a .deb is `debian-binary`, `control.tar.*`, `data.tar.*`). */
export interface ArMember {
  name: string;
  offset: number;
  size: number;
}

export function readArMembers(path: string): ArMember[] {
  const fd = openSync(path, 'r');
  try {
    const magic = Buffer.alloc(8);
    readSync(fd, magic, 0, 8, 0);
    if (magic.toString('latin1') !== '!<arch>\n')
      throw new CogtsError('E_APT_DEB', `${path} is not a .deb (no ar magic)`);
    const out: ArMember[] = [];
    const hdr = Buffer.alloc(60);
    let pos = 8;
    while (readSync(fd, hdr, 0, 60, pos) === 60) {
      const name = hdr.toString('latin1', 0, 16).trim().replace(/\/$/, '');
      const size = Number.parseInt(hdr.toString('latin1', 48, 58).trim(), 10);
      if (!Number.isFinite(size) || hdr.toString('latin1', 58, 60) !== '`\n')
        throw new CogtsError('E_APT_DEB', `${path}: corrupt ar header at byte ${pos}`);
      out.push({ name, offset: pos + 60, size });
      pos += 60 + size + (size % 2);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

/** A path/link/dir from a package's data.tar, with its content staged on disk (regular files). */
export interface StagedEntry {
  /** Absolute path as the package ships it ("/usr/bin/ffmpeg"), before usrmerge mapping. */
  path: string;
  type: 'file' | 'dir' | 'symlink' | 'hardlink';
  mode: number;
  size?: number;
  target?: string;
  /** Staged content, relative to the unpack dir. */
  blob?: string;
}

export interface StagedDeb {
  /** Control members by name: control, md5sums, conffiles, postinst, triggers, shlibs… */
  control: Record<string, string>;
  entries: StagedEntry[];
  /** md5 of every regular file (for conffiles' status hashes and our own .md5sums when absent). */
  md5: Record<string, string>;
  /** Directory holding the blobs. */
  dir: string;
}

function tarPath(p: string): string {
  const n = posix.normalize(`/${p.replace(/^\.\//, '')}`).replace(/\/+$/, '');
  return n === '' ? '/' : n;
}

async function readTar(stream: Readable, onEntry: (e: ReadEntry) => void | Promise<void>): Promise<void> {
  const parser = new Parser({ strict: true });
  const pending: Promise<unknown>[] = [];
  let failure: unknown;
  parser.on('entry', (e: ReadEntry) => {
    const r = onEntry(e);
    if (r) pending.push(r.catch((err) => (failure ??= err)));
  });
  parser.on('error', (e) => (failure ??= e));
  // The parser may emit 'end' synchronously inside end(): listen first.
  const ended = once(parser, 'end');
  ended.catch(() => {});
  for await (const chunk of stream) {
    if (failure) break;
    if (!parser.write(chunk as Buffer)) await once(parser, 'drain');
  }
  parser.end();
  if (!failure) await ended;
  await Promise.all(pending);
  if (failure) throw failure;
}

function memberStream(path: string, m: ArMember): Readable {
  return createReadStream(path, { start: m.offset, end: m.offset + m.size - 1 });
}

/**
 * Unpacks a verified .deb once into `<cacheDir>/unpacked/<sha256>/` (blobs + manifest.json), so that
 * layer entries can be opened in any order later and a warm build reads no archive at all.
 */
export async function stageDeb(debPath: string, sha256: string, cacheDir: string): Promise<StagedDeb> {
  const dir = join(cacheDir, 'unpacked', sha256);
  const manifest = join(dir, 'manifest.json');
  if (existsSync(manifest))
    return { ...(JSON.parse(readFileSync(manifest, 'utf8')) as Omit<StagedDeb, 'dir'>), dir };
  const tmp = `${dir}.tmp${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(join(tmp, 'b'), { recursive: true });
  const members = readArMembers(debPath);
  const controlM = members.find((m) => m.name.startsWith('control.tar'));
  const dataM = members.find((m) => m.name.startsWith('data.tar'));
  if (!controlM || !dataM)
    throw new CogtsError('E_APT_DEB', `${debPath}: missing control.tar or data.tar member`);
  const control: Record<string, string> = {};
  await readTar(decompress(memberStream(debPath, controlM), compressionOf(controlM.name)), async (e) => {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    const name = posix.basename(e.path);
    if (e.type === 'File' && name) control[name] = Buffer.concat(chunks).toString('utf8');
  });
  const entries: StagedEntry[] = [];
  const md5: Record<string, string> = {};
  let n = 0;
  await readTar(decompress(memberStream(debPath, dataM), compressionOf(dataM.name)), async (e) => {
    const path = tarPath(e.path);
    const mode = (e.mode ?? 0o644) & 0o7777;
    if (path === '/') {
      e.resume();
      return;
    }
    switch (e.type) {
      case 'Directory':
        entries.push({ path, type: 'dir', mode });
        e.resume();
        return;
      case 'SymbolicLink':
        entries.push({ path, type: 'symlink', mode, target: e.linkpath ?? '' });
        e.resume();
        return;
      case 'Link':
        entries.push({ path, type: 'hardlink', mode, target: tarPath(e.linkpath ?? '') });
        e.resume();
        return;
      case 'File':
      case 'OldFile':
      case 'ContiguousFile': {
        const blob = `b/${n++}`;
        // Record the entry now: the archive order must survive (hard links follow their target).
        entries.push({ path, type: 'file', mode, size: e.size ?? 0, blob });
        const hash = createHash('md5');
        const out = createWriteStream(join(tmp, blob));
        // One consumer only: a Minipass entry with both a 'data' listener and a pipe loses data.
        e.on('data', (c: Buffer) => {
          hash.update(c);
          if (!out.write(c)) {
            e.pause();
            out.once('drain', () => e.resume());
          }
        });
        e.on('end', () => out.end());
        await finished(out);
        md5[path] = hash.digest('hex');
        return;
      }
      default:
        e.resume();
        throw new CogtsError('E_APT_DEB', `${debPath}: unsupported tar entry type ${e.type} for ${path}`);
    }
  });
  // The package's own md5sums double-check the whole unpack path (decompressors, tar parsing).
  for (const line of (control.md5sums ?? '').split('\n')) {
    const m = /^([0-9a-f]{32})\s+(.+)$/.exec(line.trim());
    if (!m) continue;
    const p = tarPath(m[2]!);
    if (md5[p] !== undefined && md5[p] !== m[1])
      throw new CogtsError(
        'E_APT_DEB',
        `${debPath}: ${p} unpacked with md5 ${md5[p]}, the package's md5sums say ${m[1]}`,
      );
  }
  writeFileSync(join(tmp, 'manifest.json'), JSON.stringify({ control, entries, md5 }));
  rmSync(dir, { recursive: true, force: true });
  renameSync(tmp, dir);
  return { control, entries, md5, dir };
}
