/**
 * cogts' OCI library: nothing here knows about Cog. See README.md in this folder for how to use it.
 */

export { type BuildLayerOptions, buildLayer, diffIdOf, fileLayer } from '../layer/build.js';
export { cachedLayer } from '../layer/cache.js';
export {
  type Compression,
  type CompressionChoice,
  compressionFor,
  compressionKey,
  compressionMediaType,
  createCompressor,
  DEFAULT_COMPRESSION,
} from '../layer/compression.js';
export type { LayerEntry } from '../layer/entry.js';
export { DEFAULT_GZIP, gzipKey, ParallelGzip } from '../layer/gzip.js';
export { sourceDateEpoch, tarStream } from '../layer/tar-stream.js';
export { DEFAULT_ZSTD, ParallelZstd, zstdKey } from '../layer/zstd.js';
export { Registries, type RegistryOptions } from '../registry/client.js';
export { dockerConfigCredentials, saveDockerConfigAuth, staticCredentials } from '../registry/credentials.js';
export { parseMirrors } from '../registry/endpoint.js';
export { registryOptionsFrom } from '../registry/options.js';
export { writeDockerArchive } from './archive.js';
export { type Digest, isDigest, parseDigest, sha256Digest } from './digest.js';
export { buildLayerUploading, EagerUpload } from './eager-upload.js';
export {
  type Addition,
  appendLayers,
  type ConfigPatch,
  createdFromEnv,
  type Image,
  toOciFamily,
} from './image.js';
export { writeOciLayout } from './layout.js';
export { MediaType } from './media-types.js';
export { type OutputSpec, parseOutput, writeOutput } from './output.js';
export { parsePlatform } from './platform.js';
export { type PushOptions, type PushResult, pushImage } from './push.js';
export { formatReference, parseReference, type Reference } from './reference.js';
export { type RemoteImage, remoteImage } from './remote.js';
export type { Blob, ByteRange, Descriptor, ImageConfigFile, ImageManifest, Layer } from './types.js';
