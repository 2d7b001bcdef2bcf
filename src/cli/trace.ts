import type { Message } from "../message.js";
import type { Space } from "../space.js";
import { formatTrace } from "../trace-format.js";

/** Writes a trace line for every message `space` routes, until the returned function is called. */
export function traceMessages(space: Space, write: (line: string) => void, colour: boolean): () => void {
  const listener = (message: Message): void => write(formatTrace(message, colour));
  space.on("message", listener);
  return () => void space.off("message", listener);
}
