/**
 * The one message protocol between the server and the Python runner (mirrored in
 * src/python/cog/protocol.py — keep both in step). Transport: a Unix stream socket the server
 * listens on; the runner connects once. Framing: one JSON object per line (UTF-8, `\n`-terminated;
 * JSON never contains a raw newline). Files never travel inline: they are paths on the shared
 * filesystem, marked as `{"$cogts_file": "/abs/path"}` inside output values.
 */

/** Key that marks a file output inside an output value: `{ [FILE_MARKER]: "/abs/path" }`. */
export const FILE_MARKER = '$cogts_file';

export type LogSource = 'stdout' | 'stderr';
export type MetricMode = 'replace' | 'incr' | 'append';

// ---- server → runner -------------------------------------------------------------------------

export interface PredictFrame {
  type: 'predict';
  id: string;
  /** Validated input as the client sent it (files still URLs); the runner coerces and fills defaults. */
  input: Record<string, unknown>;
  /** true for /trainings: the runner calls the train target instead of predict. */
  train?: boolean;
}
export interface CancelFrame {
  type: 'cancel';
  id: string;
}
export interface HealthcheckFrame {
  type: 'healthcheck';
  /** Echoed in the answer so overlapping checks can be matched. */
  seq: number;
}
export interface ShutdownFrame {
  type: 'shutdown';
}
export type ServerFrame = PredictFrame | CancelFrame | HealthcheckFrame | ShutdownFrame;

// ---- runner → server -------------------------------------------------------------------------

/** First frame once the predictor module is imported (before setup runs). */
export interface SchemaFrame {
  type: 'schema';
  /** OpenAPI component schemas (see src/python/cog/SCHEMA.md). */
  input: Record<string, unknown>;
  output: Record<string, unknown>;
  trainingInput?: Record<string, unknown>;
  trainingOutput?: Record<string, unknown>;
  /** The predictor opted into SSE (`@streaming`) or returns an iterator. */
  streaming: boolean;
  /** The predictor defines `healthcheck()`. */
  healthcheck: boolean;
  /** `async def predict`: several predictions may run at once. */
  async: boolean;
  /** `@cog.concurrent(max=N)` on the predict function (used when cog.yaml sets no concurrency). */
  concurrency?: number;
  pythonVersion: string;
}
/** Setup finished (or import/schema failed: status failed before any SchemaFrame). */
export interface SetupDoneFrame {
  type: 'setup_done';
  status: 'succeeded' | 'failed';
  error?: string;
}
/** A prediction's (or, with no id, setup's) stdout/stderr text. */
export interface LogFrame {
  type: 'log';
  id?: string;
  source: LogSource;
  data: string;
}
/** One streamed item of an iterator output. */
export interface OutputFrame {
  type: 'output';
  id: string;
  value: unknown;
}
/** A metric's accumulated value (the runner applies the mode). */
export interface MetricFrame {
  type: 'metric';
  id: string;
  name: string;
  value: unknown;
}
export interface DoneFrame {
  type: 'done';
  id: string;
  status: 'succeeded' | 'failed' | 'canceled';
  /** Present for non-iterator outputs; iterator outputs arrived as OutputFrames. */
  output?: unknown;
  error?: string;
}
export interface HealthcheckResultFrame {
  type: 'healthcheck_result';
  seq: number;
  healthy: boolean;
  error?: string;
}
export type RunnerFrame =
  | SchemaFrame
  | SetupDoneFrame
  | LogFrame
  | OutputFrame
  | MetricFrame
  | DoneFrame
  | HealthcheckResultFrame;

const RUNNER_TYPES = new Set([
  'schema',
  'setup_done',
  'log',
  'output',
  'metric',
  'done',
  'healthcheck_result',
]);

export function encodeFrame(frame: ServerFrame): string {
  return JSON.stringify(frame) + '\n';
}

/** Parses one line from the runner; throws on anything that is not a known frame. */
export function decodeRunnerFrame(line: string): RunnerFrame {
  const v = JSON.parse(line) as { type?: unknown };
  if (typeof v !== 'object' || v === null || typeof v.type !== 'string' || !RUNNER_TYPES.has(v.type)) {
    throw new Error(`not a runner frame: ${line.slice(0, 200)}`);
  }
  return v as RunnerFrame;
}

/**
 * Splits a text stream into lines. Pieces of an unfinished line are kept in a list and joined once
 * its newline arrives, so a frame of many megabytes (a large output) costs O(size), not O(size²).
 */
export class LineSplitter {
  private parts: string[] = [];

  push(chunk: string): string[] {
    const nl = chunk.indexOf('\n');
    if (nl === -1) {
      this.parts.push(chunk);
      return [];
    }
    const lines: string[] = [];
    this.parts.push(chunk.slice(0, nl));
    lines.push(this.parts.length === 1 ? this.parts[0]! : this.parts.join(''));
    this.parts = [];
    let start = nl + 1;
    for (let next = chunk.indexOf('\n', start); next !== -1; next = chunk.indexOf('\n', start)) {
      lines.push(chunk.slice(start, next));
      start = next + 1;
    }
    if (start < chunk.length) this.parts.push(chunk.slice(start));
    return lines.filter((l) => l.length > 0);
  }
}
