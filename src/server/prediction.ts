import { EventEmitter } from 'node:events';
import type { LogSource } from '../worker/protocol.js';

export type PredictionStatus = 'starting' | 'processing' | 'succeeded' | 'failed' | 'canceled';
export const TERMINAL: ReadonlySet<PredictionStatus> = new Set(['succeeded', 'failed', 'canceled']);

/** The object clients and webhooks see (Cog's PredictionResponse). */
export interface PredictionResponse {
  id: string;
  input: Record<string, unknown>;
  output: unknown;
  logs: string;
  error: string | null;
  status: PredictionStatus;
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  metrics: Record<string, unknown>;
  webhook?: string;
  webhook_events_filter?: string[];
}

export interface PredictionEvents {
  output: [chunk: unknown, index: number];
  log: [source: LogSource, data: string];
  metric: [name: string, value: unknown];
  completed: [response: PredictionResponse];
}

/**
 * One prediction's live state. Emits output/log/metric as they happen and `completed` exactly once;
 * `result` resolves with the terminal response.
 */
export class Prediction extends EventEmitter<PredictionEvents> {
  readonly state: PredictionResponse;
  readonly result: Promise<PredictionResponse>;
  /** Output items arrived as stream frames (iterator output). */
  streamed = false;
  cancelRequested = false;
  /** Keeps file resolution and terminal handling in frame order. */
  chain: Promise<void> = Promise.resolve();
  private resolveResult!: (r: PredictionResponse) => void;

  constructor(
    id: string,
    readonly train: boolean,
    readonly input: Record<string, unknown>,
    shownInput: Record<string, unknown>,
    extra: { webhook?: string; webhook_events_filter?: string[] },
  ) {
    super();
    this.state = {
      id,
      input: shownInput,
      output: null,
      logs: '',
      error: null,
      status: 'starting',
      created_at: new Date().toISOString(),
      started_at: null,
      completed_at: null,
      metrics: {},
      ...extra,
    };
    this.result = new Promise((r) => {
      this.resolveResult = r;
    });
  }

  get id(): string {
    return this.state.id;
  }

  get done(): boolean {
    return TERMINAL.has(this.state.status);
  }

  /** A copy safe to serialise later (webhook bodies are built when sent). */
  snapshot(): PredictionResponse {
    const s = { ...this.state };
    if (Array.isArray(s.output)) s.output = [...s.output];
    s.metrics = { ...s.metrics };
    return s;
  }

  addLog(source: LogSource, data: string): void {
    this.state.logs += data;
    this.emit('log', source, data);
  }

  finish(status: 'succeeded' | 'failed' | 'canceled', error?: string): void {
    if (this.done) return; // exactly one terminal state
    const now = new Date();
    this.state.status = status;
    this.state.error = error ?? null;
    this.state.completed_at = now.toISOString();
    if (this.state.started_at) {
      this.state.metrics.predict_time = (now.getTime() - Date.parse(this.state.started_at)) / 1000;
    }
    const final = this.snapshot();
    this.resolveResult(final);
    this.emit('completed', final);
  }
}
