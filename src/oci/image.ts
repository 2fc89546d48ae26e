import { Readable } from 'node:stream';
import { CogtsError } from '../errors.js';
import { type Digest, sha256Digest } from './digest.js';
import {
  configMediaType,
  type Family,
  familyOf,
  gzipLayerMediaType,
  isIndexMediaType,
  MediaType,
} from './media-types.js';
import type { Blob, ByteRange, Descriptor, ImageConfigFile, ImageManifest, Layer } from './types.js';

/**
 * An image: a manifest, its config, and its layers as openable blobs. Nothing is downloaded to
 * make one; a layer's bytes move only when a writer or a push opens it.
 */
export interface Image {
  readonly mediaType: string;
  readonly manifest: ImageManifest;
  /** Exact manifest bytes: `digest` is their sha256. */
  readonly manifestBytes: Buffer;
  readonly digest: Digest;
  readonly config: ImageConfigFile;
  readonly configBlob: Blob;
  /** Exact config bytes (`configBlob` streams these). */
  readonly configBytes: Buffer;
  /** In manifest order; `layers[i].digest === manifest.layers[i].digest`. */
  readonly layers: readonly Blob[];
}

export function family(image: Image): Family {
  return familyOf(image.mediaType);
}

/** A blob held in memory (configs, manifests). */
export function bytesBlob(bytes: Buffer, mediaType: string): Blob {
  return {
    digest: sha256Digest(bytes),
    size: bytes.length,
    mediaType,
    open: async (range?: ByteRange) =>
      Readable.from([bytes.subarray(range?.start ?? 0, range?.end ?? bytes.length)]),
  };
}

export function descriptorOf(b: Blob): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size };
}

/** Assembles an Image from a manifest and blobs; checks that they agree. */
export function imageFromParts(manifestBytes: Buffer, configBytes: Buffer, layers: readonly Blob[]): Image {
  const manifest = JSON.parse(manifestBytes.toString('utf8')) as ImageManifest;
  const mediaType = manifest.mediaType ?? MediaType.ociManifest;
  if (isIndexMediaType(mediaType) || !manifest.config || !Array.isArray(manifest.layers)) {
    throw new CogtsError('E_MANIFEST', `expected an image manifest, got ${mediaType}`);
  }
  const configBlob = bytesBlob(configBytes, manifest.config.mediaType);
  if (configBlob.digest !== manifest.config.digest) {
    throw new CogtsError(
      'E_DIGEST_MISMATCH',
      `image config has digest ${configBlob.digest}, manifest says ${manifest.config.digest}`,
    );
  }
  manifest.layers.forEach((d, i) => {
    if (layers[i]?.digest !== d.digest)
      throw new CogtsError(
        'E_MANIFEST',
        `layer ${i} blob ${layers[i]?.digest} does not match manifest ${d.digest}`,
      );
  });
  const config = JSON.parse(configBytes.toString('utf8')) as ImageConfigFile;
  return {
    mediaType,
    manifest,
    manifestBytes,
    digest: sha256Digest(manifestBytes),
    config,
    configBlob,
    configBytes,
    layers,
  };
}

export interface Addition {
  layer: Layer;
  /** History entry text (`created_by`, e.g. "COPY . /src"); the date is the image's `created`. */
  createdBy?: string;
  comment?: string;
}

export interface ConfigPatch {
  /** Set or override variables; the base's others are kept in their order (CUDA's PATH, LD_LIBRARY_PATH…). */
  env?: Record<string, string>;
  workingDir?: string;
  /** e.g. ["5000/tcp"], added to the base's. */
  exposedPorts?: string[];
  /** Merged over the base's labels. */
  labels?: Record<string, string>;
  /** Replaces the base's; setting an entrypoint without `cmd` clears the base's Cmd (Docker's rule). */
  entrypoint?: string[];
  cmd?: string[];
  user?: string;
  /** RFC 3339; default from SOURCE_DATE_EPOCH, else the epoch, so images are reproducible. */
  created?: string;
  /** Annotations on the new manifest. */
  annotations?: Record<string, string>;
}

export function createdFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const s = env.SOURCE_DATE_EPOCH;
  const secs = s && /^\d+$/.test(s) ? Number(s) : 0;
  return new Date(secs * 1000).toISOString().replace(/\.000Z$/, 'Z');
}

function mergeEnv(base: string[] | undefined, patch: Record<string, string>): string[] {
  const out = [...(base ?? [])];
  for (const [k, v] of Object.entries(patch)) {
    if (!/^[^=\s]+$/.test(k))
      throw new CogtsError('E_IMAGE_CONFIG', `invalid environment variable name "${k}"`);
    const i = out.findIndex((e) => e.split('=')[0] === k);
    if (i >= 0) out[i] = `${k}=${v}`;
    else out.push(`${k}=${v}`);
  }
  return out;
}

/** Layer media types a Docker schema2 manifest can list (it has no zstd type). */
function dockerCanHold(mediaType: string): boolean {
  return mediaType === MediaType.ociLayerGzip || mediaType === MediaType.dockerLayerGzip;
}

function layerMediaType(layer: Layer, fam: Family): string {
  const mt = layer.mediaType;
  if (dockerCanHold(mt)) return gzipLayerMediaType(fam);
  if (fam === 'docker') {
    // appendLayers converts the base first, so this is a bug, not a user error.
    throw new CogtsError(
      'E_IMAGE_MEDIA_TYPE',
      `layer ${layer.digest} is ${mt}, which a Docker image cannot hold`,
    );
  }
  return mt;
}

/**
 * A new image: `base` plus layers on top, with a patched config (go-containerregistry's
 * mutate.Append + mutate.Config). New layers and the config take the base's media-type family;
 * history stays aligned with layers (entries are synthesised for a base that has none).
 * A Docker schema2 manifest cannot list a zstd layer, so on such a base with such a layer the
 * whole image is OCI (`toOciFamily`: base blobs unchanged; compare `family(result)` with the
 * base's to tell).
 */
export function appendLayers(input: Image, additions: readonly Addition[], patch: ConfigPatch = {}): Image {
  const base =
    family(input) === 'docker' && additions.some((a) => !dockerCanHold(a.layer.mediaType))
      ? toOciFamily(input)
      : input;
  const fam = family(base);
  const created = patch.created ?? createdFromEnv();
  const cfg: ImageConfigFile = structuredClone(base.config);
  const cc = { ...(cfg.config ?? {}) };
  if (patch.env) cc.Env = mergeEnv(cc.Env, patch.env);
  if (patch.workingDir !== undefined) cc.WorkingDir = patch.workingDir;
  if (patch.user !== undefined) cc.User = patch.user;
  if (patch.exposedPorts?.length) {
    cc.ExposedPorts = { ...(cc.ExposedPorts ?? {}) };
    for (const p of patch.exposedPorts) cc.ExposedPorts[p.includes('/') ? p : `${p}/tcp`] = {};
  }
  if (patch.labels) cc.Labels = { ...(cc.Labels ?? {}), ...patch.labels };
  if (patch.entrypoint) {
    cc.Entrypoint = patch.entrypoint;
    if (!patch.cmd) delete cc.Cmd;
  }
  if (patch.cmd) cc.Cmd = patch.cmd;
  cfg.config = cc;
  cfg.created = created;
  const baseHistory = [...(cfg.history ?? [])];
  const withLayers = baseHistory.filter((h) => !h.empty_layer).length;
  for (let i = withLayers; i < base.layers.length; i++)
    baseHistory.push({ created, comment: 'base layer (no history)' });
  cfg.history = [
    ...baseHistory,
    ...additions.map((a) => ({
      created,
      ...(a.createdBy ? { created_by: a.createdBy } : {}),
      ...(a.comment ? { comment: a.comment } : {}),
    })),
  ];
  cfg.rootfs = {
    type: 'layers',
    diff_ids: [...(cfg.rootfs?.diff_ids ?? []), ...additions.map((a) => a.layer.diffId)],
  };
  if (cfg.rootfs.diff_ids.length !== base.layers.length + additions.length) {
    throw new CogtsError(
      'E_IMAGE_CONFIG',
      `base image config lists ${base.config.rootfs?.diff_ids?.length ?? 0} diff_ids for ${base.layers.length} layers`,
    );
  }
  const configBytes = Buffer.from(JSON.stringify(cfg), 'utf8');
  const newLayers: Blob[] = additions.map((a) => ({
    digest: a.layer.digest,
    size: a.layer.size,
    mediaType: layerMediaType(a.layer, fam),
    open: (r?: ByteRange) => a.layer.open(r),
    ...(a.layer.origin ? { origin: a.layer.origin } : {}),
  }));
  const layers = [...base.layers, ...newLayers];
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: base.mediaType,
    config: { mediaType: configMediaType(fam), digest: sha256Digest(configBytes), size: configBytes.length },
    layers: [...base.manifest.layers, ...newLayers.map(descriptorOf)],
  };
  if (patch.annotations && fam === 'oci') manifest.annotations = { ...patch.annotations };
  const manifestBytes = Buffer.from(JSON.stringify(manifest), 'utf8');
  return imageFromParts(manifestBytes, configBytes, layers);
}

const DOCKER_TO_OCI: Record<string, string> = {
  [MediaType.dockerManifest]: MediaType.ociManifest,
  [MediaType.dockerConfig]: MediaType.ociConfig,
  [MediaType.dockerLayerGzip]: MediaType.ociLayerGzip,
  [MediaType.dockerForeignLayerGzip]: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
};

/**
 * The same image with OCI media types (config and layer bytes unchanged; only the manifest, and so
 * the manifest digest, differ). OCI layouts need this: skopeo and umoci only read OCI descriptors there.
 */
export function toOciFamily(image: Image): Image {
  if (family(image) === 'oci') return image;
  const conv = (mt: string) => DOCKER_TO_OCI[mt] ?? mt;
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { ...image.manifest.config, mediaType: conv(image.manifest.config.mediaType) },
    layers: image.manifest.layers.map((d) => ({ ...d, mediaType: conv(d.mediaType) })),
  };
  const layers = image.layers.map((b) => ({
    digest: b.digest,
    size: b.size,
    mediaType: conv(b.mediaType),
    open: (r?: ByteRange) => b.open(r),
    ...(b.origin ? { origin: b.origin } : {}),
  }));
  return imageFromParts(Buffer.from(JSON.stringify(manifest), 'utf8'), image.configBytes, layers);
}
