import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { BatchingPort } from "../batching-port.js";
import { answerTo } from "../answer.js";
import { ControlClient, type HostEvent } from "../control.js";
import { AgentCrashedError, MessageValidationError, errorFromWire, errorToWire } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import type { HostControl, HostData, HostStart, HostStatus, PortBatch, PortItem } from "../protocol.js";
import type { Router } from "../router.js";

// A worker inherits the parent's execArgv, loaders included: a process run
// under tsx would start each worker through tsx again (~12 s for 128 workers
// instead of ~4). Bundled agent modules need no loader, so leave them out.
const LOADER_FLAGS = /^(--import|--loader|--experimental-loader|--require|-r)(=|$)/;

function workerExecArgv(): string[] {
  const kept: string[] = [];
  for (let i = 0; i < process.execArgv.length; i++) {
    const flag = process.execArgv[i]!;
    if (!LOADER_FLAGS.test(flag)) kept.push(flag);
    else if (!flag.includes("=")) i++; // skip the flag's value too
  }
  return kept;
}

export interface AgentWorkerEvents {
  /** The worker died without being stopped. */
  crashed(error: AgentCrashedError): void;
  /** A callback in the agent failed with nobody to answer. */
  error(error: Error): void;
}

/**
 * One agent's worker thread, seen from the main thread: the two data ports
 * wired into the router, the control channel, and what happens when the
 * thread dies.
 */
export class AgentWorker {
  readonly id: string;
  #worker: Worker;
  #control: ControlClient<HostControl>;
  #inbound: MessagePort;
  #outbound: MessagePort;
  #stopping = false;
  #lastError: Error | undefined;
  #exited: Promise<void>;
  #outboundEnded: Promise<void>;
  #endOutbound: () => void = () => {};

  constructor(id: string, hostUrl: string, router: Router, events: AgentWorkerEvents) {
    this.id = id;
    const inbound = new MessageChannel();
    const outbound = new MessageChannel();
    this.#inbound = inbound.port1;
    this.#outbound = outbound.port1;
    const workerData: HostData = { inbound: inbound.port2 as never, outbound: outbound.port2 as never };
    this.#worker = new Worker(new URL(hostUrl), {
      workerData,
      transferList: [inbound.port2, outbound.port2],
      execArgv: workerExecArgv(),
      name: `agentspace agent ${id}`,
    });
    this.#control = new ControlClient<HostControl>(this.#worker, (event: HostEvent) =>
      events.error(errorFromWire({ ...event.error })),
    );
    this.#outboundEnded = new Promise((resolve) => (this.#endOutbound = resolve));
    this.#wire(router);
    this.#worker.on("error", (error) => (this.#lastError = error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#onExit(code, router, events);
        this.#endOutbound();
        resolve();
      }),
    );
  }

  /** Constructs the agent in its worker and runs `afterAdd`. */
  start(spec: HostStart): Promise<void> {
    return this.#control.remote.start(spec);
  }

  status(): Promise<HostStatus> {
    return this.#control.remote.status();
  }

  /** Runs `beforeRemove` in the worker, takes the agent out of the router, ends the thread. */
  async stop(router: Router, reason: Error): Promise<void> {
    this.#stopping = true;
    try {
      await this.#control.remote.stop();
      // What beforeRemove sent travels on the data port, not with the control reply: take it all first.
      await Promise.race([this.#outboundEnded, this.#exited]);
    } finally {
      router.delete(this.id, reason);
      await this.#worker.terminate();
      await this.#exited;
    }
  }

  #wire(router: Router): void {
    const toWorker = new BatchingPort(this.#inbound, (item, error) => this.#uncloneable(router, item, error));
    router.add(this.id, {
      deliver: (message) => toWorker.push(message),
      peerGone: (peerId, reason) => toWorker.push({ gone: peerId, reason: errorToWire(reason) }),
    });
    this.#outbound.on("message", (batch: PortBatch) => {
      if (batch.length === 0) return this.#endOutbound(); // the host's last word, after stop
      for (const item of batch) {
        const message = item as Message;
        message.from = this.id; // the space sets `from`: an agent cannot forge it
        router.route(message);
      }
    });
  }

  #uncloneable(router: Router, item: PortItem, error: unknown): void {
    const message = item as Message;
    if (isAnswer(message)) return;
    const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
    router.route(answerTo(message, message.to, false, reason));
  }

  #onExit(code: number, router: Router, events: AgentWorkerEvents): void {
    this.#inbound.close();
    this.#outbound.close();
    const cause = this.#lastError;
    const why = cause ? `${cause.name}: ${cause.message}` : `its worker exited with code ${code}`;
    const crash = new AgentCrashedError(this.id, `agent "${this.id}" crashed: ${why}`, { cause });
    this.#control.fail(crash);
    if (this.#stopping) return;
    router.delete(this.id, crash);
    events.crashed(crash);
  }
}
