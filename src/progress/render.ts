import type { BuildSummary, Progress, ProgressEvent } from './events.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)}s`;

/** One line per finished step; byte counts are left out (CI logs want few lines). */
export function plainLine(e: ProgressEvent): string | undefined {
  switch (e.type) {
    case 'log':
      return e.message;
    case 'phase':
      return e.status === 'done' && e.ms !== undefined ? `${e.phase}: done in ${seconds(e.ms)}` : undefined;
    case 'layer':
      if (e.status === 'start') return undefined;
      if (e.status === 'empty') return `layer ${e.id}: nothing to add`;
      return `layer ${e.id}: ${e.status} ${e.digest} (${formatBytes(e.size ?? 0)}, ${seconds(e.ms)})`;
    case 'blob':
      return `blob ${e.digest.slice(7, 19)}${e.layer ? ` (${e.layer})` : ''}: ${e.result} ${formatBytes(e.size)}`;
    case 'bytes':
      return undefined;
    case 'summary':
      return summaryLines(e.summary).join('\n');
  }
}

export function summaryLines(s: BuildSummary): string[] {
  const phases = Object.entries(s.phases)
    .map(([k, v]) => `${k} ${seconds(v ?? 0)}`)
    .join(', ');
  return [
    `layers: ${s.layers.built} built, ${s.layers.cached} cached, ${s.layers.remote} from the registry cache`,
    `blobs: ${s.blobs.uploaded} uploaded, ${s.blobs.mounted} mounted, ${s.blobs.exists} already there; ${formatBytes(s.bytes.uploaded)} uploaded, ${formatBytes(s.bytes.skipped)} skipped`,
    `time: ${seconds(s.totalMs)} (${phases})`,
  ];
}

function lineWriter(write: (s: string) => void): Progress {
  return {
    emit(e) {
      const line = plainLine(e);
      if (line !== undefined) write(`${line}\n`);
    },
    close() {},
  };
}

/** NDJSON: one event per line with a millisecond timestamp. */
function jsonWriter(write: (s: string) => void): Progress {
  return {
    emit(e) {
      write(`${JSON.stringify({ time: Date.now(), ...e })}\n`);
    },
    close() {},
  };
}

const BAR = 24;

/** `building  code  [#########---------------]  37%  12.0 MiB / 32.0 MiB` (no bar without a total). */
export function liveLine(e: Extract<ProgressEvent, { type: 'bytes' }>): string {
  const verb = e.stage === 'build' ? 'building ' : 'uploading';
  if (!e.total) return `${verb} ${e.id}  ${formatBytes(e.bytes)}`;
  const frac = Math.min(1, e.bytes / e.total);
  const filled = Math.round(frac * BAR);
  const pct = `${Math.floor(frac * 100)}%`.padStart(4);
  return `${verb} ${e.id}  [${'#'.repeat(filled)}${'-'.repeat(BAR - filled)}] ${pct}  ${formatBytes(e.bytes)} / ${formatBytes(e.total)}`;
}

/**
 * A TTY display: finished lines scroll above, one live line per layer being built or blob being
 * uploaded (a bar, percent and bytes) is redrawn in place, at most every 100 ms. No colours.
 */
function ttyWriter(stream: NodeJS.WriteStream): Progress {
  const live = new Map<string, string>();
  let drawn = 0;
  let last = 0;
  const clear = () => {
    if (drawn > 0) stream.write(`\x1b[${drawn}A\x1b[J`);
    drawn = 0;
  };
  const draw = () => {
    for (const l of live.values()) stream.write(`${l.slice(0, (stream.columns ?? 100) - 1)}\n`);
    drawn = live.size;
    last = Date.now();
  };
  return {
    emit(e) {
      if (e.type === 'bytes') {
        live.set(e.id + e.stage, liveLine(e));
        if (Date.now() - last < 100) return;
        clear();
        draw();
        return;
      }
      if (e.type === 'layer' && e.status === 'start') live.set(`${e.id}build`, `building ${e.id}…`);
      if (e.type === 'layer' && e.status !== 'start') live.delete(`${e.id}build`);
      if (e.type === 'blob') live.delete(`${e.layer ?? e.digest.slice(7, 19)}upload`);
      clear();
      const line = plainLine(e);
      if (line !== undefined) stream.write(`${line}\n`);
      draw();
    },
    close() {
      live.clear();
      clear();
    },
  };
}

/** `--progress`: auto is the TTY display on a terminal, plain lines otherwise. */
export function createProgress(
  mode: 'auto' | 'plain' | 'json',
  stream: NodeJS.WriteStream = process.stderr,
): Progress {
  const write = (s: string) => stream.write(s);
  if (mode === 'json') return jsonWriter(write);
  if (mode === 'auto' && stream.isTTY) return ttyWriter(stream);
  return lineWriter(write);
}
