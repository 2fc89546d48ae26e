import { createHash } from 'node:crypto';
import { CogtsError } from '../errors.js';

/** `sha256:<64 hex>`; the only algorithm cogts writes, and the only one registries must accept. */
export type Digest = `sha256:${string}`;

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

export function isDigest(s: string): s is Digest {
  return DIGEST_RE.test(s);
}

export function parseDigest(s: string, what = 'digest'): Digest {
  if (!isDigest(s)) {
    throw new CogtsError('E_DIGEST', `invalid ${what} "${s}": expected sha256:<64 lowercase hex digits>`);
  }
  return s;
}

export function sha256Digest(data: Buffer | string): Digest {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

/** The hex part, used for file names in blob stores (`blobs/sha256/<hex>`). */
export function digestHex(d: Digest): string {
  return d.slice('sha256:'.length);
}
