// The requests on one consumer held for HTTP callers: served one at a time, in arrival order, so that concurrent
// requests each get their own records and none is skipped; and when none came for idleMs, the consumer expires.

export class RequestQueue {
  private tail: Promise<void> = Promise.resolve()
  private busy = 0
  private timer?: NodeJS.Timeout
  private stopped = false

  constructor (private readonly idleMs: number, private readonly onIdle: () => void) {}

  /** Resolves once every earlier request is done, with the function that lets the next one go (call it once). */
  enqueue (): Promise<() => void> {
    let release!: () => void
    const done = new Promise<void>((resolve) => { release = resolve })
    const before = this.tail
    this.tail = before.then(() => done)
    this.busy++
    return before.then(() => () => { this.busy--; this.touch(); release() })
  }

  /** Resolves when every request queued so far is done. */
  async drained (): Promise<void> { await this.tail.catch(() => undefined) }

  /** (Re)starts the idle countdown; a busy consumer never expires, a stopped one has none. */
  touch (): void {
    clearTimeout(this.timer)
    if (this.stopped) return
    this.timer = setTimeout(() => { if (this.busy > 0) this.touch(); else this.onIdle() }, this.idleMs)
    this.timer.unref()
  }

  /**
   * Ends the countdown for good: a request released after it (the one that closed the consumer, say) starts no new
   * one, which would keep the closed consumer, its librdkafka client and its records, for another idleMs.
   */
  stop (): void {
    this.stopped = true
    clearTimeout(this.timer)
  }
}
