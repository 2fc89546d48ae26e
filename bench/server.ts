/**
 * Prediction server throughput/latency, and where a request's time goes.
 *   1. sequential: one keep-alive client, POST /predictions to the `null` model (returns "")
 *   2. concurrent: C clients against `null-async` (async predict, concurrency.max 4)
 *   3. cost split: GET / (HTTP + Express), ajv validation alone, Worker round trip without HTTP
 *      (socket hop + Python), and the Python side alone (runner loop with an in-process channel).
 * The server runs as its own process (the in-image entrypoint, dist-X/src/server/main.js) so its
 * RSS is the server's alone (the Python runner is a separate process, reported apart).
 * Usage: node dist-X/bench/server.js [requests=5000] [rounds=3]
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileInputValidator } from '../src/server/validate.js';
import type { RunnerFrame } from '../src/worker/protocol.js';
import { Worker } from '../src/worker/worker.js';

const distRoot = join(fileURLToPath(import.meta.url), '..', '..');
const repoRoot = join(distRoot, '..');
const models = join(repoRoot, 'fixtures', 'models');
const cogDir = join(repoRoot, 'src', 'python');
const N = Number(process.argv[2] ?? 5000);
const ROUNDS = Number(process.argv[3] ?? 3);

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

function call(port: number, method: string, path: string, body?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent,
        headers: body ? { 'content-type': 'application/json' } : {},
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function startEntrypoint(model: string, port: number, nodeFlags: string[] = []) {
  const child = spawn(process.execPath, [...nodeFlags, join(distRoot, 'src', 'server', 'main.js')], {
    cwd: join(models, model),
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', COG_LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  for (;;) {
    await new Promise((r) => setTimeout(r, 50));
    const ok = await call(port, 'GET', '/health-check').catch(() => 0);
    if (ok === 200) {
      const body = await new Promise<string>((resolve) =>
        request({ host: '127.0.0.1', port, path: '/health-check', agent }, (res) => {
          let s = '';
          res.on('data', (d) => (s += d));
          res.on('end', () => resolve(s));
        }).end(),
      );
      if (body.includes('"READY"')) break;
    }
  }
  return child;
}

/** CPU seconds (user + system) a process has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

function childPid(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
}

function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

async function run(label: string, port: number, path: string, body: string | undefined, clients: number) {
  const per = Math.ceil(N / clients);
  for (let i = 0; i < 200; i++) await call(port, body ? 'POST' : 'GET', path, body); // warm-up
  const lat: number[] = [];
  const t0 = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      for (let i = 0; i < per; i++) {
        const s = process.hrtime.bigint();
        const status = await call(port, body ? 'POST' : 'GET', path, body);
        if (status !== 200) throw new Error(`${label}: HTTP ${status}`);
        lat.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
    }),
  );
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  lat.sort((a, b) => a - b);
  return { rps: lat.length / secs, p50: pct(lat, 50), p99: pct(lat, 99) };
}

const RAW_SERVER = `require('node:http').createServer((q, s) => { q.resume(); q.on('end', () => { s.writeHead(200, {'content-type': 'application/json'}); s.end('{"ok":true}'); }); }).listen(Number(process.argv[1]), '127.0.0.1');`;

async function workerRoundTrip(): Promise<number> {
  const w = new Worker({
    projectDir: join(models, 'null'),
    predict: 'predict.py:Predictor',
    python: 'python3',
    cogPackageDir: cogDir,
  });
  let next: (() => void) | undefined;
  let ready!: () => void;
  const isReady = new Promise<void>((r) => (ready = r));
  w.on('frame', (f: RunnerFrame) => {
    if (f.type === 'setup_done') ready();
    if (f.type === 'done') next?.();
  });
  await w.start();
  await isReady;
  const one = (i: number) =>
    new Promise<void>((r) => {
      next = r;
      w.send({ type: 'predict', id: `b${i}`, input: {} });
    });
  for (let i = 0; i < 200; i++) await one(i);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < N; i++) await one(i);
  const us = Number(process.hrtime.bigint() - t0) / 1e3 / N;
  await w.stop(2000);
  return us;
}

function pythonSide(): number {
  const code = `
import time, sys
sys.path.insert(0, ${JSON.stringify(cogDir)})
import os; os.chdir(${JSON.stringify(join(models, 'null'))})
from cog.runner import Runner, parse_args
from cog.loader import load_target
class Chan:
    def send(self, f): pass
r = Runner(Chan(), parse_args(["--predict", "predict.py:Predictor"]))
r.predictor = load_target("predict.py:Predictor", os.getcwd())
from cog.logcapture import LogStream
r.stdout = LogStream("stdout", r, sys.__stdout__); r.stderr = LogStream("stderr", r, sys.__stderr__)
import json
line = json.dumps({"type": "predict", "id": "x", "input": {}})
n = ${N}
t = time.perf_counter()
for i in range(n):
    r.predict_sync(json.loads(line))
print((time.perf_counter() - t) / n * 1e6)
`;
  const r = spawnSync('python3', ['-c', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

function validationCost(): number {
  const v = compileInputValidator({
    title: 'Input',
    type: 'object',
    properties: {
      prompt: { title: 'Prompt', type: 'string', maxLength: 100, 'x-order': 0 },
      steps: { title: 'Steps', type: 'integer', minimum: 1, maximum: 50, default: 20, 'x-order': 1 },
    },
    required: ['prompt'],
  });
  const input = { prompt: 'a cat', steps: 10 };
  for (let i = 0; i < 10_000; i++) v(input);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 100_000; i++) v(input);
  return Number(process.hrtime.bigint() - t0) / 1e3 / 100_000;
}

async function main() {
  const results: Record<string, number[]> = {};
  const add = (k: string, v: number) => {
    results[k] ??= [];
    results[k].push(v);
  };
  for (let round = 0; round < ROUNDS; round++) {
    const port = 30000 + Math.floor(Math.random() * 20000);
    const seq = await startEntrypoint('null', port);
    const runner = childPid(seq.pid!);
    const cpu0 = [cpuSeconds(seq.pid!), cpuSeconds(runner)];
    const s = await run('sequential', port, '/predictions', '{"input":{}}', 1);
    // CPU per request is what contention on a shared machine distorts least (wall time is noisy).
    add('server CPU us/request', ((cpuSeconds(seq.pid!) - cpu0[0]!) / (N + 200)) * 1e6);
    add('runner CPU us/request', ((cpuSeconds(runner) - cpu0[1]!) / (N + 200)) * 1e6);
    const cpuGet = cpuSeconds(seq.pid!);
    add('seq rps', s.rps);
    add('seq p50 ms', s.p50);
    add('seq p99 ms', s.p99);
    const g = await run('GET /', port, '/', undefined, 1);
    add('GET / p50 ms', g.p50);
    add('server CPU us/GET /', ((cpuSeconds(seq.pid!) - cpuGet) / (N + 200)) * 1e6);
    add('server RSS MB (after seq)', rssMb(seq.pid!));
    seq.kill('SIGTERM');
    // The same with a small young generation (V8 otherwise grows it to 3 x 16 MB under load).
    const lean = await startEntrypoint('null', port + 2, ['--max-semi-space-size=1']);
    const l = await run('sequential lean', port + 2, '/predictions', '{"input":{}}', 1);
    add('lean seq rps', l.rps);
    add('lean seq p99 ms', l.p99);
    add('lean server RSS MB (after seq)', rssMb(lean.pid!));
    lean.kill('SIGTERM');
    // Ceiling on this machine right now: a bare node:http server answering a fixed JSON body.
    const raw = spawn(process.execPath, ['-e', RAW_SERVER, String(port + 3)], { stdio: 'ignore' });
    while ((await call(port + 3, 'POST', '/', '{}').catch(() => 0)) !== 200)
      await new Promise((r) => setTimeout(r, 100));
    const rr = await run('raw', port + 3, '/', '{"input":{}}', 1);
    add('bare node:http rps (ceiling)', rr.rps);
    add('bare node:http p99 ms', rr.p99);
    raw.kill();
    const port2 = port + 1;
    const conc = await startEntrypoint('null-async', port2);
    const c = await run('concurrent', port2, '/predictions', '{"input":{}}', 4);
    add('async 4 clients rps', c.rps);
    add('async p50 ms', c.p50);
    add('async p99 ms', c.p99);
    add('server RSS MB (after async)', rssMb(conc.pid!));
    conc.kill('SIGTERM');
    add('worker round trip us (socket + python)', await workerRoundTrip());
    add('python side us', pythonSide());
    add('ajv validation us', validationCost());
  }
  const lines = Object.entries(results).map(
    ([k, v]) =>
      `| ${k} | ${median(v).toFixed(k.includes('rps') || k.includes('MB') ? 0 : 3)} | ${v.map((x) => x.toFixed(3)).join(', ')} |`,
  );
  process.stdout.write(`| metric | median | runs |\n|---|---|---|\n${lines.join('\n')}\n`);
  agent.destroy();
}

await main();
