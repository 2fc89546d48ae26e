/**
 * `strip --strip-debug --strip-unneeded`-like removal of the symbol table and DWARF sections from a
 * 64-bit little-endian ELF executable, in pure TypeScript so that a build on any machine (macOS, a
 * CI runner without binutils) makes the same bytes. The Node binary from the npm registry ships
 * ~18 MB of these; nothing at run time reads them (backtraces use .dynsym/.eh_frame).
 *
 * Only the easy, safe case is handled: the dropped sections are non-loaded (no SHF_ALLOC), and come
 * after every loaded section in the section table, so no section index that .dynsym or a
 * relocation refers to moves. Anything else returns the input unchanged — a bigger layer, never
 * a broken binary.
 */
const SHF_ALLOC = 0x2n;
const SHF_INFO_LINK = 0x40n;
const SHT_NOBITS = 8;
const SHT_REL = 9;
const SHT_RELA = 4;

interface Section {
  name: string;
  type: number;
  flags: bigint;
  offset: number;
  size: number;
  link: number;
  info: number;
  align: number;
  header: Buffer;
}

function droppable(s: Section): boolean {
  if ((s.flags & SHF_ALLOC) !== 0n) return false;
  return s.name === '.symtab' || s.name === '.strtab' || /^\.z?debug_/.test(s.name);
}

function cString(buf: Buffer, at: number): string {
  const end = buf.indexOf(0, at);
  return buf.toString('latin1', at, end < 0 ? buf.length : end);
}

export function stripElf(input: Buffer): Buffer {
  const isElf64Le =
    input.length > 64 && input.readUInt32BE(0) === 0x7f454c46 && input[4] === 2 && input[5] === 1;
  if (!isElf64Le) return input;
  const phoff = Number(input.readBigUInt64LE(0x20));
  const shoff = Number(input.readBigUInt64LE(0x28));
  const phentsize = input.readUInt16LE(0x36);
  const phnum = input.readUInt16LE(0x38);
  const shentsize = input.readUInt16LE(0x3a);
  const shnum = input.readUInt16LE(0x3c);
  const shstrndx = input.readUInt16LE(0x3e);
  if (shoff === 0 || shentsize !== 64 || shnum === 0 || shoff + shnum * 64 > input.length) return input;

  const raw: Omit<Section, 'name'>[] & { nameOff: number }[] = [];
  const sections: Section[] = [];
  for (let i = 0; i < shnum; i++) {
    const h = input.subarray(shoff + i * 64, shoff + (i + 1) * 64);
    raw.push({ nameOff: h.readUInt32LE(0) } as never);
    sections.push({
      name: '',
      type: h.readUInt32LE(4),
      flags: h.readBigUInt64LE(8),
      offset: Number(h.readBigUInt64LE(0x18)),
      size: Number(h.readBigUInt64LE(0x20)),
      link: h.readUInt32LE(0x28),
      info: h.readUInt32LE(0x2c),
      align: Math.max(1, Number(h.readBigUInt64LE(0x30))),
      header: Buffer.from(h),
    });
  }
  const shstr = sections[shstrndx];
  if (!shstr) return input;
  sections.forEach((s, i) => {
    s.name = cString(input, shstr.offset + (raw[i] as { nameOff: number }).nameOff);
  });

  const drop = sections.map(droppable);
  if (!drop.some(Boolean)) return input;
  const lastAlloc = sections.reduce((m, s, i) => ((s.flags & SHF_ALLOC) !== 0n ? i : m), 0);
  if (drop.some((d, i) => d && i <= lastAlloc)) return input;

  // Old index → new index (dropped sections all sit after the loaded ones, so those keep theirs).
  const remap: number[] = [];
  let next = 0;
  for (let i = 0; i < shnum; i++) remap.push(drop[i] ? -1 : next++);
  for (let i = 0; i < shnum; i++) {
    const s = sections[i] as Section;
    if (drop[i]) continue;
    const infoIsIndex = s.type === SHT_REL || s.type === SHT_RELA || (s.flags & SHF_INFO_LINK) !== 0n;
    if ((s.link !== 0 && remap[s.link] === -1) || (infoIsIndex && s.info !== 0 && remap[s.info] === -1))
      return input;
  }

  // Everything the loader maps stays byte for byte where it is.
  let end = 0;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * phentsize;
    end = Math.max(end, Number(input.readBigUInt64LE(p + 8)) + Number(input.readBigUInt64LE(p + 0x20)));
  }
  for (let i = 0; i <= lastAlloc; i++) {
    const s = sections[i] as Section;
    if (s.type !== SHT_NOBITS) end = Math.max(end, s.offset + s.size);
  }
  const parts: Buffer[] = [input.subarray(0, end)];
  let pos = end;
  const headers: Buffer[] = [];
  for (let i = 0; i < shnum; i++) {
    if (drop[i]) continue;
    const s = sections[i] as Section;
    const h = Buffer.from(s.header);
    if (i > lastAlloc && s.type !== SHT_NOBITS) {
      const pad = (s.align - (pos % s.align)) % s.align;
      if (pad) parts.push(Buffer.alloc(pad));
      pos += pad;
      h.writeBigUInt64LE(BigInt(pos), 0x18);
      parts.push(input.subarray(s.offset, s.offset + s.size));
      pos += s.size;
    }
    h.writeUInt32LE(s.link === 0 ? 0 : (remap[s.link] as number), 0x28);
    const infoIsIndex = s.type === SHT_REL || s.type === SHT_RELA || (s.flags & SHF_INFO_LINK) !== 0n;
    if (infoIsIndex && s.info !== 0) h.writeUInt32LE(remap[s.info] as number, 0x2c);
    headers.push(h);
  }
  const pad = (8 - (pos % 8)) % 8;
  if (pad) parts.push(Buffer.alloc(pad));
  pos += pad;
  const header = Buffer.from(input.subarray(0, 64));
  header.writeBigUInt64LE(BigInt(pos), 0x28);
  header.writeUInt16LE(headers.length, 0x3c);
  header.writeUInt16LE(remap[shstrndx] as number, 0x3e);
  parts[0] = Buffer.concat([header, input.subarray(64, end)]);
  parts.push(...headers);
  return Buffer.concat(parts);
}
