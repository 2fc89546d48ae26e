import { Transform } from 'node:stream';

/**
 * A pass-through stream that shows every chunk to `tap` on its way (byte counts for progress, an
 * upload fed while a layer is written). A promise returned by `tap` holds the stream back until it
 * settles; a throw or rejection fails the stream.
 */
export function tapStream(tap: (chunk: Buffer) => void | Promise<void>): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      let held: void | Promise<void>;
      try {
        held = tap(chunk);
      } catch (e) {
        cb(e as Error);
        return;
      }
      if (held instanceof Promise) held.then(() => cb(null, chunk), cb);
      else cb(null, chunk);
    },
  });
}
