import { writeDockerArchive } from '../oci/archive.js';
import type { Image } from '../oci/image.js';
import { writeOciLayout } from '../oci/layout.js';
import { type PushEvent, type PushOptions, type PushResult, pushImage } from '../oci/push.js';
import { formatReference, parseReference } from '../oci/reference.js';
import type { Target } from '../plan/types.js';
import type { Registries } from '../registry/client.js';

export interface Delivered {
  pushed?: PushResult & { bytesUploaded: number; bytesSkipped: number };
  output?: { kind: 'oci' | 'docker-archive'; path: string };
}

/**
 * Sends a built image where the plan says: a registry (blobs first, manifest last: a failed push
 * tags nothing), an OCI layout folder, or a `docker load` archive.
 */
export async function deliver(
  image: Image,
  target: Target,
  registries: Registries,
  log: (line: string) => void,
  onBlob?: (e: PushEvent) => void,
  /** Blobs this build uploaded while building them: the push finds them present, yet they were sent. */
  sentEarly: ReadonlySet<string> = new Set(),
  onBytes?: PushOptions['onBytes'],
): Promise<Delivered> {
  const out: Delivered = {};
  if (target.push) {
    const ref = parseReference(target.push);
    log(`pushing ${formatReference(ref)}`);
    const sent = (e: PushEvent): PushEvent =>
      e.result === 'exists' && sentEarly.has(e.digest) ? { ...e, result: 'uploaded' } : e;
    const pushed = await pushImage(registries, image, ref, {
      ...(onBlob ? { onBlob: (e: PushEvent) => onBlob(sent(e)) } : {}),
      ...(onBytes ? { onBytes } : {}),
    });
    const result = { ...pushed, blobs: pushed.blobs.map(sent) };
    let bytesUploaded = 0;
    let bytesSkipped = 0;
    for (const b of result.blobs) {
      if (b.result === 'uploaded') bytesUploaded += b.size;
      else bytesSkipped += b.size;
    }
    out.pushed = { ...result, bytesUploaded, bytesSkipped };
  }
  if (target.output) {
    const tag = target.tag ?? target.push;
    if (target.output.kind === 'oci') {
      await writeOciLayout(image, target.output.path, tag ? (parseReference(tag).tag ?? 'latest') : 'latest');
    } else {
      await writeDockerArchive(image, target.output.path, tag ? [formatReference(parseReference(tag))] : []);
    }
    log(`wrote ${target.output.kind}:${target.output.path}`);
    out.output = target.output;
  }
  return out;
}
