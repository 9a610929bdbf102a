// A webview sometimes never loads the document it was given: VS Code's own iframe stalls
// (its service worker does not come up, seen after a window reload with another webview
// opening at the same time). The page then never sends `ready` and stays blank. The
// watchdog notices and asks for a recovery a few times, then gives up and says so.

export interface WatchdogTimers {
  setTimeout(callback: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface WebviewLoadWatchdogOptions {
  /** How long a render may take to say `ready`. */
  timeoutMs: number;
  /** Recoveries tried before giving up. */
  maxRetries: number;
  /** Get a fresh page loading (the watchdog re-arms itself); `attempt` counts from 1. */
  recover(attempt: number): void;
  /** Every retry failed. */
  giveUp(): void;
  timers?: WatchdogTimers;
}

export class WebviewLoadWatchdog {
  private handle: unknown;
  private retries = 0;
  private readonly timers: WatchdogTimers;

  constructor(private readonly options: WebviewLoadWatchdogOptions) {
    this.timers = options.timers ?? { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
  }

  /** A render was just handed to the webview; `ready` should follow. */
  rendered(): void {
    this.clear();
    this.handle = this.timers.setTimeout(() => this.expired(), this.options.timeoutMs);
  }

  /** The page said `ready`: it loaded. The retry budget is restored for later renders. */
  ready(): void {
    this.clear();
    this.retries = 0;
  }

  /** Stop watching (the view went away or is hidden, where pages may legitimately wait). */
  pause(): void {
    this.clear();
  }

  get waiting(): boolean {
    return this.handle !== undefined;
  }

  dispose(): void {
    this.clear();
  }

  private expired(): void {
    this.handle = undefined;
    if (this.retries >= this.options.maxRetries) {
      this.options.giveUp();
      return;
    }
    this.retries++;
    this.options.recover(this.retries);
    this.rendered();
  }

  private clear(): void {
    if (this.handle !== undefined) this.timers.clearTimeout(this.handle);
    this.handle = undefined;
  }
}
