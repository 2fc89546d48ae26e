/**
 * A zstd worker thread (see zstd-pool.ts): one wasm zstd instance, one piece at a time. Each
 * message is a piece in a transferred ArrayBuffer; the answer is one complete zstd frame
 * (ZSTD_compress: frame header with the content size, no dictionary, no checksum), transferred back.
 */
import { parentPort } from 'node:worker_threads';
// CommonJS package: its module.exports is the default import.
import zstd from '@bokuweb/zstd-wasm';

export interface ZstdRequest {
  data: ArrayBuffer;
  offset: number;
  length: number;
  level: number;
}

export type ZstdResponse = { data: ArrayBuffer; length: number } | { error: string };

const port = parentPort;
if (!port) throw new Error('zstd-worker.js runs only as a worker thread');
// Listening before the wasm is ready: messages that arrive meanwhile wait on `ready`, none is lost.
const ready = zstd.init();

port.on('message', async (m: ZstdRequest) => {
  let reply: ZstdResponse;
  let transfer: ArrayBuffer[] = [];
  try {
    await ready;
    let out = zstd.compress(new Uint8Array(m.data, m.offset, m.length), m.level);
    // compress() copies its result out of the wasm heap; should a version hand back a view into
    // the heap instead, copy it, since transferring the heap's buffer would detach wasm memory.
    if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice();
    reply = { data: out.buffer as ArrayBuffer, length: out.byteLength };
    transfer = [out.buffer as ArrayBuffer];
  } catch (e) {
    reply = { error: e instanceof Error ? e.message : String(e) };
  }
  port.postMessage(reply, transfer);
});
