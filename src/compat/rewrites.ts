import { CogtsError } from '../errors.js';
import type { ParsedPins, Requirement } from './pins.js';
import type { TorchRelease } from './tables.js';
import type { PinRewrite } from './toolchain.js';
import { exactVersion } from './versions.js';

export interface Rewrite {
  req: Requirement;
  rewrite: PinRewrite;
}

/** Records a changed requirement, rebuilding its line from parts (a later change builds on it). */
export function rewrite(
  rewrites: Map<Requirement, Rewrite>,
  original: Requirement,
  change: Partial<Pick<Requirement, 'specifier' | 'extras'>>,
  why: string,
): void {
  const before = rewrites.get(original);
  const base = before?.req ?? original;
  const req: Requirement = { ...base, ...change };
  const extras = req.extras.length ? `[${req.extras.join(',')}]` : '';
  req.line = `${req.name}${extras}${req.specifier}${req.marker ? `; ${req.marker}` : ''}`;
  const whys = before ? `${before.rewrite.why}; ${why}` : why;
  rewrites.set(original, {
    req,
    rewrite: { from: original.line, to: req.line, origin: original.origin, why: whys },
  });
}

/**
 * torchvision/torchaudio must match the torch release: unpinned ones get the paired version,
 * pinned ones that do not pair are an error naming both.
 */
export function pairCompanions(
  pins: ParsedPins,
  release: TorchRelease,
  rewrites: Map<Requirement, Rewrite>,
): void {
  for (const [name, version] of [
    ['torchvision', release.torchvision],
    ['torchaudio', release.torchaudio],
  ] as const) {
    const req = pins.requirements.find((r) => r.name === name);
    if (!req) continue;
    if (req.specifier === '') {
      rewrite(
        rewrites,
        req,
        { specifier: `==${version}` },
        `the ${name} release paired with torch ${release.version}`,
      );
      continue;
    }
    const exact = exactVersion(req.specifier);
    if (exact && exact !== version) {
      throw new CogtsError(
        'E_COMPAT',
        `${name}==${exact} (${req.origin}) does not pair with torch ${release.version}, which needs ${name}==${version}`,
        { hint: `pin ${name}==${version}, or the torch release that ${name} ${exact} was made for` },
      );
    }
  }
}
