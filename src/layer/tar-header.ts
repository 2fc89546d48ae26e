/**
 * Byte-exact tar headers (POSIX ustar, plus PAX extended headers for what ustar cannot hold).
 *
 * Why not node-tar: its Pack class decides on its own which PAX records to emit (mtime with
 * fractional seconds, atime/ctime in some modes, uname from the system) and those choices have
 * changed between versions. A layer digest is the hash of these bytes, so cogts owns every byte:
 * a 512-byte header is ~60 lines, and no time record except the one mtime we choose ever appears.
 */

export const BLOCK = 512;

export type TarType = 'file' | 'hardlink' | 'symlink' | 'dir' | 'pax';

const TYPEFLAG: Record<TarType, string> = { file: '0', hardlink: '1', symlink: '2', dir: '5', pax: 'x' };

export interface HeaderFields {
  /** Path inside the archive, relative, `/`-separated; directories end with `/`. */
  name: string;
  type: TarType;
  mode: number;
  size: number;
  mtime: number;
  linkname?: string;
}

// ustar numeric fields hold at most this many octal digits; beyond them a PAX record is needed.
const MAX_SIZE_OCTAL = 0o77777777777; // 11 digits: 8 GiB - 1
const MAX_MTIME_OCTAL = 0o77777777777;

function writeString(buf: Buffer, s: string, offset: number, length: number): void {
  buf.write(s, offset, length, 'utf8');
}

function writeOctal(buf: Buffer, n: number, offset: number, length: number): void {
  // length-1 zero-padded digits, then NUL: the form GNU tar and Go's archive/tar both write.
  const digits = n.toString(8).padStart(length - 1, '0');
  buf.write(`${digits}\0`, offset, length, 'ascii');
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);
const byteLen = (s: string) => Buffer.byteLength(s, 'utf8');

/** Splits a long name into ustar prefix (≤155) + name (≤100) at a slash, when possible. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (byteLen(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i >= 0 && i <= 155; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (byteLen(prefix) <= 155 && byteLen(rest) <= 100 && rest !== '') return { prefix, name: rest };
  }
  return undefined;
}

function ustarHeader(f: HeaderFields, prefix: string, name: string, linkname: string): Buffer {
  const h = Buffer.alloc(BLOCK);
  writeString(h, name, 0, 100);
  writeOctal(h, f.mode & 0o7777, 100, 8);
  writeOctal(h, 0, 108, 8); // uid
  writeOctal(h, 0, 116, 8); // gid
  writeOctal(h, Math.min(f.size, MAX_SIZE_OCTAL), 124, 12);
  writeOctal(h, Math.min(f.mtime, MAX_MTIME_OCTAL), 136, 12);
  h.write(TYPEFLAG[f.type], 156, 1, 'ascii');
  writeString(h, linkname, 157, 100);
  h.write('ustar\u000000', 257, 8, 'ascii');
  // uname/gname stay empty (all NUL) so no build machine's user names leak into a layer.
  writeOctal(h, 0, 329, 8); // devmajor
  writeOctal(h, 0, 337, 8); // devminor
  writeString(h, prefix, 345, 155);
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 8, 'ascii');
  return h;
}

/** One PAX record: "<len> key=value\n" where len counts the whole record including itself. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let len = byteLen(body) + 1;
  while (String(len).length + byteLen(body) !== len) len = String(len).length + byteLen(body);
  return `${len}${body}`;
}

export function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return rem === 0 ? Buffer.alloc(0) : Buffer.alloc(BLOCK - rem);
}

/**
 * The header block(s) for one entry: a PAX extended header first when the path or link target is
 * too long or not ASCII, or the size exceeds 8 GiB; then the ustar header.
 */
export function encodeHeader(f: HeaderFields): Buffer {
  const linkname = f.linkname ?? '';
  const records: string[] = [];
  let split = isAscii(f.name) ? splitUstarName(f.name) : undefined;
  if (!split) {
    records.push(paxRecord('path', f.name));
    split = { prefix: '', name: truncateUtf8(f.name, 100) };
  }
  let link = linkname;
  if (!isAscii(linkname) || byteLen(linkname) > 100) {
    records.push(paxRecord('linkpath', linkname));
    link = truncateUtf8(linkname, 100);
  }
  if (f.size > MAX_SIZE_OCTAL) records.push(paxRecord('size', String(f.size)));
  if (f.mtime > MAX_MTIME_OCTAL) records.push(paxRecord('mtime', String(f.mtime)));
  const main = ustarHeader(f, split.prefix, split.name, link);
  if (records.length === 0) return main;
  const data = Buffer.from(records.join(''), 'utf8');
  // The PAX header's own name is derived from the entry, so it is as deterministic as the entry.
  const paxName = truncateUtf8(`PaxHeaders/${f.name.replace(/\/$/, '').split('/').pop() ?? ''}`, 100);
  const pax = ustarHeader(
    { name: paxName, type: 'pax', mode: 0o644, size: data.length, mtime: Math.min(f.mtime, MAX_MTIME_OCTAL) },
    '',
    paxName,
    '',
  );
  return Buffer.concat([pax, data, padding(data.length), main]);
}

function truncateUtf8(s: string, max: number): string {
  let out = s;
  while (byteLen(out) > max) out = out.slice(0, -1);
  return out;
}

/** Two zero blocks end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(BLOCK * 2);
