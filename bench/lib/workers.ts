/** Starting baseline workers and waiting for their messages. */
import { Worker, type MessagePort, type TransferListItem } from "node:worker_threads";
import { withDeadline } from "./deadline.js";

const WORKERS_DIR = new URL("../workers/", import.meta.url);

/** Long enough for 128 workers starting on a busy 2-core machine; short enough that a hang fails the run. */
export const MESSAGE_DEADLINE_MS = 60_000;

export function workerUrl(file: string): URL {
  return new URL(file, WORKERS_DIR);
}

/**
 * Starts `bench/workers/<file>`. `execArgv: []` because a worker otherwise
 * inherits tsx's loader flags from this process, which makes it start several
 * times slower and larger (BASELINES.md); the worker scripts are plain .mjs.
 */
export function startWorker(file: string, workerData?: unknown, transferList: TransferListItem[] = []): Worker {
  return new Worker(workerUrl(file), { execArgv: [], workerData, transferList });
}

/** Starts a worker and resolves once it has posted "ready" (its module has run). */
export async function startReady(file: string, workerData?: unknown, transferList?: TransferListItem[]): Promise<Worker> {
  const worker = startWorker(file, workerData, transferList);
  const first = await nextMessage(worker);
  if (first !== "ready") throw new Error(`${file}: expected "ready", got ${JSON.stringify(first)}`);
  return worker;
}

/** The next message on a worker or port; rejects if the worker fails or exits first. */
export function nextMessage<T = unknown>(target: Worker | MessagePort, ms = MESSAGE_DEADLINE_MS): Promise<T> {
  const waiting = new Promise<T>((resolve, reject) => {
    const cleanup = () => {
      target.off("message", onMessage);
      target.off("error", onError);
      target.off("exit", onExit);
    };
    const onMessage = (message: T) => (cleanup(), resolve(message));
    const onError = (error: Error) => (cleanup(), reject(error));
    const onExit = (code: number) => (cleanup(), reject(new Error(`worker exited (code ${code})`)));
    target.on("message", onMessage);
    target.on("error", onError);
    target.on("exit", onExit);
  });
  return withDeadline(waiting, ms, "waiting for a worker message");
}

/** Posts a command to a worker and waits for its one-message answer. */
export async function command<T = unknown>(worker: Worker, message: unknown): Promise<T> {
  const answer = nextMessage<T>(worker);
  worker.postMessage(message);
  return answer;
}

/**
 * Replies on a port, one at a time, for sequential round trips. One listener
 * stays attached for the whole run: attaching and detaching one per message
 * would add microseconds to exactly what is being measured.
 */
export function replies(port: MessagePort): { next(): Promise<unknown>; close(): void } {
  let settle: ((message: unknown) => void) | undefined;
  const onMessage = (message: unknown) => {
    const resolve = settle;
    settle = undefined;
    resolve?.(message);
  };
  port.on("message", onMessage);
  return {
    next: () => new Promise((resolve) => (settle = resolve)),
    close: () => void port.off("message", onMessage),
  };
}

export async function stopWorkers(workers: readonly Worker[]): Promise<void> {
  await Promise.all(workers.map((worker) => worker.terminate()));
}
