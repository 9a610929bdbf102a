// The first connection check (listing connections at Scalekit, which loads its SDK, and
// building the enterprise connection, which loads the MCP SDK) is not activation work. It
// runs once: as soon as someone looks (an OnBehalf view becomes visible), or, so the status
// bar still tells the truth, once the window's startup has settled.

/** How long after activation the check runs when no OnBehalf view was opened before. */
export const startupSettledMs = 3_000;

export class FirstCheck {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private done = false;

  constructor(
    private readonly check: () => void,
    delayMs = startupSettledMs,
  ) {
    this.timer = setTimeout(() => this.run(), delayMs);
  }

  /** Runs the check now, unless it already ran. */
  run(): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.check();
  }

  dispose(): void {
    this.done = true;
    clearTimeout(this.timer);
  }
}
