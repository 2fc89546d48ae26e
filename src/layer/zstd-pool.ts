import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { CogtsError } from '../errors.js';
import type { ZstdRequest, ZstdResponse } from './zstd-worker.js';

/**
 * At most this many workers: each holds a V8 isolate and a wasm heap (~30 MiB at level 3), and 8
 * workers at ~100 MB/s each already outrun most disks and uplinks a layer goes to.
 */
export const MAX_ZSTD_WORKERS = 8;

interface Job {
  req: ZstdRequest;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
}

interface Slot {
  worker: Worker;
  job?: Job;
}

/**
 * Where the compiled worker script is: src/layer/ of this tree (dist/ or any other tsc outDir). The
 * path goes through ../layer/ so it also holds from the CLI bundle (dist/src/cli/cogts.mjs).
 */
function workerUrl(): URL {
  // Run from sources under a TypeScript loader, the worker is the .ts file (the loader is inherited
  // through execArgv).
  const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`../layer/zstd-worker${ext}`, import.meta.url);
}

/**
 * The parent's Node options minus --input-type: a worker inherits execArgv, and with that flag
 * (`node --input-type=module -e …`) Node refuses to load a worker from a file.
 */
function workerExecArgv(): string[] {
  const out: string[] = [];
  const argv = process.execArgv;
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--input-type') i++;
    else if (!argv[i]!.startsWith('--input-type=')) out.push(argv[i]!);
  }
  return out;
}

/**
 * Node 20's zlib has no zstd and wasm runs on the thread that calls it, so zstd pieces are spread
 * over worker threads, each with its own wasm instance: the pool is what makes zstd use every core
 * (as gzip uses the libuv pool). Workers start on demand, up to `size`, and are unref'd while idle
 * so that an idle pool never keeps the process alive. One pool serves every stream of the process
 * (layers are built two at a time), in request order.
 */
export class ZstdPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Job[] = [];

  constructor(readonly size: number) {
    if (!(size >= 1)) throw new RangeError(`zstd pool size ${size} must be at least 1`);
  }

  /**
   * One zstd frame of `data[offset, offset+length)`. The ArrayBuffer is transferred to a worker
   * (detached here): the caller must hold no other view of it that it still needs.
   */
  compress(data: ArrayBuffer, offset: number, length: number, level: number): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      this.queue.push({ req: { data, offset, length, level }, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    while (this.queue.length > 0) {
      let slot = this.slots.find((s) => !s.job);
      if (!slot && this.slots.length < this.size) slot = this.spawn();
      if (!slot) return;
      const job = this.queue.shift()!;
      slot.job = job;
      slot.worker.ref(); // a pending piece keeps the process alive
      slot.worker.postMessage(job.req, [job.req.data]);
    }
  }

  private spawn(): Slot {
    const worker = new Worker(workerUrl(), { execArgv: workerExecArgv() });
    const slot: Slot = { worker };
    this.slots.push(slot);
    worker.on('message', (res: ZstdResponse) => {
      const job = slot.job;
      slot.job = undefined;
      worker.unref();
      if (job) {
        if ('error' in res) job.reject(new CogtsError('E_ZSTD', `zstd compression failed: ${res.error}`));
        else job.resolve(Buffer.from(res.data, 0, res.length));
      }
      this.pump();
    });
    const fail = (err: Error) => {
      const i = this.slots.indexOf(slot);
      if (i < 0) return;
      this.slots.splice(i, 1);
      slot.job?.reject(
        new CogtsError('E_ZSTD', `zstd worker failed: ${err.message}`, {
          hint: 'a missing or damaged @bokuweb/zstd-wasm install; reinstall cogts',
          cause: err,
        }),
      );
      slot.job = undefined;
      // Jobs still queued get a fresh worker (which fails the same way if the install is broken).
      this.pump();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`worker exited with code ${code}`)));
    return slot;
  }
}

let shared: ZstdPool | undefined;

/** The process's pool: one worker per core, at most MAX_ZSTD_WORKERS (each holds a wasm heap). */
export function zstdPool(): ZstdPool {
  shared ??= new ZstdPool(Math.min(availableParallelism(), MAX_ZSTD_WORKERS));
  return shared;
}
