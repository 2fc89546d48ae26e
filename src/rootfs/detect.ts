import { isCogtsError } from '../errors.js';
import { listPythons, type PythonInstall } from './python.js';
import type { Rootfs } from './types.js';

export interface OsRelease {
  /** "debian", "ubuntu", "alpine"… */
  id: string;
  idLike: string[];
  /** "12", "22.04"; absent on Debian testing/sid. */
  versionId?: string;
  /** "bookworm", "jammy"; from VERSION_CODENAME, UBUNTU_CODENAME or "12 (bookworm)". */
  codename?: string;
  prettyName?: string;
}

export interface LibcInfo {
  kind: 'glibc' | 'musl';
  /** "2.36", "1.2.4"; undefined when nothing readable says so. */
  version?: string;
  /** Where it was found (the canonical path of libc.so.6 or the musl loader). */
  path: string;
  /** How the version was learnt, for messages. */
  source?: 'file-name' | 'banner' | 'dpkg' | 'apk';
}

export interface ImageFacts {
  os?: OsRelease;
  libc?: LibcInfo;
  /** OCI architecture name: amd64, arm64, arm, 386, ppc64le, s390x, riscv64. */
  architecture?: string;
  pythons: PythonInstall[];
}

/** readFile that treats "content not kept" like "unknown", for best-effort detection. */
export function readIfKept(view: Rootfs, path: string): Buffer | undefined {
  try {
    return view.readFile(path);
  } catch (e) {
    if (isCogtsError(e) && e.code === 'E_ROOTFS_NOT_CAPTURED') return undefined;
    throw e;
  }
}

/** os-release(5) KEY=value lines, quotes and backslash escapes removed. */
export function parseOsRelease(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = (m[2] as string).trim();
    const q = v[0];
    if ((q === '"' || q === "'") && v.endsWith(q) && v.length >= 2)
      v = v.slice(1, -1).replace(/\\(.)/g, '$1');
    out[m[1] as string] = v;
  }
  return out;
}

export function readOsRelease(view: Rootfs): OsRelease | undefined {
  const text = readIfKept(view, '/etc/os-release') ?? readIfKept(view, '/usr/lib/os-release');
  if (!text) return undefined;
  const kv = parseOsRelease(text.toString('utf8'));
  if (!kv.ID) return undefined;
  const codename = kv.VERSION_CODENAME || kv.UBUNTU_CODENAME || /\(([a-z]+)\)/.exec(kv.VERSION ?? '')?.[1];
  return {
    id: kv.ID,
    idLike: (kv.ID_LIKE ?? '').split(/\s+/).filter(Boolean),
    ...(kv.VERSION_ID ? { versionId: kv.VERSION_ID } : {}),
    ...(codename ? { codename } : {}),
    ...(kv.PRETTY_NAME ? { prettyName: kv.PRETTY_NAME } : {}),
  };
}

/** Directories where a distribution puts libc: multiarch dirs of Debian/Ubuntu, lib64 of RPM distros. */
function libDirs(view: Rootfs): string[] {
  const dirs: string[] = [];
  for (const top of ['/lib', '/usr/lib', '/lib64', '/usr/lib64']) {
    dirs.push(top);
    for (const name of view.list(top)) if (/-linux-gnu/.test(name)) dirs.push(`${top}/${name}`);
  }
  return dirs;
}

/** The `Version:` of an installed package in a dpkg status database (first stanza that matches). */
export function dpkgVersion(
  view: Rootfs,
  pkg: string,
): { version: string; architecture?: string } | undefined {
  const status = readIfKept(view, '/var/lib/dpkg/status');
  if (!status) return undefined;
  for (const stanza of status.toString('utf8').split(/\n\s*\n/)) {
    if (!new RegExp(`^Package: ${pkg.replace(/[.+]/g, '\\$&')}$`, 'm').test(stanza)) continue;
    if (!/^Status: .* installed$/m.test(stanza)) continue;
    const version = /^Version: (.+)$/m.exec(stanza)?.[1];
    const architecture = /^Architecture: (.+)$/m.exec(stanza)?.[1];
    if (version) return { version, ...(architecture ? { architecture } : {}) };
  }
  return undefined;
}

/** glibc's banner ("GNU C Library (Debian GLIBC 2.36-9) stable release version 2.36.") in libc.so.6. */
export function glibcVersionFromBanner(libc: Buffer): string | undefined {
  const at = libc.indexOf('GNU C Library');
  if (at < 0) return undefined;
  const text = libc.subarray(at, at + 200).toString('latin1');
  return /release version (\d+\.\d+)/.exec(text)?.[1];
}

export function detectLibc(view: Rootfs): LibcInfo | undefined {
  for (const dir of ['/lib', '/usr/lib']) {
    for (const name of view.list(dir)) {
      const m = /^ld-musl-.+\.so\.1$/.exec(name);
      if (!m) continue;
      const path = view.realpath(`${dir}/${name}`) ?? `${dir}/${name}`;
      const apk = readIfKept(view, '/lib/apk/db/installed')?.toString('utf8');
      const version = apk ? /^P:musl\nV:(\d+\.\d+\.\d+)/m.exec(apk)?.[1] : undefined;
      return { kind: 'musl', path, ...(version ? { version, source: 'apk' as const } : {}) };
    }
  }
  for (const dir of libDirs(view)) {
    if (!view.exists(`${dir}/libc.so.6`)) continue;
    const path = view.realpath(`${dir}/libc.so.6`) as string;
    // glibc < 2.34 installs libc-2.31.so with libc.so.6 pointing at it: the name is the version.
    const byName = /\/libc-(\d+\.\d+)\.so$/.exec(path)?.[1];
    if (byName) return { kind: 'glibc', version: byName, path, source: 'file-name' };
    const content = readIfKept(view, path);
    const banner = content && glibcVersionFromBanner(content);
    if (banner) return { kind: 'glibc', version: banner, path, source: 'banner' };
    const deb = dpkgVersion(view, 'libc6')?.version;
    const fromDeb = deb && /^(?:\d+:)?(\d+\.\d+)/.exec(deb)?.[1];
    if (fromDeb) return { kind: 'glibc', version: fromDeb, path, source: 'dpkg' };
    return { kind: 'glibc', path };
  }
  return undefined;
}

// ELF e_machine → OCI architecture.
const MACHINES: Record<number, string> = {
  62: 'amd64',
  183: 'arm64',
  40: 'arm',
  3: '386',
  21: 'ppc64le',
  22: 's390x',
  243: 'riscv64',
};

/** OCI architecture of an ELF file's header, or undefined when `head` is not ELF. */
export function elfArchitecture(head: Buffer): string | undefined {
  if (head.length < 20 || head.readUInt32BE(0) !== 0x7f454c46) return undefined;
  const little = head[5] === 1;
  const machine = little ? head.readUInt16LE(18) : head.readUInt16BE(18);
  return MACHINES[machine];
}

export function detectArchitecture(view: Rootfs, libc = detectLibc(view)): string | undefined {
  const fromElf = libc && elfArchitecture(view.readHead(libc.path) ?? Buffer.alloc(0));
  if (fromElf) return fromElf;
  const deb = dpkgVersion(view, 'libc6')?.architecture;
  if (deb) return deb === 'armhf' || deb === 'armel' ? 'arm' : deb === 'i386' ? '386' : deb;
  // Dynamic loader names are architecture-specific.
  const loaders: Array<[string, string]> = [
    ['/lib64/ld-linux-x86-64.so.2', 'amd64'],
    ['/lib/ld-linux-aarch64.so.1', 'arm64'],
    ['/lib/ld-musl-x86_64.so.1', 'amd64'],
    ['/lib/ld-musl-aarch64.so.1', 'arm64'],
  ];
  return loaders.find(([p]) => view.lstat(p))?.[1];
}

/** Everything the planner wants to know about a base image, read from its files only. */
export function detectImage(view: Rootfs): ImageFacts {
  const libc = detectLibc(view);
  const os = readOsRelease(view);
  const architecture = detectArchitecture(view, libc);
  return {
    ...(os ? { os } : {}),
    ...(libc ? { libc } : {}),
    ...(architecture ? { architecture } : {}),
    pythons: listPythons(view),
  };
}
