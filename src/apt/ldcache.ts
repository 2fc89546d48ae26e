/**
 * /etc/ld.so.cache in glibc's "glibc-ld.so.cache1.1" format (the only one glibc ≥ 2.32's ldconfig
 * writes by default). Layout: a 48-byte header, nlibs 24-byte entries, then a string table; string
 * offsets count from the start of the file. Entries are sorted *descending* by _dl_cache_libcmp,
 * because the loader binary-searches in that order.
 */
const MAGIC = 'glibc-ld.so.cache1.1';
const HEADER = 48;
const ENTRY = 24;

export interface CacheEntry {
  /** FLAG_ELF_LIBC6 (3) | an arch flag such as FLAG_X8664_LIB64 (0x300) or FLAG_AARCH64_LIB64 (0xa00). */
  flags: number;
  soname: string;
  path: string;
}

/** ldconfig's flags for a glibc ELF object of this class and machine. */
export function cacheFlags(is64: boolean, machine: number): number {
  if (machine === 62 && is64) return 0x0303; // x86-64
  if (machine === 183 && is64) return 0x0a03; // aarch64
  if (machine === 243 && is64) return 0x0f03; // riscv64 (lp64d)
  if (machine === 21 && is64) return 0x0503; // ppc64
  if (machine === 22 && is64) return 0x0603; // s390x
  return 0x0003;
}

/** glibc's _dl_cache_libcmp: like strcmp, but runs of digits compare as numbers. */
export function libcmp(a: string, b: string): number {
  let i = 0;
  let j = 0;
  const dig = (s: string, k: number) => k < s.length && s.charCodeAt(k) >= 48 && s.charCodeAt(k) <= 57;
  while (i < a.length) {
    if (dig(a, i)) {
      if (!dig(b, j)) return 1;
      let va = 0;
      let vb = 0;
      while (dig(a, i)) va = va * 10 + a.charCodeAt(i++) - 48;
      while (dig(b, j)) vb = vb * 10 + b.charCodeAt(j++) - 48;
      if (va !== vb) return va - vb;
    } else if (dig(b, j)) {
      return -1;
    } else if (a[i] !== b[j]) {
      return a.charCodeAt(i) - (j < b.length ? b.charCodeAt(j) : 0);
    } else {
      i++;
      j++;
    }
  }
  return j < b.length ? -b.charCodeAt(j) : 0;
}

export function parseLdCache(buf: Buffer): CacheEntry[] | undefined {
  // An old-format cache ("ld.so-1.7.0") may carry the new one after its entries; string offsets
  // are then relative to where the new header starts (glibc's dl-cache.c: cache_data = cache_new).
  const base = buf.indexOf(MAGIC, 0, 'latin1');
  if (base < 0 || buf.length < base + HEADER) return undefined;
  const n = buf.readUInt32LE(base + 20);
  const str = (off: number) => {
    const end = buf.indexOf(0, base + off);
    return buf.toString('utf8', base + off, end < 0 ? buf.length : end);
  };
  const out: CacheEntry[] = [];
  for (let i = 0; i < n; i++) {
    const o = base + HEADER + i * ENTRY;
    if (o + ENTRY > buf.length) return undefined;
    out.push({
      flags: buf.readInt32LE(o),
      soname: str(buf.readUInt32LE(o + 4)),
      path: str(buf.readUInt32LE(o + 8)),
    });
  }
  return out;
}

export function writeLdCache(entries: CacheEntry[]): Buffer {
  const sorted = [...entries].sort(
    (x, y) =>
      libcmp(y.soname, x.soname) || y.flags - x.flags || (x.path < y.path ? -1 : x.path > y.path ? 1 : 0),
  );
  const strings: Buffer[] = [];
  const offsets = new Map<string, number>();
  let strBase = HEADER + sorted.length * ENTRY;
  const intern = (s: string): number => {
    const have = offsets.get(s);
    if (have !== undefined) return have;
    const b = Buffer.from(`${s}\0`, 'utf8');
    offsets.set(s, strBase);
    strBase += b.length;
    strings.push(b);
    return offsets.get(s)!;
  };
  const table = Buffer.alloc(sorted.length * ENTRY);
  sorted.forEach((e, i) => {
    table.writeInt32LE(e.flags, i * ENTRY);
    table.writeUInt32LE(intern(e.soname), i * ENTRY + 4);
    table.writeUInt32LE(intern(e.path), i * ENTRY + 8);
    // osversion (u32) and hwcap (u64) stay 0: no hwcap subdirectories.
  });
  const str = Buffer.concat(strings);
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(sorted.length, 20);
  header.writeUInt32LE(str.length, 24);
  header[28] = 2; // cache_file_new_flags_endian_little
  // extension_offset (u32 at 32) = 0: no extensions (generator string, glibc-hwcaps).
  return Buffer.concat([header, table, str]);
}
