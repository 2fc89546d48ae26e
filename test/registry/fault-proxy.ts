/**
 * A real HTTP proxy in front of a test registry that misbehaves on demand: answers 500/429, drops
 * the connection in the middle of a request or a response, or alters response bytes (a lying
 * server). `Host` is forwarded unchanged, so the registry's upload Locations point at the proxy.
 */
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; retryAfter?: string }
  | { kind: 'drop-request' }
  | { kind: 'drop-response'; afterBytes: number }
  | { kind: 'corrupt-body' };

/** Decides the fault (if any) for the n-th request (0-based) matching method+path. */
export type FaultRule = { method: string; path: RegExp; nth?: number[]; fault: Fault };

export interface FaultProxy {
  host: string;
  log: string[];
  rules: FaultRule[];
  stop(): Promise<void>;
}

export async function startFaultProxy(target: string, rules: FaultRule[] = []): Promise<FaultProxy> {
  const [thost, tport] = target.split(':');
  const counts = new Map<FaultRule, number>();
  const log: string[] = [];
  const proxy: FaultProxy = { host: '', log, rules, stop: async () => {} };
  const pick = (req: IncomingMessage): Fault | undefined => {
    for (const r of proxy.rules) {
      if (r.method !== req.method || !r.path.test(req.url ?? '')) continue;
      const n = counts.get(r) ?? 0;
      counts.set(r, n + 1);
      if (!r.nth || r.nth.includes(n)) return r.fault;
    }
    return undefined;
  };
  const server: Server = createServer((req, res) => {
    const fault = pick(req);
    log.push(`${req.method} ${req.url} ${fault ? fault.kind : ''}`.trim());
    if (fault?.kind === 'status') {
      req.resume();
      req.on('end', () => {
        res.writeHead(fault.status, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
        res.end('{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}');
      });
      return;
    }
    if (fault?.kind === 'drop-request') {
      req.once('data', () => req.socket.destroy());
      req.once('end', () => req.socket.destroy());
      return;
    }
    const up = request(
      { host: thost, port: Number(tport), method: req.method, path: req.url, headers: req.headers },
      (ur) => {
        const headers = { ...ur.headers };
        res.writeHead(ur.statusCode ?? 502, headers);
        if (fault?.kind === 'drop-response') {
          let sent = 0;
          ur.on('data', (c: Buffer) => {
            const room = fault.afterBytes - sent;
            if (room <= 0) return;
            res.write(c.subarray(0, room));
            sent += Math.min(room, c.length);
            if (sent >= fault.afterBytes) setImmediate(() => res.socket?.destroy());
          });
          ur.on('end', () => res.socket?.destroy());
          return;
        }
        if (fault?.kind === 'corrupt-body') {
          let first = true;
          ur.on('data', (c: Buffer) => {
            const b = Buffer.from(c);
            if (first && b.length > 0) b[b.length - 1] = b[b.length - 1]! ^ 0xff;
            first = false;
            res.write(b);
          });
          ur.on('end', () => res.end());
          return;
        }
        ur.pipe(res);
      },
    );
    up.on('error', () => res.socket?.destroy());
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  proxy.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.stop = () =>
    new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  return proxy;
}
