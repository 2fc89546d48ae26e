import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { CogtsError } from '../errors.js';
import {
  decodeRunnerFrame,
  encodeFrame,
  LineSplitter,
  type RunnerFrame,
  type ServerFrame,
} from './protocol.js';

export interface WorkerOptions {
  /** The model directory (cwd of the runner; cog.yaml's folder). */
  projectDir: string;
  /** "predict.py:Predictor" (cog.yaml `predict` or `run`). */
  predict: string;
  /** "train.py:train" (cog.yaml `train`). */
  train?: string;
  /** Python executable. */
  python: string;
  /** A folder that contains the `cog` package; put first on PYTHONPATH. */
  cogPackageDir?: string;
  /** Environment of the runner (default: this process's). */
  env?: NodeJS.ProcessEnv;
  weights?: string;
}

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/**
 * One Python runner process and its socket. Emits `frame` (RunnerFrame), `stdio` ({source, data}:
 * fd-level output not written through sys.stdout, e.g. from C extensions or subprocesses) and
 * `exit` (WorkerExit) exactly once. A Worker is single-use: after exit, make a new one.
 */
export class Worker extends EventEmitter {
  private child: ChildProcess | undefined;
  private socket: Socket | undefined;
  private server: Server | undefined;
  private readonly socketPath: string;
  private pending: string[] = [];
  private exited = false;

  constructor(private readonly opts: WorkerOptions) {
    super();
    this.socketPath = join(tmpdir(), `cogts-${process.pid}-${Math.random().toString(36).slice(2, 10)}.sock`);
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Listens on the socket and spawns the runner; resolves once the process is spawned. */
  async start(): Promise<void> {
    const server = createServer({ noDelay: true } as never, (sock) => this.attach(sock));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    const args = ['-u', '-m', 'cog.runner', '--socket', this.socketPath, '--predict', this.opts.predict];
    if (this.opts.train) args.push('--train', this.opts.train);
    if (this.opts.weights) args.push('--weights', this.opts.weights);
    const env = { ...(this.opts.env ?? process.env) };
    if (this.opts.cogPackageDir) {
      env.PYTHONPATH = [this.opts.cogPackageDir, env.PYTHONPATH].filter(Boolean).join(delimiter);
    }
    const child = spawn(this.opts.python, args, {
      cwd: this.opts.projectDir,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    child.stdout
      ?.setEncoding('utf8')
      .on('data', (d: string) => this.emit('stdio', { source: 'stdout', data: d }));
    child.stderr
      ?.setEncoding('utf8')
      .on('data', (d: string) => this.emit('stdio', { source: 'stderr', data: d }));
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', () => resolve());
      child.once('error', (err) => {
        this.cleanup();
        reject(
          new CogtsError('E_PYTHON', `cannot start ${this.opts.python}: ${err.message}`, {
            hint: 'install Python 3.8+ or pass --python /path/to/python (env COGTS_PYTHON)',
            cause: err,
          }),
        );
      });
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      this.cleanup();
      this.emit('exit', { code, signal } satisfies WorkerExit);
    });
  }

  private attach(sock: Socket): void {
    if (this.socket) {
      sock.destroy(); // one runner per worker; anything else connecting is refused
      return;
    }
    this.socket = sock;
    sock.setNoDelay(true);
    sock.setEncoding('utf8');
    const splitter = new LineSplitter();
    sock.on('data', (chunk: string) => {
      for (const line of splitter.push(chunk)) {
        let frame: RunnerFrame;
        try {
          frame = decodeRunnerFrame(line);
        } catch (err) {
          this.emit('protocol_error', err);
          continue;
        }
        this.emit('frame', frame);
      }
    });
    sock.on('error', () => {}); // the exit event reports the runner's end
    if (this.pending.length) {
      sock.write(this.pending.join(''));
      this.pending = [];
    }
  }

  send(frame: ServerFrame): void {
    const data = encodeFrame(frame);
    if (this.socket) this.socket.write(data);
    else this.pending.push(data);
  }

  /** Asks the runner to exit (after in-flight work), then kills it if it has not within `graceMs`. */
  async stop(graceMs = 5000): Promise<void> {
    if (this.exited || !this.child) {
      this.cleanup();
      return;
    }
    const exited = new Promise<void>((r) => this.once('exit', () => r()));
    this.send({ type: 'shutdown' });
    this.socket?.end();
    const timer = setTimeout(() => this.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  }

  /** Signals the runner (SIGUSR1 = cancel the running sync prediction; SIGKILL = stop now). */
  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (!this.exited) this.child?.kill(signal);
  }

  private cleanup(): void {
    this.socket?.destroy();
    this.server?.close();
    this.server = undefined;
    try {
      rmSync(this.socketPath, { force: true });
    } catch {
      // already gone
    }
  }
}
