import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { type RunningServer, type ServerOptions, startServer } from '../../src/server/server.js';
import { fixturesDir, repoRoot } from '../helpers/paths.js';

export const cogPackageDir = join(repoRoot, 'src', 'python');
export const modelDir = (name: string) => join(fixturesDir, 'models', name);

/** Collects the server's JSON log lines (tests assert on them instead of printing them). */
export class LogSink extends Writable {
  lines: Record<string, unknown>[] = [];
  override _write(chunk: Buffer, _enc: string, cb: () => void): void {
    for (const l of chunk.toString().split('\n'))
      if (l) this.lines.push(JSON.parse(l) as Record<string, unknown>);
    cb();
  }
}

export interface Model {
  server: RunningServer;
  url: string;
  logs: LogSink;
  close(): Promise<void>;
}

/** Starts a real server + Python runner for a fixture model on a free port and waits for setup. */
export async function serveModel(
  name: string,
  ref: string,
  extra: Partial<ServerOptions> = {},
): Promise<Model> {
  const logs = new LogSink();
  const server = await startServer({
    projectDir: modelDir(name),
    predict: ref,
    port: 0,
    host: '127.0.0.1',
    cogPackageDir,
    logStream: logs,
    logLevel: 'debug',
    restartDelayMs: 50,
    shutdownGraceMs: 5000,
    ...extra,
  });
  await server.settled();
  return { server, url: server.url, logs, close: () => server.close({ graceMs: 2000 }) };
}

/** Parsed JSON of a test response; tests assert on its fields one by one. */
// biome-ignore lint/suspicious/noExplicitAny: arbitrary JSON bodies in tests
export type Json = any;

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
  method = 'POST',
): Promise<{ status: number; body: Json }> {
  const res = await fetch(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON (SSE or plain text): leave as text
  }
  return { status: res.status, body: parsed };
}

export async function getJson(url: string): Promise<Json> {
  const res = await fetch(url);
  return res.json();
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms = 10_000,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** A real local HTTP server for webhooks/uploads/downloads. */
export async function httpServer(
  handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: () =>
      new Promise((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Reads an SSE response into [{event, data}] until the stream ends. */
export async function readSse(res: Response): Promise<{ event: string; data: Json }[]> {
  const text = await res.text();
  return text
    .split('\n\n')
    .filter((b) => b.trim())
    .map((block) => {
      const event = /^event: (.*)$/m.exec(block)?.[1] ?? 'message';
      const data = /^data: (.*)$/m.exec(block)?.[1] ?? '';
      return { event, data: JSON.parse(data) };
    });
}
