// Messages for a webview, handed over in the order they were posted, once the current task
// and its promise jobs are done. Handing one over costs the extension host about 0.1 ms (VS
// Code serialises it and writes it to the workbench); a tool card posted in the middle of a
// tool call would otherwise delay the call, and the next model request, by that much. The page
// receives the same messages in the same order, a moment later.

export class WebviewOutbox<Message> {
  private queue: Message[] = [];
  private scheduled = false;
  private closed = false;

  constructor(
    private readonly deliver: (message: Message) => void,
    private readonly schedule: (flush: () => void) => void = (flush) => void setImmediate(flush),
  ) {}

  post(message: Message): void {
    if (this.closed) return;
    this.queue.push(message);
    if (this.scheduled) return;
    this.scheduled = true;
    this.schedule(() => this.flush());
  }

  /** Hands over everything queued, oldest first. */
  flush(): void {
    this.scheduled = false;
    const messages = this.queue;
    this.queue = [];
    for (const message of messages) {
      if (this.closed) return;
      this.deliver(message);
    }
  }

  /** The webview is gone: what is still queued is dropped, as a disposed webview would drop it. */
  close(): void {
    this.closed = true;
    this.queue = [];
  }
}
