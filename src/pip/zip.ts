/**
 * Zip access for wheels. Local files go through yauzl (streaming, central directory only in memory);
 * remote wheels can have a single member read with HTTP Range requests against the central directory,
 * so learning a 2 GB torch wheel's dependencies costs a few KB.
 */

import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open as openFile } from 'node:fs/promises';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { createInflateRaw, inflateRawSync } from 'node:zlib';
import yauzl from 'yauzl';
import { CogtsError } from '../errors.js';
import type { HttpClient } from './http.js';

export interface ZipHandle {
  entries: yauzl.Entry[];
  open(entry: yauzl.Entry): Promise<Readable>;
  close(): void;
}

/** `shown` names the wheel in messages (the cache path means nothing to a user). */
export function openZip(path: string, shown = path): Promise<ZipHandle> {
  return new Promise((resolve, reject) => {
    yauzl.open(
      path,
      { lazyEntries: true, autoClose: false, strictFileNames: false, validateEntrySizes: true },
      (err, zf) => {
        if (err || !zf)
          return reject(
            new CogtsError('E_PIP_WHEEL', `${shown} is not a readable zip/wheel: ${err?.message}`, {
              cause: err,
            }),
          );
        const entries: yauzl.Entry[] = [];
        zf.on('entry', (e: yauzl.Entry) => {
          entries.push(e);
          zf.readEntry();
        });
        zf.on('error', (e: Error) => {
          zf.close();
          // yauzl itself refuses absolute and "../" member names: that is a zip-slip attempt, not corruption.
          const slip = /^(invalid relative path|absolute path): (.*)$/.exec(e.message);
          if (slip)
            reject(
              new CogtsError(
                'E_PIP_WHEEL_UNSAFE_PATH',
                `${shown}: member "${slip[2]}" has an absolute or escaping path; refusing to install`,
                { cause: e },
              ),
            );
          else reject(new CogtsError('E_PIP_WHEEL', `${shown}: corrupt zip: ${e.message}`, { cause: e }));
        });
        zf.on('end', () => {
          // Members are read with our own positioned reads: yauzl's reader goes 16 KiB at a time
          // (a 200 MB wheel was ~13k pool round trips and as many buffers for the GC); it still
          // parses and checks the central directory.
          zf.close();
          const file = openFile(path, 'r');
          file.catch(() => {});
          resolve({
            entries,
            open: async (entry) => readMember(await file, path, entry, shown),
            close: () => void file.then((f) => f.close()).catch(() => {}),
          });
        });
        zf.readEntry();
      },
    );
  });
}

/**
 * Passes a member's bytes through and fails when they are not what was declared: more than `size`
 * bytes (at once: a member must not inflate past it), fewer at the end, or (with `sha256`) another
 * digest. `fail` words the error for the caller (zip sizes here, RECORD hashes in the installer).
 */
export class MemberCheck extends Transform {
  private seen = 0;
  private readonly hash;
  constructor(
    private readonly want: { size: number; sha256?: string },
    private readonly fail: (problem: 'too big' | 'size' | 'hash', seen: number) => Error,
  ) {
    super();
    this.hash = want.sha256 ? createHash('sha256') : undefined;
  }
  override _transform(chunk: Buffer, _e: BufferEncoding, cb: TransformCallback): void {
    this.seen += chunk.length;
    if (this.seen > this.want.size) {
      cb(this.fail('too big', this.seen));
      return;
    }
    this.hash?.update(chunk);
    cb(null, chunk);
  }
  override _flush(cb: TransformCallback): void {
    if (this.seen !== this.want.size) cb(this.fail('size', this.seen));
    else if (this.hash && this.hash.digest('hex') !== this.want.sha256) cb(this.fail('hash', this.seen));
    else cb();
  }
}

/** The zip's own declared size, checked as a member is read. */
function sizeCheck(size: number, what: string): MemberCheck {
  return new MemberCheck({ size }, (problem, seen) =>
    problem === 'too big'
      ? new CogtsError('E_PIP_WHEEL', `${what} inflates past its declared ${size} bytes`)
      : new CogtsError('E_PIP_WHEEL', `${what} is ${seen} bytes, the zip says ${size}`),
  );
}

type FileHandle = Awaited<ReturnType<typeof openFile>>;

async function readMember(f: FileHandle, path: string, entry: yauzl.Entry, shown: string): Promise<Readable> {
  const what = `${shown}: ${entry.fileName}`;
  const lh = Buffer.alloc(30);
  await f.read(lh, 0, 30, entry.relativeOffsetOfLocalHeader);
  if (lh.readUInt32LE(0) !== 0x04034b50)
    throw new CogtsError('E_PIP_WHEEL', `${what}: bad local file header`);
  const start = entry.relativeOffsetOfLocalHeader + 30 + lh.readUInt16LE(26) + lh.readUInt16LE(28);
  const n = entry.compressedSize;
  let raw: Readable;
  if (n <= 256 << 10) {
    // Most members are small source files: one read, no stream machinery.
    const buf = Buffer.allocUnsafe(n);
    const { bytesRead } = n ? await f.read(buf, 0, n, start) : { bytesRead: 0 };
    if (bytesRead !== n)
      throw new CogtsError('E_PIP_WHEEL', `${what}: truncated (${bytesRead} of ${n} bytes)`);
    raw = Readable.from([buf], { objectMode: false });
  } else {
    // Big members (few per wheel) get their own descriptor: streams on one FileHandle all listen to it.
    raw = createReadStream(path, { start, end: start + n - 1, highWaterMark: 1 << 20 });
  }
  if (entry.compressionMethod === 0)
    return n === entry.uncompressedSize ? raw : raw.pipe(sizeCheck(entry.uncompressedSize, what));
  if (entry.compressionMethod !== 8)
    throw new CogtsError(
      'E_PIP_WHEEL',
      `${what} uses unsupported zip compression ${entry.compressionMethod}`,
    );
  const inflate = createInflateRaw({ chunkSize: 256 << 10 });
  const limit = sizeCheck(entry.uncompressedSize, what);
  raw.on('error', (e) => inflate.destroy(e));
  inflate.on('error', (e) =>
    limit.destroy(new CogtsError('E_PIP_WHEEL', `${what}: ${e.message}`, { cause: e })),
  );
  return raw.pipe(inflate).pipe(limit);
}

export async function readAll(s: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of s) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

interface CdEntry {
  name: string;
  method: number;
  compSize: number;
  offset: number;
}

/**
 * Read one member of a remote zip whose name matches `pick` using Range requests.
 * undefined when the server does not do ranges (caller falls back to downloading the wheel).
 */
export async function rangeReadMember(
  http: HttpClient,
  url: string,
  pick: (names: string[]) => string | undefined,
): Promise<Buffer | undefined> {
  const tail = await http.getRange(url, -65_536);
  if (!tail) return undefined;
  const { data, total } = tail;
  const tailStart = total - data.length;
  const eocd = data.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0)
    throw new CogtsError('E_PIP_WHEEL', `${url}: no zip end-of-central-directory record (not a wheel?)`);
  let cdSize = data.readUInt32LE(eocd + 12);
  let cdOffset = data.readUInt32LE(eocd + 16);
  if (cdOffset === 0xffffffff || cdSize === 0xffffffff) {
    const loc = eocd - 20;
    if (loc < 0 || data.readUInt32LE(loc) !== 0x07064b50)
      throw new CogtsError('E_PIP_WHEEL', `${url}: zip64 locator missing`);
    const z64 = Number(data.readBigUInt64LE(loc + 8)) - tailStart;
    if (z64 < 0) return undefined;
    cdSize = Number(data.readBigUInt64LE(z64 + 40));
    cdOffset = Number(data.readBigUInt64LE(z64 + 48));
  }
  let cd: Buffer;
  if (cdOffset >= tailStart) cd = data.subarray(cdOffset - tailStart, cdOffset - tailStart + cdSize);
  else {
    const r = await http.getRange(url, cdOffset, cdOffset + cdSize - 1);
    if (!r) return undefined;
    cd = r.data;
  }
  const entries = parseCentralDirectory(cd, url);
  const name = pick(entries.map((e) => e.name));
  const ent = entries.find((e) => e.name === name);
  if (!ent) return undefined;
  const want = 30 + Buffer.byteLength(ent.name) + 1024 + ent.compSize;
  const lh = await http.getRange(url, ent.offset, Math.min(total, ent.offset + want) - 1);
  if (!lh) return undefined;
  let buf = lh.data;
  if (buf.readUInt32LE(0) !== 0x04034b50)
    throw new CogtsError('E_PIP_WHEEL', `${url}: bad local header for ${ent.name}`);
  const start = 30 + buf.readUInt16LE(26) + buf.readUInt16LE(28);
  if (buf.length < start + ent.compSize) {
    const more = await http.getRange(url, ent.offset + start, ent.offset + start + ent.compSize - 1);
    if (!more) return undefined;
    buf = more.data;
  } else buf = buf.subarray(start, start + ent.compSize);
  if (ent.method === 0) return buf;
  if (ent.method === 8) return inflateRawSync(buf);
  throw new CogtsError('E_PIP_WHEEL', `${url}: ${ent.name} uses unsupported zip compression ${ent.method}`);
}

function parseCentralDirectory(cd: Buffer, url: string): CdEntry[] {
  const out: CdEntry[] = [];
  let p = 0;
  while (p + 46 <= cd.length && cd.readUInt32LE(p) === 0x02014b50) {
    const method = cd.readUInt16LE(p + 10);
    let compSize = cd.readUInt32LE(p + 20);
    let uncomp = cd.readUInt32LE(p + 24);
    const nameLen = cd.readUInt16LE(p + 28);
    const extraLen = cd.readUInt16LE(p + 30);
    const commentLen = cd.readUInt16LE(p + 32);
    let offset = cd.readUInt32LE(p + 42);
    const name = cd.toString('utf8', p + 46, p + 46 + nameLen);
    // Zip64 extra field carries whichever of the three values overflowed, in this order.
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = cd.readUInt16LE(e);
      const len = cd.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (uncomp === 0xffffffff) {
          uncomp = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (compSize === 0xffffffff) {
          compSize = Number(cd.readBigUInt64LE(q));
          q += 8;
        }
        if (offset === 0xffffffff) offset = Number(cd.readBigUInt64LE(q));
      }
      e += 4 + len;
    }
    out.push({ name, method, compSize, offset });
    p = eEnd + commentLen;
  }
  if (out.length === 0)
    throw new CogtsError('E_PIP_WHEEL', `${url}: empty or unreadable zip central directory`);
  return out;
}
