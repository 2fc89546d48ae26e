/**
 * What a build reports while it runs. One vocabulary for the three renderers (plain lines, JSON
 * events, TTY redraw), so tools reading `--progress json` see exactly what humans see.
 */
export type LayerOutcome = 'built' | 'cached' | 'remote' | 'empty';

export type ProgressEvent =
  | { type: 'log'; message: string }
  | { type: 'phase'; phase: Phase; status: 'start' | 'done'; ms?: number }
  | { type: 'layer'; id: string; kind: string; status: 'start' }
  | {
      type: 'layer';
      id: string;
      kind: string;
      status: LayerOutcome;
      digest?: string;
      size?: number;
      ms: number;
    }
  /** Bytes streamed so far for a layer being built (tar input) or a blob being uploaded. */
  | { type: 'bytes'; id: string; stage: 'build' | 'upload'; bytes: number; total?: number }
  | { type: 'blob'; digest: string; size: number; result: 'exists' | 'mounted' | 'uploaded'; layer?: string }
  | { type: 'summary'; summary: BuildSummary };

export type Phase = 'plan' | 'base' | 'layers' | 'push' | 'output' | 'cache-export';

export interface BuildSummary {
  layers: { built: number; cached: number; remote: number; empty: number };
  blobs: { uploaded: number; mounted: number; exists: number };
  bytes: { uploaded: number; skipped: number };
  /** Milliseconds per phase. */
  phases: Partial<Record<Phase, number>>;
  totalMs: number;
}

export interface Progress {
  emit(e: ProgressEvent): void;
  /** Finishes the display (the TTY renderer leaves its last frame). */
  close(): void;
}

export const silentProgress: Progress = { emit: () => {}, close: () => {} };

/**
 * 'bytes' events for one layer or blob, at most one every 200 ms plus the last (bytes === total):
 * a multi-GB layer must not become tens of thousands of JSON lines.
 */
export function bytesReporter(
  progress: Progress,
  id: string,
  stage: 'build' | 'upload',
  total: number,
): (bytes: number) => void {
  let last = 0;
  return (bytes) => {
    const now = Date.now();
    if (bytes < total && now - last < 200) return;
    last = now;
    progress.emit({ type: 'bytes', id, stage, bytes, total });
  };
}
