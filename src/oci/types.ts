import type { Readable } from 'node:stream';
import type { Digest } from './digest.js';

/** A byte range of a blob: `start` inclusive, `end` exclusive (omitted: to the end). */
export interface ByteRange {
  start: number;
  end?: number;
}

/**
 * Content-addressed bytes that can be (re)opened: the unit that is pushed, copied or written.
 * `open` may be called several times (retries resume at an offset); each call streams afresh.
 */
export interface Blob {
  readonly digest: Digest;
  readonly size: number;
  readonly mediaType: string;
  open(range?: ByteRange): Promise<Readable>;
  /** Where the blob already lives, so a push to the same registry can mount it instead of copying. */
  readonly origin?: BlobOrigin;
}

export interface BlobOrigin {
  registry: string;
  repository: string;
}

/** A filesystem layer: a blob plus the digest of its uncompressed tar (config `rootfs.diff_ids`). */
export interface Layer extends Blob {
  readonly diffId: Digest;
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: Platform;
  artifactType?: string;
}

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
  'os.version'?: string;
  'os.features'?: string[];
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
  subject?: Descriptor;
  artifactType?: string;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export interface HistoryEntry {
  created?: string;
  created_by?: string;
  author?: string;
  comment?: string;
  empty_layer?: boolean;
}

/** The image config (OCI image-spec "config.json"; Docker's is a superset with the same fields). */
export interface ImageConfigFile {
  architecture: string;
  os: string;
  variant?: string;
  created?: string;
  author?: string;
  config?: ContainerConfig;
  rootfs: { type: 'layers'; diff_ids: Digest[] };
  history?: HistoryEntry[];
  [extra: string]: unknown;
}

export interface ContainerConfig {
  User?: string;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  WorkingDir?: string;
  ExposedPorts?: Record<string, object>;
  Volumes?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
  [extra: string]: unknown;
}
