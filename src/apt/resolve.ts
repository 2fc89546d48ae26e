import { CogtsError } from '../errors.js';
import { field } from './deb822.js';
import { type Alternatives, type Atom, formatAtom, parseRelations } from './relations.js';
import type { PackageRecord } from './repo.js';
import type { InstalledPackage } from './status.js';
import { compareVersions, satisfiesVersion } from './version.js';

/** Every candidate version of every package, plus who provides each virtual name. */
export interface Universe {
  arch: string;
  byName: Map<string, PackageRecord[]>;
  providers: Map<string, { rec: PackageRecord; version?: string }[]>;
}

/** Indexes candidates for one architecture (native + `all`), highest version first. */
export function buildUniverse(records: PackageRecord[], arch: string): Universe {
  const byName = new Map<string, PackageRecord[]>();
  const providers = new Map<string, { rec: PackageRecord; version?: string }[]>();
  for (const r of records) {
    if (r.arch !== arch && r.arch !== 'all') continue;
    let list = byName.get(r.name);
    if (!list) {
      list = [];
      byName.set(r.name, list);
    }
    // The same version from two suites (bookworm and bookworm-updates): keep the first seen.
    if (!list.some((x) => x.version === r.version)) list.push(r);
    for (const g of parseRelations(r.provides, `Provides of ${r.name}`))
      for (const a of g) {
        let pl = providers.get(a.name);
        if (!pl) {
          pl = [];
          providers.set(a.name, pl);
        }
        pl.push(a.version ? { rec: r, version: a.version } : { rec: r });
      }
  }
  for (const list of byName.values()) list.sort((a, b) => compareVersions(b.version, a.version));
  return { arch, byName, providers };
}

interface Pkg {
  name: string;
  version: string;
  multiArch?: string;
  provides: { name: string; version?: string }[];
}

function asPkg(r: PackageRecord): Pkg {
  const provides = parseRelations(r.provides, r.name).flatMap((g) =>
    g.map((a) => (a.version ? { name: a.name, version: a.version } : { name: a.name })),
  );
  return r.multiArch
    ? { name: r.name, version: r.version, multiArch: r.multiArch, provides }
    : { name: r.name, version: r.version, provides };
}

/** Whether package `p` (real, not via Provides) satisfies `a`, including `:any` (needs Multi-Arch: allowed). */
function realSatisfies(p: Pkg, a: Atom): boolean {
  if (p.name !== a.name) return false;
  if (a.archQualifier === 'any' && p.multiArch !== 'allowed') return false;
  return !a.op || satisfiesVersion(p.version, a.op, a.version!);
}

/** Whether `p` satisfies `a` through Provides: a versioned relation needs a versioned provide (policy 7.5). */
function providesSatisfies(p: Pkg, a: Atom): boolean {
  if (a.archQualifier === 'any' && p.multiArch !== 'allowed') return false;
  return p.provides.some(
    (pr) =>
      pr.name === a.name &&
      (!a.op || (pr.version !== undefined && satisfiesVersion(pr.version, a.op, a.version!))),
  );
}

const PRIORITY = ['required', 'important', 'standard', 'optional', 'extra'];

export interface Resolution {
  /** Packages to install, sorted by name; each is a concrete candidate from an index. */
  install: PackageRecord[];
  /** Why each package was pulled in: its first chain from a requested package. */
  why: Map<string, string[]>;
}

class Unsat extends Error {
  constructor(
    readonly chain: string[],
    readonly reason: string,
  ) {
    super(`${chain.join(' → ')}: ${reason}`);
  }
}

/**
 * Greedy resolution with backtracking over alternatives, in the spirit of apt's: Pre-Depends and
 * Depends only (Recommends/Suggests are never followed), highest candidate first, the base's
 * installed packages kept whenever they satisfy a relation. Breaks/Conflicts are not evaluated
 * (single-suite archives are consistent; see README).
 */
export function resolve(
  universe: Universe,
  installed: Map<string, InstalledPackage>,
  requests: string[],
): Resolution {
  let selected = new Map<string, PackageRecord>();
  let why = new Map<string, string[]>();

  const satisfiedNow = (a: Atom): boolean => {
    for (const r of selected.values()) {
      const p = asPkg(r);
      if (realSatisfies(p, a) || providesSatisfies(p, a)) return true;
    }
    for (const p of installed.values()) {
      // A base package being replaced by a selected upgrade no longer counts.
      if (selected.has(p.name)) continue;
      if (realSatisfies(p, a) || providesSatisfies(p, a)) return true;
    }
    return false;
  };

  const candidatesFor = (a: Atom): PackageRecord[] => {
    const real = (universe.byName.get(a.name) ?? []).filter((r) => realSatisfies(asPkg(r), a));
    if (real.length) return real.slice(0, 1);
    const prov = (universe.providers.get(a.name) ?? [])
      .map((x) => x.rec)
      .filter((r) => providesSatisfies(asPkg(r), a));
    // Deterministic choice among providers: a higher Priority first, then the name.
    return [...new Map(prov.map((r) => [r.name, r])).values()].sort(
      (x, y) =>
        PRIORITY.indexOf(x.priority ?? 'optional') - PRIORITY.indexOf(y.priority ?? 'optional') ||
        x.name.localeCompare(y.name),
    );
  };

  const add = (rec: PackageRecord, chain: string[]): void => {
    const have = selected.get(rec.name);
    if (have) {
      if (have.version === rec.version) return;
      throw new Unsat(chain, `needs ${rec.name} ${rec.version} but ${have.version} is already chosen`);
    }
    selected.set(rec.name, rec);
    why.set(rec.name, chain);
    const groups: Alternatives[] = [
      ...parseRelations(rec.preDepends, `Pre-Depends of ${rec.name}`),
      ...parseRelations(rec.depends, `Depends of ${rec.name}`),
    ];
    for (const g of groups) satisfyGroup(g, chain);
  };

  const satisfyGroup = (g: Alternatives, chain: string[]): void => {
    if (g.some(satisfiedNow)) return;
    const failures: Unsat[] = [];
    for (const a of g) {
      const cands = candidatesFor(a);
      if (cands.length === 0) {
        const avail = universe.byName.get(a.name);
        const reason = avail?.length
          ? `only ${avail.map((r) => r.version).join(', ')} available`
          : 'not in any source';
        failures.push(new Unsat([...chain, formatAtom(a)], reason));
        continue;
      }
      for (const c of cands) {
        const snapSel = new Map(selected);
        const snapWhy = new Map(why);
        try {
          add(c, [...chain, c.name === a.name ? formatAtom(a) : `${formatAtom(a)} (via ${c.name})`]);
          return;
        } catch (e) {
          if (!(e instanceof Unsat)) throw e;
          failures.push(e);
          selected = snapSel;
          why = snapWhy;
        }
      }
    }
    // Report the first alternative's failure: the one apt would have tried.
    throw failures[0] ?? new Unsat(chain, 'no alternative');
  };

  /** Upgrades base package `p` to its best candidate (apt would do the same), or explains why not. */
  const upgradeBase = (p: InstalledPackage, why: string): void => {
    const cand = (universe.byName.get(p.name) ?? [])[0];
    if (!cand || cand.version === p.version || compareVersions(cand.version, p.version) < 0)
      throw new Unsat(
        [`${p.name} ${p.version} (installed in the base)`],
        `${why}, and no newer ${p.name} is available`,
      );
    add(cand, [`${p.name} (upgraded: ${why})`]);
  };

  const conflicts = (r: { breaks?: string; conflicts?: string; name: string }): Atom[] =>
    [
      ...parseRelations(r.breaks, `Breaks of ${r.name}`),
      ...parseRelations(r.conflicts, `Conflicts of ${r.name}`),
    ].flat();

  /**
   * apt keeps the whole system consistent, not just the new packages: a base package whose
   * Depends the upgrades break, or that a new package Breaks/Conflicts with (or the reverse), is
   * upgraded too. Repeats until nothing changes.
   */
  const keepBaseConsistent = (): void => {
    for (let round = 0, changed = true; changed && round < 50; round++) {
      changed = false;
      for (const p of installed.values()) {
        if (selected.has(p.name)) continue;
        const deps = [
          ...parseRelations(field(p.stanza, 'Pre-Depends')?.replace(/\n/g, ' '), p.name),
          ...parseRelations(field(p.stanza, 'Depends')?.replace(/\n/g, ' '), p.name),
        ];
        const broken = deps.find((g) => !g.some(satisfiedNow));
        const pConf = conflicts({
          name: p.name,
          breaks: field(p.stanza, 'Breaks')?.replace(/\n/g, ' '),
          conflicts: field(p.stanza, 'Conflicts')?.replace(/\n/g, ' '),
        });
        const hit = [...selected.values()].find(
          (r) =>
            r.name !== p.name &&
            (conflicts(r).some((a) => realSatisfies(p, a)) || pConf.some((a) => realSatisfies(asPkg(r), a))),
        );
        if (broken) upgradeBase(p, `its dependency ${broken.map(formatAtom).join(' | ')} no longer holds`);
        else if (hit)
          upgradeBase(p, `${hit.name} ${hit.version} breaks or conflicts with ${p.name} ${p.version}`);
        else continue;
        changed = true;
      }
    }
  };

  for (const req of requests) {
    const [name, version] = req.split('=', 2) as [string, string | undefined];
    const atom: Atom = version
      ? { name: name.toLowerCase(), op: '=', version }
      : { name: name.toLowerCase() };
    if (!universe.byName.has(atom.name) && !universe.providers.has(atom.name)) {
      const near = suggest(atom.name, [...universe.byName.keys()]);
      throw new CogtsError(
        'E_APT_UNKNOWN_PACKAGE',
        `package "${atom.name}" is not in any apt source of the base image`,
        {
          hint: near.length
            ? `did you mean ${near.map((n) => `"${n}"`).join(', ')}?`
            : 'check the name, or add the repository that ships it',
        },
      );
    }
    if (!atom.op && installed.has(atom.name) && !universe.byName.has(atom.name)) continue;
    try {
      if (installed.has(atom.name) && satisfiedNow(atom) && !version) continue;
      satisfyGroup([atom], []);
    } catch (e) {
      if (e instanceof Unsat)
        throw new CogtsError(
          'E_APT_UNSATISFIABLE',
          `cannot install ${req}: ${e.chain.join(' → ')}: ${e.reason}`,
          {
            hint: 'the base image and its apt sources cannot provide this; try another base image or package version',
          },
        );
      throw e;
    }
  }
  try {
    keepBaseConsistent();
  } catch (e) {
    if (e instanceof Unsat)
      throw new CogtsError(
        'E_APT_UNSATISFIABLE',
        `cannot install ${requests.join(' ')}: ${e.chain.join(' → ')}: ${e.reason}`,
        {
          hint: 'the base image has packages that conflict with this request; try a newer base image',
        },
      );
    throw e;
  }
  const install = [...selected.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { install, why };
}

function distance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}

/** Up to three names close to `name`: edit distance ≤ 2 (or a third of its length), then prefixes. */
export function suggest(name: string, names: string[]): string[] {
  const max = Math.max(2, Math.floor(name.length / 3));
  const scored = names
    .filter((n) => Math.abs(n.length - name.length) <= max)
    .map((n) => [n, distance(name, n)] as const)
    .filter(([, d]) => d <= max)
    .sort((x, y) => x[1] - y[1] || x[0].localeCompare(y[0]));
  const out = scored.slice(0, 3).map(([n]) => n);
  if (out.length === 0)
    out.push(
      ...names
        .filter((n) => n.startsWith(name))
        .sort()
        .slice(0, 3),
    );
  return out;
}
