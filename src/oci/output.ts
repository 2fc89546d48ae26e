import { resolve } from 'node:path';
import { CogtsError } from '../errors.js';
import { writeDockerArchive } from './archive.js';
import type { Image } from './image.js';
import { writeOciLayout } from './layout.js';

/** Where `--output` writes an image without a registry. */
export type OutputSpec =
  | { kind: 'oci'; dir: string; refName: string }
  | { kind: 'docker-archive'; file: string };

/**
 * `oci:DIR[:REF]` (OCI image layout; REF defaults to `latest`) or `docker-archive:FILE` (docker load).
 * Windows-style drive letters are not supported in DIR; a `:` in DIR starts REF, as in skopeo.
 */
export function parseOutput(spec: string): OutputSpec {
  const m = /^(oci|docker-archive):(.+)$/.exec(spec);
  if (!m) {
    throw new CogtsError('E_OUTPUT', `unknown output "${spec}"`, {
      hint: 'use oci:DIR or docker-archive:FILE.tar',
    });
  }
  if (m[1] === 'docker-archive') return { kind: 'docker-archive', file: resolve(m[2]!) };
  const [dir, refName] = m[2]!.split(':');
  return { kind: 'oci', dir: resolve(dir!), refName: refName || 'latest' };
}

/** Writes the image to an output; `repoTag` names it inside a docker archive (e.g. `my/model:latest`). */
export async function writeOutput(image: Image, out: OutputSpec, repoTag?: string): Promise<string> {
  if (out.kind === 'oci') {
    await writeOciLayout(image, out.dir, out.refName);
    return `oci:${out.dir}:${out.refName}`;
  }
  await writeDockerArchive(image, out.file, repoTag ? [repoTag] : []);
  return `docker-archive:${out.file}`;
}
