/**
 * cogts.lock: one JSON document with a section per input kind. This module owns the `pip` section
 * and the file's envelope; other sections (base image, python runtime, apt) are typed here so their
 * owners can fill them, and are preserved untouched when the pip section is rewritten.
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { atomicWrite } from '../atomic-write.js';
import { CogtsError } from '../errors.js';
import { redactUrl } from './http.js';
import type { RequirementSet } from './requirements.js';
import type { PythonTarget } from './target.js';

export const LOCK_FILE_NAME = 'cogts.lock';

export interface PipLockPackage {
  name: string;
  version: string;
  filename: string;
  url: string;
  sha256: string;
  dependencies: string[];
}

export interface PipLock {
  /** sha256 of the normalised inputs (requirements, constraints, indexes, target): stale when it changes. */
  inputs: string;
  target: PythonTarget;
  indexUrls: string[];
  findLinks: string[];
  packages: PipLockPackage[];
}

export interface CogtsLock {
  lockVersion: 1;
  base?: { image: string; digest: string };
  python?: { version: string; url?: string; sha256?: string };
  apt?: { packages: { name: string; version: string; arch: string; url: string; sha256: string }[] };
  pip?: PipLock;
}

/** Fingerprint of what the pip section was resolved from. Credentials are never part of it. */
export function pipInputsDigest(
  reqs: RequirementSet,
  target: PythonTarget,
  indexUrls: string[],
  findLinks: string[],
): string {
  const line = (r: RequirementSet['requirements'][number]) =>
    `${r.text}${r.hashes.length ? ` #${[...r.hashes].sort().join(',')}` : ''}`;
  const doc = {
    requirements: reqs.requirements.map(line),
    constraints: reqs.constraints.map(line),
    pre: reqs.pre,
    target: {
      pythonVersion: target.pythonVersion,
      platform: target.platform ?? 'linux/amd64',
      glibc: target.glibc ?? null,
      musl: target.musl ?? null,
    },
    indexUrls: indexUrls.map(redactUrl),
    findLinks: findLinks.map(redactUrl),
  };
  return `sha256:${createHash('sha256').update(JSON.stringify(doc)).digest('hex')}`;
}

export async function readLock(path: string): Promise<CogtsLock | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  let doc: CogtsLock;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new CogtsError('E_LOCK_INVALID', `${path} is not valid JSON: ${(e as Error).message}`, {
      hint: 'delete it and run `cogts lock`',
    });
  }
  if (doc.lockVersion !== 1)
    throw new CogtsError('E_LOCK_INVALID', `${path}: unsupported lockVersion ${String(doc.lockVersion)}`);
  if (doc.pip) {
    for (const [i, p] of (doc.pip.packages ?? []).entries()) {
      if (!p.name || !p.version || !p.url || !/^[0-9a-f]{64}$/.test(p.sha256 ?? '')) {
        throw new CogtsError(
          'E_LOCK_INVALID',
          `${path}: pip.packages[${i}] lacks name, version, url or a sha256`,
        );
      }
    }
  }
  return doc;
}

/** Replace one section, keeping the others as they are. Keys sorted, so diffs stay small. */
export async function writeLockSection<K extends keyof CogtsLock>(
  path: string,
  key: K,
  value: CogtsLock[K],
): Promise<CogtsLock> {
  const doc: CogtsLock = (await readLock(path)) ?? { lockVersion: 1 };
  doc[key] = value;
  const ordered: Record<string, unknown> = { lockVersion: 1 };
  for (const k of Object.keys(doc).sort())
    if (k !== 'lockVersion') ordered[k] = (doc as unknown as Record<string, unknown>)[k];
  await atomicWrite(path, `${JSON.stringify(ordered, null, 2)}\n`);
  return doc;
}

/**
 * `--locked`: the lock must exist and match the current inputs; nothing is resolved anew.
 * Returns the pip section to install from.
 */
export function checkPipLock(
  lock: CogtsLock | undefined,
  currentInputs: string,
  lockPath = LOCK_FILE_NAME,
): PipLock {
  if (!lock?.pip) {
    throw new CogtsError('E_LOCK_MISSING', `--locked: ${lockPath} has no pip section`, {
      hint: 'run `cogts lock` and commit cogts.lock',
    });
  }
  if (lock.pip.inputs !== currentInputs) {
    throw new CogtsError(
      'E_LOCK_STALE',
      `--locked: ${lockPath} is stale: the Python requirements, indexes or target changed since it was written`,
      {
        hint: 'run `cogts lock` to update it',
      },
    );
  }
  return lock.pip;
}
