/**
 * Backtracking resolver with conflict-directed backjumping. Root requirements and constraints filter
 * every candidate list up front (so user pins are never "discovered" late); dependencies are queued
 * FIFO so direct requirements are decided first; locked versions are tried first. A failure carries
 * the set of decisions that caused it, and a decision not in that set is skipped over on the way back.
 */
import { CogtsError } from '../errors.js';
import type { Candidate, Finder } from './finder.js';
import { noWheelError } from './finder.js';
import { evaluateMarker, versionMatches } from './pep508.js';
import type { SourcedRequirement } from './requirements.js';
import { describeTarget, markerEnv, type PythonTarget, targetPythonFull } from './target.js';

export interface ResolvedPackage {
  /** Normalised name. */
  key: string;
  /** Name as the wheel's metadata spells it. */
  name: string;
  version: string;
  filename: string;
  url: string;
  /** From the index, the direct URL fragment, or (after download) computed. */
  sha256?: string;
  /** Digests the user allowed (--hash) or the lock recorded; empty = any. */
  allowedHashes: string[];
  extras: string[];
  /** Keys of the packages it depends on (for the target). */
  dependencies: string[];
}

export interface ResolveRequest {
  requirements: SourcedRequirement[];
  constraints: SourcedRequirement[];
  pre: boolean;
  requireHashes: boolean;
  /** Versions to try first (from a lock or earlier pins), by key. */
  preferred?: Map<string, string>;
  /** Cap on candidate tries before giving up (default 20000). */
  maxTries?: number;
}

interface Req {
  key: string;
  name: string;
  specifier: string;
  extras: string[];
  url?: string;
  /** "requirements.txt:3" for root, "torch==2.1.0" for a dependency. */
  from: string;
  fromKey?: string;
  root: boolean;
  constraint?: boolean;
}

interface Pin {
  cand: Candidate;
  name: string;
  extras: Set<string>;
  deps: Set<string>;
  /** Keys whose pins brought this package in (ancestors included). */
  cause: Set<string>;
}

interface Failure {
  message: string;
  /** Decisions that contributed; backjumping skips decisions not listed. */
  culprits: Set<string>;
}

type State = Map<string, Pin>;

export async function resolve(
  finder: Finder,
  req: ResolveRequest,
  target: PythonTarget,
): Promise<ResolvedPackage[]> {
  const env = markerEnv(target);
  const pyFull = targetPythonFull(target);
  const rootFilters = new Map<string, Req[]>();
  const roots: Req[] = [];
  for (const r of [...req.requirements, ...req.constraints]) {
    if (r.marker && !evaluateMarker(r.marker, { ...env, extra: '' })) continue;
    const isC = req.constraints.includes(r);
    const q: Req = {
      key: r.key,
      name: r.name,
      specifier: r.specifier,
      extras: isC ? [] : r.extras,
      from: r.source,
      root: true,
      constraint: isC,
    };
    if (r.url) q.url = r.url;
    const list = rootFilters.get(r.key) ?? [];
    list.push(q);
    rootFilters.set(r.key, list);
    if (!isC) roots.push(q);
  }
  const hashesByKey = new Map<string, string[]>();
  if (req.requireHashes) {
    for (const r of req.requirements) {
      if (!r.hashes.length)
        throw new CogtsError(
          'E_PIP_HASH_REQUIRED',
          `${r.source}: hash-checking mode is on (some requirement has --hash) but "${r.text}" has none`,
          { hint: 'add --hash=sha256:… to every requirement, or remove all of them' },
        );
      if (!r.url && !/^===?[^,*]+$/.test(r.specifier))
        throw new CogtsError(
          'E_PIP_HASH_REQUIRED',
          `${r.source}: in hash-checking mode "${r.text}" must be pinned with ==`,
        );
      hashesByKey.set(r.key, [...(hashesByKey.get(r.key) ?? []), ...r.hashes]);
    }
  }
  let tries = 0;
  const maxTries = req.maxTries ?? 20_000;

  const describeReq = (r: Req): string => {
    const spec = r.url ? ` @ ${r.url}` : r.specifier || ' (any version)';
    if (r.constraint) return `constraint ${r.name}${spec} (${r.from})`;
    if (r.root)
      return `you ${/^===?[^,]+$/.test(r.specifier) ? 'pinned' : 'asked for'} ${r.name}${spec} (${r.from})`;
    return `${r.from} requires ${r.name}${r.specifier || ' (any version)'}`;
  };

  const prefetch = (pending: Req[], state: State) => {
    for (const p of pending.slice(0, 32)) {
      if (state.has(p.key) || p.url) continue;
      finder
        .listing(p.key)
        .then((l) => {
          const c = l.candidates.find((c) => versionMatches(c.version, p.specifier, req.pre));
          return c ? finder.metadata(c) : undefined;
        })
        .catch(() => undefined);
    }
  };

  const depsOf = async (cand: Candidate, extras: Iterable<string>, only?: Set<string>): Promise<Req[]> => {
    const meta = await finder.metadata(cand);
    const from = `${meta.name}==${cand.version}`;
    const out: Req[] = [];
    const extraList = only ? [...only] : ['', ...extras];
    for (const d of meta.requiresDist) {
      const applies = extraList.some((x) => !d.marker || evaluateMarker(d.marker, { ...env, extra: x }));
      if (!applies) continue;
      if (only && d.marker && evaluateMarker(d.marker, { ...env, extra: '' })) continue;
      const q: Req = {
        key: d.key,
        name: d.name,
        specifier: d.specifier,
        extras: d.extras,
        from,
        fromKey: cand.key,
        root: false,
      };
      if (d.url) q.url = d.url;
      out.push(q);
    }
    return out;
  };

  const step = async (state: State, pending: Req[]): Promise<State | Failure> => {
    let i = 0;
    for (; i < pending.length; i++) {
      const r = pending[i] as Req;
      const pin = state.get(r.key);
      if (!pin) break;
      const culprits = new Set<string>([
        r.key,
        ...pin.cause,
        ...(r.fromKey ? [r.fromKey, ...(state.get(r.fromKey)?.cause ?? [])] : []),
      ]);
      if (
        r.url
          ? r.url.split('#')[0] !== pin.cand.file.url
          : !versionMatches(pin.cand.version, r.specifier, true)
      ) {
        return {
          message: `${describeReq(r)}, but ${pin.name}==${pin.cand.version} was chosen (${
            pin.cause.size
              ? `required by ${[...pin.cause].join(', ')}`
              : (rootFilters.get(r.key) ?? []).map(describeReq).join('; ') || 'as asked'
          })`,
          culprits,
        };
      }
      const newExtras = r.extras.filter((x) => !pin.extras.has(x));
      if (newExtras.length) {
        const next = new Map(state);
        const np: Pin = { ...pin, extras: new Set([...pin.extras, ...newExtras]), deps: new Set(pin.deps) };
        next.set(r.key, np);
        const more = await depsOf(pin.cand, [], new Set(newExtras));
        for (const d of more) np.deps.add(d.key);
        return step(next, [...pending.slice(i + 1), ...more]);
      }
    }
    if (i >= pending.length) return state;
    const r = pending[i] as Req;
    const rest = pending.slice(i + 1);
    prefetch(rest, state);
    const sameKey = [r, ...rest.filter((p) => p.key === r.key)];
    const filters = [...(rootFilters.get(r.key) ?? []), ...sameKey];
    const direct = filters.find((f) => f.url);
    let cands: Candidate[];
    let available: string[] = [];
    if (direct?.url) {
      cands = [finder.direct(r.key, direct.url)];
    } else {
      const listing = await finder.listing(r.key);
      if (!listing.files.length) {
        throw new CogtsError(
          'E_PIP_NOT_FOUND',
          `package ${r.name} (${r.root ? r.from : `required by ${r.from}`}) was not found on any index`,
          {
            hint: `indexes searched: ${finder.opts.indexUrls.join(', ') || '(none)'}${finder.opts.findLinks.length ? `; find-links: ${finder.opts.findLinks.join(', ')}` : ''}. Check the name, or add --extra-index-url / --find-links`,
          },
        );
      }
      if (!listing.candidates.length) throw noWheelError(r.name, listing.files, target);
      available = listing.candidates.map((c) => c.version);
      const pinnedExactly = (v: string) =>
        filters.some((f) => new RegExp(`^===?${v.replace(/[.+]/g, '\\$&')}$`).test(f.specifier));
      const allowed = hashesByKey.get(r.key);
      cands = listing.candidates.filter(
        (c) =>
          filters.every((f) => versionMatches(c.version, f.specifier, req.pre)) &&
          (c.file.yanked === false || pinnedExactly(c.version)) &&
          (!allowed || !c.file.sha256 || allowed.includes(c.file.sha256)),
      );
      if (!cands.length && allowed) {
        const byVersion = listing.candidates.filter((c) =>
          filters.every((f) => versionMatches(c.version, f.specifier, req.pre)),
        );
        if (byVersion.length) {
          throw new CogtsError(
            'E_PIP_HASH_MISMATCH',
            `hash mismatch for ${r.name}: ${byVersion.map((c) => `${c.file.filename} has sha256 ${c.file.sha256}`).join(', ')}; ${rootFilters.get(r.key)?.[0]?.from ?? 'the requirement'} allows only ${allowed.join(', ')}`,
            {
              hint: 'the file on the index changed or the --hash is wrong; update the hash only if you trust the new file',
            },
          );
        }
      }
      const pref = req.preferred?.get(r.key);
      if (pref) cands.sort((a, b) => (a.version === pref ? -1 : b.version === pref ? 1 : 0));
    }
    if (!cands.length) {
      const culprits = new Set<string>([r.key]);
      for (const f of filters)
        if (f.fromKey) for (const k of [f.fromKey, ...(state.get(f.fromKey)?.cause ?? [])]) culprits.add(k);
      // Dependencies first, then the user's own lines: "torch==2.1.0 requires triton==2.1.0; you pinned triton==2.3.0".
      const ordered = [...filters.filter((f) => !f.root), ...filters.filter((f) => f.root)];
      const uniq = [...new Map(ordered.map((f) => [describeReq(f), f])).keys()];
      return {
        message: `no version of ${r.name} satisfies: ${uniq.join('; ')}${available.length ? ` (versions with a wheel for the target: ${available.slice(0, 8).join(', ')}${available.length > 8 ? ', …' : ''})` : ''}`,
        culprits,
      };
    }
    let last: Failure | undefined;
    for (const cand of cands) {
      if (++tries > maxTries)
        throw new CogtsError('E_PIP_RESOLVE', `resolution gave up after ${maxTries} tries`, {
          hint: 'pin more versions in requirements.txt',
        });
      const meta = await finder.metadata(cand);
      if (meta.requiresPython && !versionMatches(pyFull, meta.requiresPython.replace(/\s+/g, ''), true)) {
        last = {
          message: `${meta.name}==${cand.version} requires Python ${meta.requiresPython}, the target has ${pyFull}`,
          culprits: new Set([r.key]),
        };
        continue;
      }
      const extras = new Set(sameKey.flatMap((x) => x.extras));
      const deps = await depsOf(cand, extras);
      const cause = new Set<string>();
      for (const s of sameKey)
        if (s.fromKey) for (const k of [s.fromKey, ...(state.get(s.fromKey)?.cause ?? [])]) cause.add(k);
      const next = new Map(state);
      next.set(r.key, { cand, name: meta.name, extras, deps: new Set(deps.map((d) => d.key)), cause });
      const res = await step(next, [...rest, ...deps]);
      if (res instanceof Map) return res;
      last = res;
      if (!res.culprits.has(r.key)) return res;
    }
    return last as Failure;
  };

  const result = await step(new Map(), roots);
  if (!(result instanceof Map)) {
    throw new CogtsError(
      'E_PIP_CONFLICT',
      `cannot resolve Python requirements for ${describeTarget(target)}: ${result.message}`,
      { hint: 'relax or change one of the pins named above' },
    );
  }
  const out: ResolvedPackage[] = [];
  for (const [key, pin] of result) {
    if (req.requireHashes && !hashesByKey.has(key)) {
      throw new CogtsError(
        'E_PIP_HASH_REQUIRED',
        `hash-checking mode: ${pin.name}==${pin.cand.version} (required by ${[...pin.cause].join(', ')}) has no pinned requirement with --hash`,
        { hint: `add "${pin.name}==${pin.cand.version} --hash=sha256:…"` },
      );
    }
    const p: ResolvedPackage = {
      key,
      name: pin.name,
      version: pin.cand.version,
      filename: pin.cand.file.filename,
      url: pin.cand.file.url,
      allowedHashes: hashesByKey.get(key) ?? [],
      extras: [...pin.extras].filter(Boolean).sort(),
      dependencies: [...pin.deps].sort(),
    };
    if (pin.cand.file.sha256) p.sha256 = pin.cand.file.sha256;
    out.push(p);
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}
