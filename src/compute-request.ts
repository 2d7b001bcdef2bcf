/** What an agent asks of the CPU pool. */
export type ComputeRequest =
  /** Run a task module's default export on `input`. */
  | { kind: "task"; module: string; input: unknown }
  /** Run an `offload` action of the agent's own class (without its state). */
  | { kind: "action"; action: string; args: Record<string, unknown> };

/** What a pool thread runs: module URLs already bundled, so the thread needs no loader. */
export type ComputeTask =
  | { kind: "task"; moduleUrl: string; input: unknown }
  | { kind: "action"; moduleUrl: string; className: string; action: string; args: Record<string, unknown> };
