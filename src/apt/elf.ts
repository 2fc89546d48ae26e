/**
 * Just enough ELF to do ldconfig's job: class, machine, whether it is a shared object, and its
 * DT_SONAME. Reads through a positional `read` callback so callers need not load whole libraries.
 */
export interface ElfInfo {
  is64: boolean;
  machine: number;
  soname?: string;
}

export type ReadAt = (offset: number, length: number) => Buffer;

export function readElfInfo(read: ReadAt): ElfInfo | undefined {
  const h = read(0, 64);
  if (h.length < 52 || h.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const is64 = h[4] === 2;
  if (h[5] !== 1) return undefined; // big-endian targets are out of scope
  const type = h.readUInt16LE(16);
  if (type !== 3) return undefined; // ET_DYN
  const machine = h.readUInt16LE(18);
  const phoff = is64 ? Number(h.readBigUInt64LE(32)) : h.readUInt32LE(28);
  const phentsize = h.readUInt16LE(is64 ? 54 : 42);
  const phnum = h.readUInt16LE(is64 ? 56 : 44);
  const ph = read(phoff, phentsize * phnum);
  const loads: { vaddr: number; offset: number; filesz: number }[] = [];
  let dyn: { offset: number; size: number } | undefined;
  for (let i = 0; i < phnum; i++) {
    const o = i * phentsize;
    if (o + phentsize > ph.length) break;
    const ptype = ph.readUInt32LE(o);
    const offset = is64 ? Number(ph.readBigUInt64LE(o + 8)) : ph.readUInt32LE(o + 4);
    const vaddr = is64 ? Number(ph.readBigUInt64LE(o + 16)) : ph.readUInt32LE(o + 8);
    const filesz = is64 ? Number(ph.readBigUInt64LE(o + 32)) : ph.readUInt32LE(o + 16);
    if (ptype === 1) loads.push({ vaddr, offset, filesz });
    if (ptype === 2) dyn = { offset, size: filesz };
  }
  const info: ElfInfo = { is64, machine };
  if (!dyn) return info;
  const d = read(dyn.offset, dyn.size);
  const entSize = is64 ? 16 : 8;
  let strtab: number | undefined;
  let soname: number | undefined;
  for (let o = 0; o + entSize <= d.length; o += entSize) {
    const tag = is64 ? Number(d.readBigInt64LE(o)) : d.readInt32LE(o);
    const val = is64 ? Number(d.readBigUInt64LE(o + 8)) : d.readUInt32LE(o + 4);
    if (tag === 0) break;
    if (tag === 5) strtab = val;
    if (tag === 14) soname = val;
  }
  if (strtab === undefined || soname === undefined) return info;
  const seg = loads.find((l) => strtab! >= l.vaddr && strtab! < l.vaddr + l.filesz);
  const fileOff = seg ? strtab - seg.vaddr + seg.offset : strtab;
  const s = read(fileOff + soname, 256);
  const end = s.indexOf(0);
  info.soname = s.toString('latin1', 0, end < 0 ? s.length : end);
  return info;
}
