import { CogtsError } from '../errors.js';
import type { Descriptor, ImageIndex, Platform } from './types.js';

/** `linux/amd64`, `linux/arm64/v8`; default linux/amd64 (what Cog models run on). */
export function parsePlatform(s = 'linux/amd64'): Platform {
  const [os, architecture, variant, ...rest] = s.split('/');
  if (!os || !architecture || rest.length > 0) {
    throw new CogtsError('E_PLATFORM', `invalid platform "${s}"`, {
      hint: 'write os/arch[/variant], e.g. linux/amd64',
    });
  }
  return variant ? { os, architecture, variant } : { os, architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join('/');
}

// arm64 without a variant means v8 (containerd's normalisation); amd64's v1 likewise.
const DEFAULT_VARIANT: Record<string, string> = { arm64: 'v8', amd64: 'v1' };

function variantOf(p: Platform): string | undefined {
  return p.variant ?? DEFAULT_VARIANT[p.architecture];
}

/**
 * The index entry for a platform. Entries for `unknown/unknown` (attestations, SBOMs) are never
 * candidates; an entry without platform is skipped as well.
 */
export function selectPlatform(index: ImageIndex, want: Platform, where: string): Descriptor {
  const candidates = index.manifests.filter(
    (d) => d.platform && d.platform.os !== 'unknown' && d.platform.architecture !== 'unknown',
  );
  const match = candidates.find(
    (d) =>
      d.platform!.os === want.os &&
      d.platform!.architecture === want.architecture &&
      variantOf(d.platform!) === variantOf(want),
  );
  if (!match) {
    const have = candidates.map((d) => formatPlatform(d.platform!)).join(', ') || 'none';
    throw new CogtsError(
      'E_PLATFORM',
      `${where} has no image for ${formatPlatform(want)} (it has: ${have})`,
      {
        hint: 'choose a base image published for this platform',
      },
    );
  }
  return match;
}
