import { Readable } from "node:stream";

/**
 * Hands a REPL its input one line at a time, the next only once the REPL
 * shows its prompt again: a piped session (`agentspace repl < session.txt`)
 * then runs each line after the one before has finished, its top-level
 * `await` included. Node's REPL would read every line at once and start
 * them side by side.
 */
export class LineGate extends Readable {
  #lines: string[] = [];
  #partial = "";
  #ended = false;
  #closed = false;
  /** Lines the REPL is ready for: one at the start (its first prompt is already shown). */
  #credits = 1;

  constructor(source: NodeJS.ReadableStream) {
    super();
    source.on("data", (chunk: Buffer | string) => {
      const text = this.#partial + chunk.toString();
      const lines = text.split("\n");
      this.#partial = lines.pop()!;
      this.#lines.push(...lines);
      this.#pump();
    });
    source.on("end", () => {
      if (this.#partial) this.#lines.push(this.#partial);
      this.#partial = "";
      this.#ended = true;
      this.#pump();
    });
  }

  /** The REPL showed its prompt: it may take the next line. */
  release(): void {
    this.#credits++;
    this.#pump();
  }

  override _read(): void {}

  #pump(): void {
    while (this.#credits > 0 && this.#lines.length > 0) {
      this.#credits--;
      this.push(`${this.#lines.shift()}\n`);
    }
    if (this.#ended && !this.#closed && this.#lines.length === 0 && this.#credits > 0) {
      this.#closed = true;
      this.push(null);
    }
  }
}
