import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { FILE_MARKER, type RunnerFrame, type SchemaFrame } from '../worker/protocol.js';
import { Worker, type WorkerExit, type WorkerOptions } from '../worker/worker.js';
import { type FileOutputMode, hasFiles, resolveFiles } from './files.js';
import type { Logger } from './log.js';
import { Prediction, type PredictionResponse } from './prediction.js';
import { maskSecrets, type SecretFields, secretFieldsOf } from './secrets.js';
import { compileInputValidator, type InputValidator, type ValidationIssue } from './validate.js';
import { WEBHOOK_EVENTS, type WebhookEvent, WebhookNotifier, type WebhookOptions } from './webhooks.js';

export type HealthStatus = 'STARTING' | 'READY' | 'BUSY' | 'SETUP_FAILED' | 'DEFUNCT' | 'UNHEALTHY';

export interface SetupInfo {
  started_at: string;
  completed_at: string | null;
  status: 'starting' | 'succeeded' | 'failed';
  logs: string;
}

export interface ServiceOptions {
  worker: WorkerOptions;
  /**
   * Prediction slots (cog.yaml concurrency.max); more than 1 needs an async predictor. Undefined:
   * the predictor's `@cog.concurrent(max=N)`, else 1.
   */
  concurrency?: number;
  files: FileOutputMode;
  logger: Logger;
  webhook: Omit<WebhookOptions, 'logger'>;
  /** First delay before restarting a crashed runner; doubles per crash in a row, up to 10 s. */
  restartDelayMs?: number;
  /** A cancelled prediction the runner has not ended by then gets its runner killed. */
  cancelTimeoutMs?: number;
  healthcheckTimeoutMs?: number;
  /** Setup that has not finished by then fails (Cog: COG_SETUP_TIMEOUT seconds). */
  setupTimeoutMs?: number;
  /** Written when setup succeeds (Cog under Kubernetes: /var/run/cog/ready). */
  readyFile?: string;
}

export interface CreateRequest {
  id?: string;
  input?: unknown;
  webhook?: string;
  webhook_events_filter?: string[];
  output_file_prefix?: string;
  train: boolean;
  traceparent?: string;
}

export type CreateResult =
  | { kind: 'created' | 'attached'; prediction: Prediction }
  | { kind: 'completed'; response: PredictionResponse }
  | { kind: 'invalid'; issues: ValidationIssue[] }
  | { kind: 'busy' }
  | { kind: 'not_ready'; status: HealthStatus }
  | { kind: 'unsupported'; message: string };

const RECENT_LIMIT = 500;

/**
 * Owns the runner and every prediction: slots (409), idempotent ids, cancel, webhooks, file outputs,
 * crash → DEFUNCT → restart. Each prediction ends in exactly one terminal state.
 */
export class PredictionService {
  schema: SchemaFrame | undefined;
  setup: SetupInfo = {
    started_at: new Date().toISOString(),
    completed_at: null,
    status: 'starting',
    logs: '',
  };
  private phase: 'starting' | 'ready' | 'setup_failed' | 'defunct' | 'stopped' = 'starting';
  private worker: Worker | undefined;
  private readonly running = new Map<string, Prediction>();
  private readonly inRunner = new Set<string>();
  private readonly recent = new Map<string, PredictionResponse>();
  private readonly deliveries = new Set<Promise<void>>();
  private readonly notifiers = new Map<string, WebhookNotifier>();
  private readonly outputRoots = new Map<string, Set<string>>();
  private validators: { predict?: InputValidator; train?: InputValidator } = {};
  private secretFields: { predict: SecretFields; train: SecretFields } = {
    predict: new Map(),
    train: new Map(),
  };
  private crashesInARow = 0;
  private restartTimer: NodeJS.Timeout | undefined;
  private readyWaiters: (() => void)[] = [];
  private healthSeq = 0;
  private readonly healthWaiters = new Map<number, (r: { healthy: boolean; error?: string }) => void>();
  private lastHealth: { healthy: boolean; error?: string } = { healthy: true };
  accepting = true;

  constructor(private readonly opts: ServiceOptions) {
    this.slotCount = opts.concurrency ?? 1;
  }

  private slotCount: number;

  get slots(): number {
    return this.slotCount;
  }

  async start(): Promise<void> {
    await this.spawn();
  }

  /** Resolves once setup has ended (succeeded or failed). */
  settled(): Promise<void> {
    if (this.phase === 'ready' || this.phase === 'setup_failed' || this.phase === 'stopped')
      return Promise.resolve();
    return new Promise((r) => this.readyWaiters.push(r));
  }

  private async spawn(): Promise<void> {
    this.phase = 'starting';
    this.setup = { started_at: new Date().toISOString(), completed_at: null, status: 'starting', logs: '' };
    const worker = new Worker(this.opts.worker);
    this.worker = worker;
    worker.on('frame', (f: RunnerFrame) => this.onFrame(f));
    worker.on('stdio', (s: { source: 'stdout' | 'stderr'; data: string }) => this.onStdio(s.source, s.data));
    worker.on('protocol_error', (err: unknown) =>
      this.opts.logger.warn('bad frame from runner', { error: String(err) }),
    );
    worker.once('exit', (e: WorkerExit) => this.onExit(worker, e));
    await worker.start();
    this.opts.logger.info('runner started', { pid: worker.pid });
    const limit = this.opts.setupTimeoutMs;
    if (limit) {
      setTimeout(() => {
        if (this.worker !== worker || this.phase !== 'starting') return;
        this.setup.logs += `setup did not finish within ${limit / 1000} s\n`;
        worker.kill('SIGKILL'); // onExit during 'starting' records the failure
      }, limit).unref();
    }
  }

  // ---- health -----------------------------------------------------------------------------
  async health(): Promise<{ status: HealthStatus; user_healthcheck_error?: string }> {
    const status = this.basicStatus();
    if ((status === 'READY' || status === 'BUSY') && this.schema?.healthcheck && this.worker) {
      // A busy sync runner reads no frames until its prediction ends: report the last answer.
      const busySync = !this.schema.async && this.inRunner.size > 0;
      const r = busySync ? this.lastHealth : await this.userHealthcheck(this.worker);
      this.lastHealth = r;
      if (!r.healthy) return { status: 'UNHEALTHY', user_healthcheck_error: r.error ?? 'unhealthy' };
    }
    return { status };
  }

  basicStatus(): HealthStatus {
    switch (this.phase) {
      case 'starting':
        return 'STARTING';
      case 'setup_failed':
        return 'SETUP_FAILED';
      case 'defunct':
      case 'stopped':
        return 'DEFUNCT';
      default:
        return this.inRunner.size >= this.slots ? 'BUSY' : 'READY';
    }
  }

  private userHealthcheck(worker: Worker): Promise<{ healthy: boolean; error?: string }> {
    const seq = ++this.healthSeq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.healthWaiters.delete(seq);
        resolve({ healthy: false, error: 'healthcheck() timed out' });
      }, this.opts.healthcheckTimeoutMs ?? 5000);
      this.healthWaiters.set(seq, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      worker.send({ type: 'healthcheck', seq });
    });
  }

  // ---- predictions ------------------------------------------------------------------------
  get(id: string): Prediction | undefined {
    return this.running.get(id);
  }

  create(req: CreateRequest): CreateResult {
    if (req.id !== undefined) {
      const live = this.running.get(req.id);
      if (live) return { kind: 'attached', prediction: live };
      const old = this.recent.get(req.id);
      if (old) return { kind: 'completed', response: old };
    }
    const status = this.basicStatus();
    if (!this.accepting || (status !== 'READY' && status !== 'BUSY')) {
      return { kind: 'not_ready', status: this.accepting ? status : 'DEFUNCT' };
    }
    if (req.train && !this.schema?.trainingInput) return { kind: 'unsupported', message: 'no train target' };
    const validator = req.train ? this.validators.train : this.validators.predict;
    const input = this.knownFields(req.input ?? {}, req.train);
    const issues = validator ? validator(input) : [];
    if (issues.length) return { kind: 'invalid', issues };
    if (this.inRunner.size >= this.slots) return { kind: 'busy' };

    const id = req.id ?? randomUUID().replace(/-/g, '');
    const given = input as Record<string, unknown>;
    const shown = maskSecrets(given, req.train ? this.secretFields.train : this.secretFields.predict);
    const extra: { webhook?: string; webhook_events_filter?: string[] } = {};
    if (req.webhook) extra.webhook = req.webhook;
    if (req.webhook_events_filter) extra.webhook_events_filter = req.webhook_events_filter;
    const p = new Prediction(id, req.train, given, shown, extra);
    this.running.set(id, p);
    if (req.webhook) {
      const events = new Set<WebhookEvent>(
        (req.webhook_events_filter ?? WEBHOOK_EVENTS).filter((e): e is WebhookEvent =>
          (WEBHOOK_EVENTS as readonly string[]).includes(e),
        ),
      );
      this.notifiers.set(
        id,
        new WebhookNotifier(
          req.webhook,
          events,
          () => p.snapshot(),
          { ...this.opts.webhook, logger: this.opts.logger },
          req.traceparent,
        ),
      );
    }
    const files: FileOutputMode = req.output_file_prefix
      ? { uploadUrl: req.output_file_prefix }
      : this.opts.files;
    this.dispatch(p, files);
    return { kind: 'created', prediction: p };
  }

  private readonly fileModes = new Map<string, FileOutputMode>();

  /**
   * As Cog does: unknown input fields are dropped, and `null` for a field that is not required
   * means "not given" (so `seed: int = Input(default=None)` accepts null and gets its default).
   */
  private knownFields(input: unknown, train: boolean): unknown {
    const schema = train ? this.schema?.trainingInput : this.schema?.input;
    if (typeof input !== 'object' || input === null || Array.isArray(input) || !schema) return input;
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    const required = new Set((schema.required ?? []) as string[]);
    let out: Record<string, unknown> | undefined;
    for (const [k, v] of Object.entries(input)) {
      if (!(k in props) || (v === null && !required.has(k))) {
        out ??= { ...(input as Record<string, unknown>) };
        delete out[k];
      }
    }
    return out ?? input;
  }

  private dispatch(p: Prediction, files: FileOutputMode): void {
    this.fileModes.set(p.id, files);
    this.inRunner.add(p.id);
    p.state.status = 'processing';
    p.state.started_at = new Date().toISOString();
    this.worker!.send({ type: 'predict', id: p.id, input: p.input, ...(p.train ? { train: true } : {}) });
    this.notifiers.get(p.id)?.notify('start');
  }

  cancel(id: string): boolean {
    const p = this.running.get(id);
    if (!p) return false;
    if (p.done || p.cancelRequested) return true;
    p.cancelRequested = true;
    const worker = this.worker;
    if (this.inRunner.has(id) && worker) {
      worker.send({ type: 'cancel', id });
      // A sync runner does not read its socket while predicting: the signal interrupts it.
      if (!this.schema?.async) worker.kill('SIGUSR1');
      const timer = setTimeout(() => {
        if (this.inRunner.has(id) && this.worker === worker) {
          this.opts.logger.warn('cancel not honoured in time; killing the runner', { prediction_id: id });
          worker.kill('SIGKILL');
        }
      }, this.opts.cancelTimeoutMs ?? 10_000);
      timer.unref();
    }
    return true;
  }

  // ---- runner events ----------------------------------------------------------------------
  private onFrame(f: RunnerFrame): void {
    switch (f.type) {
      case 'schema': {
        this.schema = f;
        this.validators.predict = compileInputValidator(f.input);
        this.secretFields.predict = secretFieldsOf(f.input);
        if (f.trainingInput) {
          this.validators.train = compileInputValidator(f.trainingInput);
          this.secretFields.train = secretFieldsOf(f.trainingInput);
        }
        if (this.opts.concurrency === undefined && f.concurrency) this.slotCount = f.concurrency;
        if (!f.async && this.slotCount > 1) {
          this.opts.logger.warn('concurrency.max > 1 needs an async predict(); serving one at a time', {
            concurrency: this.slotCount,
          });
          this.slotCount = 1;
        }
        return;
      }
      case 'setup_done':
        this.setup.completed_at = new Date().toISOString();
        this.setup.status = f.status;
        // A shutdown during setup already stopped the service: the runner's late report must not
        // bring it back (its exit would then look like a crash and restart it).
        if (this.phase === 'stopped') return;
        if (f.status === 'succeeded') {
          this.phase = 'ready';
          this.opts.logger.info('setup succeeded', {});
          if (this.opts.readyFile) writeReadyFile(this.opts.readyFile, this.opts.logger);
        } else {
          this.phase = 'setup_failed';
          this.opts.logger.error('setup failed', { error: f.error });
        }
        this.wakeReadyWaiters();
        return;
      case 'log': {
        const p = f.id ? this.running.get(f.id) : undefined;
        if (p) this.onLog(p, f.source, f.data);
        else this.unattributedLog(f.source, f.data);
        return;
      }
      case 'output': {
        const p = this.running.get(f.id);
        if (!p) return;
        p.streamed = true;
        if (!Array.isArray(p.state.output)) p.state.output = [];
        const index = (p.state.output as unknown[]).length;
        (p.state.output as unknown[]).push(null);
        p.chain = p.chain.then(async () => {
          const chunk = await this.resolveOutput(p, f.value);
          (p.state.output as unknown[])[index] = chunk;
          p.emit('output', chunk, index);
          this.notifiers.get(p.id)?.notify('output');
        });
        return;
      }
      case 'metric': {
        const p = this.running.get(f.id);
        if (!p) return;
        p.state.metrics[f.name] = f.value;
        p.emit('metric', f.name, f.value);
        return;
      }
      case 'done': {
        this.inRunner.delete(f.id);
        const p = this.running.get(f.id);
        if (!p) return;
        p.chain = p.chain.then(async () => {
          let status = f.status;
          let error = f.error;
          if (!p.streamed && 'output' in f) {
            try {
              p.state.output = await this.resolveOutput(p, f.output);
            } catch (err) {
              status = 'failed';
              error = `cannot deliver file output: ${String(err)}`;
            }
          }
          this.complete(p, status, error);
        });
        p.chain.catch((err) => this.complete(p, 'failed', `cannot deliver output: ${String(err)}`));
        return;
      }
      case 'healthcheck_result': {
        const waiter = this.healthWaiters.get(f.seq);
        this.healthWaiters.delete(f.seq);
        waiter?.({ healthy: f.healthy, ...(f.error ? { error: f.error } : {}) });
        return;
      }
    }
  }

  private async resolveOutput(p: Prediction, value: unknown): Promise<unknown> {
    if (!hasFiles(value)) return value;
    collectRoots(value, this.outputRoots, p.id);
    return resolveFiles(value, this.fileModes.get(p.id) ?? this.opts.files);
  }

  private onLog(p: Prediction, source: 'stdout' | 'stderr', data: string): void {
    p.addLog(source, data);
    this.notifiers.get(p.id)?.notify('logs');
  }

  private unattributedLog(source: string, data: string): void {
    if (this.phase === 'starting') this.setup.logs += data;
    else this.opts.logger.info('runner output', { source, data });
  }

  private onStdio(source: 'stdout' | 'stderr', data: string): void {
    if (this.inRunner.size === 1) {
      const [only] = this.inRunner;
      const p = this.running.get(only!);
      if (p) {
        this.onLog(p, source, data);
        return;
      }
    }
    this.unattributedLog(source, data);
  }

  private complete(p: Prediction, status: 'succeeded' | 'failed' | 'canceled', error?: string): void {
    if (p.done) return;
    p.finish(p.cancelRequested && status === 'failed' ? 'canceled' : status, error);
    this.running.delete(p.id);
    this.fileModes.delete(p.id);
    this.remember(p.state);
    const roots = this.outputRoots.get(p.id);
    this.outputRoots.delete(p.id);
    for (const r of roots ?? []) void rm(r, { recursive: true, force: true });
    const notifier = this.notifiers.get(p.id);
    this.notifiers.delete(p.id);
    if (notifier) {
      const d = notifier.completed();
      this.deliveries.add(d);
      void d.finally(() => this.deliveries.delete(d));
    }
    this.opts.logger.info('prediction completed', {
      prediction_id: p.id,
      status: p.state.status,
      predict_time: p.state.metrics.predict_time,
    });
  }

  private remember(r: PredictionResponse): void {
    this.recent.set(r.id, r);
    if (this.recent.size > RECENT_LIMIT) this.recent.delete(this.recent.keys().next().value!);
  }

  private onExit(worker: Worker, e: WorkerExit): void {
    if (worker !== this.worker) return;
    const how = e.signal ? `signal ${e.signal}` : `exit code ${e.code}`;
    for (const p of [...this.running.values()]) {
      if (!this.inRunner.has(p.id)) continue;
      this.inRunner.delete(p.id);
      p.chain = p.chain.then(() => {
        if (p.cancelRequested) this.complete(p, 'canceled');
        else {
          p.addLog('stderr', `the model process ended unexpectedly (${how})\n`);
          this.complete(p, 'failed', `prediction failed: the model process ended unexpectedly (${how})`);
        }
      });
    }
    if (this.phase === 'stopped') return;
    if (this.phase === 'starting') {
      this.phase = 'setup_failed';
      this.setup.status = 'failed';
      this.setup.completed_at = new Date().toISOString();
      this.setup.logs += `the model process ended during setup (${how})\n`;
      this.opts.logger.error('runner ended during setup', { how });
      this.wakeReadyWaiters();
      return;
    }
    if (this.phase === 'setup_failed') return;
    this.phase = 'defunct';
    const delay = Math.min((this.opts.restartDelayMs ?? 250) * 2 ** this.crashesInARow, 10_000);
    this.crashesInARow++;
    this.opts.logger.error('runner ended; restarting', { how, restart_in_ms: delay });
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.phase !== 'defunct') return;
      this.spawn().then(
        () =>
          this.settled().then(() => {
            if (this.phase === 'ready') this.crashesInARow = 0;
          }),
        (err) => this.opts.logger.error('runner restart failed', { error: String(err) }),
      );
    }, delay);
  }

  private wakeReadyWaiters(): void {
    const w = this.readyWaiters;
    this.readyWaiters = [];
    for (const f of w) f();
  }

  /**
   * Graceful stop: refuse new work, let in-flight predictions finish for up to `graceMs`, cancel
   * what is left, wait for terminal webhooks, then stop the runner.
   */
  async shutdown(graceMs: number): Promise<void> {
    this.accepting = false;
    const inflight = () => [...this.running.values()].map((p) => p.result);
    const finished = Promise.all(inflight());
    const timedOut = await Promise.race([
      finished.then(() => false),
      new Promise<boolean>((r) => setTimeout(() => r(true), graceMs).unref()),
    ]);
    if (timedOut) {
      for (const id of [...this.running.keys()]) this.cancel(id);
      await Promise.all(inflight());
    }
    await Promise.all([...this.deliveries]);
    if (this.restartTimer) clearTimeout(this.restartTimer);
    this.phase = 'stopped';
    this.wakeReadyWaiters();
    await this.worker?.stop(2000);
  }
}

function writeReadyFile(path: string, logger: Logger): void {
  mkdir(dirname(path), { recursive: true })
    .then(() => writeFile(path, ''))
    .catch((err: unknown) => logger.warn('cannot write the ready file', { path, error: String(err) }));
}

function collectRoots(v: unknown, roots: Map<string, Set<string>>, id: string): void {
  if (typeof v !== 'object' || v === null) return;
  if (Array.isArray(v)) {
    for (const x of v) collectRoots(x, roots, id);
    return;
  }
  const path = (v as Record<string, unknown>)[FILE_MARKER];
  if (typeof path === 'string') {
    // The runner lays files out as <tmp>/cogts-out-XXXX/<n>/<name>; only such folders are removed.
    const root = dirname(dirname(path));
    if (!basename(root).startsWith('cogts-out-')) return;
    let set = roots.get(id);
    if (!set) {
      set = new Set();
      roots.set(id, set);
    }
    set.add(root);
    return;
  }
  for (const x of Object.values(v)) collectRoots(x, roots, id);
}
