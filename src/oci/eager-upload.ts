import { Readable } from 'node:stream';
import { CogtsError } from '../errors.js';
import { type BuildLayerOptions, buildLayer } from '../layer/build.js';
import type { LayerEntry } from '../layer/entry.js';
import { header, type Registries, type RegistryClient } from '../registry/client.js';
import type { Digest } from './digest.js';
import type { Reference } from './reference.js';
import type { Layer } from './types.js';

/**
 * Uploads a blob while it is being produced: PATCH chunks as they fill (one in flight, so the
 * producer keeps working during each request), PUT ?digest= once the digest is known. It is an
 * optimisation only: on any failure it stops quietly and `finish` reports false, and the normal
 * push (HEAD, upload from the blob file) does the work. Memory: two chunks.
 */
export class EagerUpload {
  private location: string | undefined;
  private buf: Buffer[] = [];
  private bufBytes = 0;
  private offset = 0;
  private inflight: Promise<void> | undefined;
  private failed: unknown;

  constructor(
    private readonly client: RegistryClient,
    private readonly repository: string,
    private readonly chunkSize = 16 << 20,
  ) {}

  get ok(): boolean {
    return this.failed === undefined;
  }

  private async start(): Promise<void> {
    const res = await this.client.send({
      method: 'POST',
      path: `/v2/${this.repository}/blobs/uploads/`,
      repository: this.repository,
      actions: 'pull,push',
      headers: { 'content-length': '0' },
      expect: [202],
    });
    await res.body.dump();
    this.location = this.client.resolveLocation(res);
  }

  /** One PATCH of `chunks` (sent as they are: concatenating them copied every compressed byte once more). */
  private async patch(chunks: Buffer[], length: number): Promise<void> {
    if (!this.location) await this.start();
    const start = this.offset;
    const res = await this.client.send({
      method: 'PATCH',
      path: this.location!,
      repository: this.repository,
      actions: 'pull,push',
      headers: {
        'content-type': 'application/octet-stream',
        'content-length': String(length),
        'content-range': `${start}-${start + length - 1}`,
      },
      body: async () => Readable.from(chunks, { objectMode: false }),
      expect: [202],
      noRetry: true,
    });
    await res.body.dump();
    this.location = this.client.resolveLocation(res);
    this.offset += length;
    const min = Number(header(res, 'oci-chunk-min-length') ?? 0);
    if (min > this.chunkSize)
      throw new CogtsError('E_UPLOAD', `registry wants chunks of at least ${min} bytes`);
  }

  private launch(): void {
    const chunks = this.buf;
    const length = this.bufBytes;
    this.buf = [];
    this.bufBytes = 0;
    this.inflight = this.patch(chunks, length).catch((e) => {
      this.failed = e;
    });
  }

  /** Feed compressed bytes in order. Never throws: a failure only disables the eager upload. */
  async write(chunk: Buffer): Promise<void> {
    if (this.failed !== undefined) return;
    this.buf.push(chunk);
    this.bufBytes += chunk.length;
    if (this.bufBytes < this.chunkSize) return;
    if (this.inflight) await this.inflight;
    if (this.failed === undefined) this.launch();
  }

  /** Sends the rest and commits under `digest`; true when the registry now has the blob. */
  async finish(digest: Digest): Promise<boolean> {
    if (this.inflight) await this.inflight;
    if (this.failed !== undefined) return false;
    try {
      if (this.bufBytes > 0) {
        this.launch();
        await this.inflight;
        if (this.failed !== undefined) return false;
      }
      if (!this.location) await this.start();
      const u = new URL(this.location!);
      u.searchParams.set('digest', digest);
      const res = await this.client.send({
        method: 'PUT',
        path: u.toString(),
        repository: this.repository,
        actions: 'pull,push',
        headers: { 'content-length': '0' },
        expect: [201, 204],
        noRetry: true,
      });
      await res.body.dump();
      return true;
    } catch (e) {
      this.failed = e;
      return false;
    }
  }
}

/**
 * buildLayer + EagerUpload: the layer is uploaded to `target`'s repository while it is built, so
 * build and upload overlap. Returns the layer (its blob file is complete either way) and whether
 * the eager upload landed; `pushImage` afterwards finds the blob present (HEAD) or uploads it.
 */
export async function buildLayerUploading(
  registries: Registries,
  target: Reference,
  entries: Iterable<LayerEntry>,
  opts: BuildLayerOptions = {},
): Promise<Layer & { uploaded: boolean }> {
  const eager = new EagerUpload(registries.client(target.registry), target.repository);
  const layer = await buildLayer(entries, { ...opts, tap: (c) => eager.write(c) });
  const uploaded = await eager.finish(layer.digest);
  return Object.assign(layer, { uploaded });
}
