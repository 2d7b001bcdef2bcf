/** What a program may do with the output of the worker threads that host agents. */
export type WorkerOutputSink = (text: string, stream: "stdout" | "stderr") => void;

/**
 * Where worker threads' console output goes: this process's stdout and
 * stderr, as Node's default, unless a program takes it (the REPL prints it
 * above its prompt, as Node's REPL does with output that comes on its own).
 */
let taken: WorkerOutputSink | undefined;

/** Sends what agents in worker threads print to `sink` until the returned function is called. */
export function takeWorkerOutput(sink: WorkerOutputSink): () => void {
  taken = sink;
  return () => {
    if (taken === sink) taken = undefined;
  };
}

/** Passes on a chunk a worker printed. */
export function workerPrinted(chunk: Buffer | string, stream: "stdout" | "stderr"): void {
  if (taken) taken(String(chunk), stream);
  else (stream === "stdout" ? process.stdout : process.stderr).write(chunk);
}
