import { lazyGot } from './lazy-got.js';
import type { Logger } from './log.js';

export type WebhookEvent = 'start' | 'output' | 'logs' | 'completed';
export const WEBHOOK_EVENTS: readonly WebhookEvent[] = ['start', 'output', 'logs', 'completed'];

export interface WebhookOptions {
  /** Minimum gap between output/logs webhooks (Cog: COG_THROTTLE_RESPONSE_INTERVAL, 0.5 s). */
  throttleMs: number;
  /** Attempts for the terminal webhook (Cog: 12, exponential from 100 ms). */
  terminalRetries: number;
  /** `Authorization: Bearer …` for every webhook (Cog: WEBHOOK_AUTH_TOKEN). */
  authToken?: string;
  logger: Logger;
}

/** Sends one prediction's webhooks in order: start at once, output/logs throttled, completed retried. */
export class WebhookNotifier {
  private chain: Promise<void> = Promise.resolve();
  private lastSent = 0;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(
    private readonly url: string,
    private readonly events: ReadonlySet<WebhookEvent>,
    private readonly snapshot: () => unknown,
    private readonly opts: WebhookOptions,
    private readonly traceparent?: string,
  ) {}

  notify(event: Exclude<WebhookEvent, 'completed'>): void {
    if (this.closed || !this.events.has(event)) return;
    if (event === 'start') {
      this.enqueue(false);
      return;
    }
    if (this.timer) return; // a trailing send is already scheduled; it will carry the newest state
    const wait = this.lastSent + this.opts.throttleMs - Date.now();
    if (wait <= 0) {
      this.enqueue(false);
      return;
    }
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.enqueue(false);
    }, wait);
  }

  /** Sends the terminal state; resolves when delivered or given up (never rejects). */
  completed(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.events.has('completed')) return this.chain;
    this.enqueue(true);
    return this.chain;
  }

  private enqueue(terminal: boolean): void {
    this.lastSent = Date.now();
    this.chain = this.chain.then(() => this.post(terminal));
  }

  private async post(terminal: boolean): Promise<void> {
    const payload = this.snapshot();
    const headers: Record<string, string> = {};
    if (this.opts.authToken) headers.authorization = `Bearer ${this.opts.authToken}`;
    if (this.traceparent) headers.traceparent = this.traceparent;
    try {
      const got = await lazyGot();
      await got.post(this.url, {
        json: payload,
        headers,
        timeout: { request: 10_000 },
        retry: {
          limit: terminal ? this.opts.terminalRetries : 1,
          methods: ['POST'],
          statusCodes: [408, 425, 429, 500, 502, 503, 504, 521, 522, 524],
          calculateDelay: ({ attemptCount, computedValue }) =>
            computedValue === 0 ? 0 : Math.min(100 * 2 ** (attemptCount - 1), 30_000),
        },
      });
    } catch (err) {
      // Never silent: the terminal payload goes to the log so an operator can still recover it.
      const fields: Record<string, unknown> = { url: this.url, error: String(err) };
      if (terminal) fields.prediction = payload;
      this.opts.logger.error(terminal ? 'terminal webhook not delivered' : 'webhook not delivered', fields);
    }
  }
}
