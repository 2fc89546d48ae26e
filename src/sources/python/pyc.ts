import { Transform, type TransformCallback } from 'node:stream';

/**
 * `lib/python3.X/__pycache__/os.cpython-311.pyc` → `lib/python3.X/os.py`: the source a cached
 * bytecode file belongs to (also `.opt-1`/`.opt-2` variants), or undefined for other paths.
 */
export function pycSource(path: string): string | undefined {
  const m = /^(.*)\/__pycache__\/([^/]+?)\.[a-z]+-\d+(?:\.opt-\d)?\.pyc$/.exec(path);
  return m ? `${m[1]}/${m[2]}.py` : undefined;
}

/**
 * A timestamp-based .pyc (PEP 552, flags word 0) is only used while its header's source mtime
 * equals the .py file's mtime. Layers stamp every file with one fixed mtime, which would make all
 * shipped bytecode stale: Python would recompile the stdlib on each container start. This rewrites
 * the header's mtime field (bytes 8..11) to that fixed value; hash-based pycs pass unchanged.
 */
export function restampPyc(mtime: number): Transform {
  let head: Buffer | undefined = Buffer.alloc(0);
  return new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      if (!head) return cb(null, chunk);
      head = Buffer.concat([head, chunk]);
      if (head.length < 16) return cb();
      const out = head;
      head = undefined;
      if (out.readUInt32LE(4) === 0) out.writeUInt32LE(mtime >>> 0, 8);
      cb(null, out);
    },
    flush(cb: TransformCallback) {
      cb(null, head && head.length > 0 ? head : undefined);
    },
  });
}
