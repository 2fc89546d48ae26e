import type { NextFunction, Request, Response } from 'express';

/**
 * A JSON body reader for the prediction routes: bounded (413 past `limit` bytes), 400 on bad JSON,
 * any Content-Type accepted (Cog clients do not all send one). Replaces express.json(), whose
 * content-type negotiation and charset decoding cost more than the whole runner round trip
 * (bench/server.ts).
 */
export function jsonBody(limit: number) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      req.resume();
      res.status(413).json({ detail: `request body is larger than ${limit} bytes` });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit && !failed) {
        failed = true;
        res.status(413).json({ detail: `request body is larger than ${limit} bytes` });
        req.resume();
      }
      if (!failed) chunks.push(c);
    });
    req.on('end', () => {
      if (failed) return;
      const text = chunks.length === 1 ? chunks[0]!.toString('utf8') : Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        req.body = {};
        next();
        return;
      }
      try {
        req.body = JSON.parse(text);
      } catch (err) {
        res.status(400).json({ detail: `invalid JSON: ${(err as Error).message}` });
        return;
      }
      next();
    });
    req.on('error', next);
  };
}

/** "100mb" / "64kb" / 1024 → bytes. */
export function parseByteLimit(v: string | number): number {
  if (typeof v === 'number') return v;
  const m = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)?$/i.exec(v.trim());
  if (!m) throw new Error(`not a size: ${v}`);
  const mult = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b'];
  return Math.floor(Number(m[1]) * mult);
}
