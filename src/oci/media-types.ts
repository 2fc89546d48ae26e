/**
 * Media types of the two families registries speak. An image keeps one family throughout: some
 * registries reject a Docker manifest that lists OCI layers (and the reverse), so new layers take the
 * family of the base manifest.
 */
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayer: 'application/vnd.oci.image.layer.v1.tar',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  ociLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerForeignLayerGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const;

export type Family = 'oci' | 'docker';

/** Sent as Accept on every manifest request, so a registry never down-converts to schema1. */
export const MANIFEST_ACCEPT = [
  MediaType.ociManifest,
  MediaType.ociIndex,
  MediaType.dockerManifest,
  MediaType.dockerManifestList,
].join(', ');

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociIndex || mt === MediaType.dockerManifestList;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MediaType.ociManifest || mt === MediaType.dockerManifest;
}

export function familyOf(manifestMediaType: string): Family {
  return manifestMediaType.startsWith('application/vnd.docker.') ? 'docker' : 'oci';
}

export function manifestMediaType(f: Family): string {
  return f === 'docker' ? MediaType.dockerManifest : MediaType.ociManifest;
}

export function configMediaType(f: Family): string {
  return f === 'docker' ? MediaType.dockerConfig : MediaType.ociConfig;
}

export function gzipLayerMediaType(f: Family): string {
  return f === 'docker' ? MediaType.dockerLayerGzip : MediaType.ociLayerGzip;
}
