import { MessageChannel, Worker, type MessagePort } from "node:worker_threads";
import { BatchingPort } from "../batching-port.js";
import { answerTo } from "../answer.js";
import { ControlClient, type HostEvent } from "../control.js";
import { AgentCrashedError, MessageValidationError, errorFromWire, errorToWire } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import type { HostControl, HostData, HostStart, HostStatus, PortBatch, PortItem } from "../protocol.js";
import type { MessageRouter } from "../router.js";

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
  /** A callback in the agent failed with nobody to answer, or the router could not let go of it. */
  error(error: Error): void;
}

/**
 * One agent's worker thread, seen from the main thread: the two data ports
 * wired into the router, the control channel, and what happens when the
 * thread dies.
 */
export class AgentWorker {
  readonly id: string;
  #router: MessageRouter;
  #events: AgentWorkerEvents;
  #inbound: MessagePort;
  #outbound: MessagePort;
  #worker!: Worker;
  #control!: ControlClient<HostControl>;
  #stopping = false;
  #lastError: Error | undefined;
  #exited!: Promise<void>;
  #outboundEnded!: Promise<void>;
  #endOutbound: () => void = () => {};

  /**
   * Takes `id` in the router (which may refuse it, e.g. held elsewhere on a
   * broker), then starts the thread. Messages routed to it meanwhile wait in
   * its inbound port.
   */
  static async open(id: string, hostUrl: string, router: MessageRouter, events: AgentWorkerEvents): Promise<AgentWorker> {
    const inbound = new MessageChannel();
    const outbound = new MessageChannel();
    const worker = new AgentWorker(id, router, events, inbound.port1, outbound.port1);
    try {
      await router.add(id, worker.#route());
    } catch (error) {
      for (const port of [inbound.port1, inbound.port2, outbound.port1, outbound.port2]) port.close();
      throw error;
    }
    worker.#start(hostUrl, inbound.port2, outbound.port2);
    return worker;
  }

  private constructor(id: string, router: MessageRouter, events: AgentWorkerEvents, inbound: MessagePort, outbound: MessagePort) {
    this.id = id;
    this.#router = router;
    this.#events = events;
    this.#inbound = inbound;
    this.#outbound = outbound;
  }

  /** Constructs the agent in its worker and runs `afterAdd`. */
  start(spec: HostStart): Promise<void> {
    return this.#control.remote.start(spec);
  }

  status(): Promise<HostStatus> {
    return this.#control.remote.status();
  }

  /** Runs `beforeRemove` in the worker, takes the agent out of the router, ends the thread. */
  async stop(reason: Error): Promise<void> {
    this.#stopping = true;
    try {
      await this.#control.remote.stop();
      // What beforeRemove sent travels on the data port, not with the control reply: take it all first.
      await Promise.race([this.#outboundEnded, this.#exited]);
    } finally {
      await this.#router.delete(this.id, reason).catch(this.#events.error);
      await this.#worker.terminate();
      await this.#exited;
    }
  }

  #route() {
    const toWorker = new BatchingPort(this.#inbound, (item, error) => this.#uncloneable(item, error));
    return {
      deliver: (message: Message) => toWorker.push(message),
      peerGone: (peerId: string, reason: Error) => toWorker.push({ gone: peerId, reason: errorToWire(reason) }),
    };
  }

  #start(hostUrl: string, inbound: MessagePort, outbound: MessagePort): void {
    const workerData: HostData = { inbound, outbound };
    this.#worker = new Worker(new URL(hostUrl), {
      workerData,
      transferList: [inbound, outbound],
      execArgv: workerExecArgv(),
      name: `agentspace agent ${this.id}`,
    });
    this.#control = new ControlClient<HostControl>(this.#worker, (event: HostEvent) =>
      this.#events.error(errorFromWire({ ...event.error })),
    );
    this.#outboundEnded = new Promise((resolve) => (this.#endOutbound = resolve));
    this.#outbound.on("message", (batch: PortBatch) => this.#fromWorker(batch));
    this.#worker.on("error", (error) => (this.#lastError = error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#onExit(code);
        this.#endOutbound();
        resolve();
      }),
    );
  }

  #fromWorker(batch: PortBatch): void {
    if (batch.length === 0) return this.#endOutbound(); // the host's last word, after stop
    for (const item of batch) {
      const message = item as Message;
      message.from = this.id; // the space sets `from`: an agent cannot forge it
      this.#router.route(message);
    }
  }

  #uncloneable(item: PortItem, error: unknown): void {
    const message = item as Message;
    if (isAnswer(message)) return;
    const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
    this.#router.route(answerTo(message, message.to, false, reason));
  }

  #onExit(code: number): void {
    this.#inbound.close();
    this.#outbound.close();
    const cause = this.#lastError;
    const why = cause ? `${cause.name}: ${cause.message}` : `its worker exited with code ${code}`;
    const crash = new AgentCrashedError(this.id, `agent "${this.id}" crashed: ${why}`, { cause });
    this.#control.fail(crash);
    if (this.#stopping) return;
    this.#router.delete(this.id, crash).catch(this.#events.error);
    this.#events.crashed(crash);
  }
}
