/** How long repeats of one error are counted before they are said, as one line. */
export const REPEAT_WINDOW_MS = 1_000;

interface Counted {
  /** Repeats since the last line, not yet said. */
  count: number;
  summary: (count: number, windowMs: number) => Error;
}

/**
 * Errors that come in floods (20,000 sends into a full mailbox, each answered
 * with an error nobody handles), said without the flood: the first of a kind
 * at once; repeats of it counted and said as one error a window; a kind quiet
 * for a whole window is forgotten, and said at once again when it comes back.
 */
export class RepeatedErrors {
  #report: (error: Error) => void;
  #counted = new Map<string, Counted>();
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(report: (error: Error) => void) {
    this.#report = report;
  }

  /** One error of kind `key`: `first` makes it when it is said at once; `summary`, the line for its repeats. */
  report(key: string, first: () => Error, summary: Counted["summary"]): void {
    const counted = this.#counted.get(key);
    if (counted) {
      counted.count++;
      return;
    }
    this.#counted.set(key, { count: 0, summary });
    this.#timer ??= setInterval(() => this.#flush(), REPEAT_WINDOW_MS).unref();
    this.#report(first());
  }

  #flush(): void {
    for (const [key, counted] of this.#counted) {
      if (counted.count === 0) {
        this.#counted.delete(key);
        continue;
      }
      const count = counted.count;
      counted.count = 0;
      this.#report(counted.summary(count, REPEAT_WINDOW_MS));
    }
    if (this.#counted.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
