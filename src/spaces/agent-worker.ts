import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from "node:worker_threads";
import type { AgentRoute, Sink } from "../agent-route.js";
import { answerTo } from "../answer.js";
import { BatchingPort } from "../batching-port.js";
import { ControlClient, type HostEvent } from "../control.js";
import { AgentCrashedError, MessageValidationError, errorFromWire } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import {
  isTakenReport,
  peerGoneNotice,
  type HostControl,
  type HostData,
  type HostStart,
  type HostStatus,
  type OutboundItem,
  type PortBatch,
  type PortItem,
} from "../protocol.js";
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
  /** The thread died without being stopped; `code` is its exit code. */
  crashed(error: AgentCrashedError, code: number): void;
  /** A callback in the agent failed with nobody to answer. */
  error(error: Error): void;
}

/**
 * One thread running one instance of an agent, seen from the main thread:
 * its two data ports (wired to the agent's route and to the router), its
 * control channel, and what happens when it dies.
 */
export class AgentWorker {
  readonly id: string;
  #router: MessageRouter;
  #route: AgentRoute;
  #events: AgentWorkerEvents;
  #inbound: MessagePort;
  #outbound: MessagePort;
  #worker: Worker;
  #control: ControlClient<HostControl>;
  #stopping = false;
  #lastError: Error | undefined;
  #exited: Promise<void>;
  #outboundEnded: Promise<void>;
  #endOutbound: () => void = () => {};

  /** Starts the thread and connects the route to it; messages wait in the port until the agent is up. */
  constructor(hostUrl: string, router: MessageRouter, route: AgentRoute, events: AgentWorkerEvents, resourceLimits?: ResourceLimits) {
    this.id = route.id;
    this.#router = router;
    this.#route = route;
    this.#events = events;
    const inbound = new MessageChannel();
    const outbound = new MessageChannel();
    this.#inbound = inbound.port1;
    this.#outbound = outbound.port1;
    const workerData: HostData = { inbound: inbound.port2, outbound: outbound.port2 };
    this.#worker = new Worker(new URL(hostUrl), {
      workerData,
      transferList: [inbound.port2, outbound.port2],
      execArgv: workerExecArgv(),
      name: `agentspace agent ${this.id}`,
      ...(resourceLimits ? { resourceLimits } : {}),
    });
    this.#control = new ControlClient<HostControl>(this.#worker, (event: HostEvent) =>
      events.error(errorFromWire({ ...event.error })),
    );
    this.#outboundEnded = new Promise((resolve) => (this.#endOutbound = resolve));
    this.#outbound.on("message", (batch: PortBatch<OutboundItem>) => this.#fromWorker(batch));
    this.#worker.on("error", (error) => (this.#lastError = error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#onExit(code);
        resolve();
      }),
    );
    route.connect(this.#sink());
  }

  /** Constructs the agent in its worker and runs `afterAdd`. */
  start(spec: HostStart): Promise<void> {
    return this.#control.remote.start(spec);
  }

  status(): Promise<HostStatus> {
    return this.#control.remote.status();
  }

  /**
   * Runs `beforeRemove` in the worker and ends the thread. A worker that
   * does not answer within `timeoutMs` (a busy loop) is terminated anyway.
   */
  async stop(timeoutMs: number): Promise<void> {
    this.#stopping = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    try {
      await Promise.race([this.#goodbye(), timedOut, this.#exited]);
    } finally {
      clearTimeout(timer);
      await this.kill();
    }
  }

  /** Ends the thread now, without `beforeRemove`. */
  async kill(): Promise<void> {
    this.#stopping = true;
    await this.#worker.terminate();
    await this.#exited;
  }

  async #goodbye(): Promise<void> {
    await this.#control.remote.stop().catch((error: Error) => this.#events.error(error));
    // What beforeRemove sent travels on the data port, not with the control reply: take it all first.
    await this.#outboundEnded;
  }

  #sink(): Sink {
    const port = new BatchingPort(this.#inbound, (item, error) => this.#uncloneable(item, error));
    return {
      message: (message) => port.push(message),
      gone: (peerId, reason) => port.push(peerGoneNotice(peerId, reason)),
    };
  }

  #fromWorker(batch: PortBatch<OutboundItem>): void {
    if (batch.length === 0) return this.#endOutbound(); // the host's last word, after stop
    for (const item of batch) {
      if (isTakenReport(item)) {
        this.#route.taken(item.taken);
        continue;
      }
      item.from = this.id; // the space sets `from`: an agent cannot forge it
      this.#route.sent(item);
      this.#router.route(item);
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
    this.#endOutbound();
    this.#route.disconnect();
    const cause = this.#lastError;
    const why = cause ? `${cause.name}: ${cause.message}` : `its worker exited with code ${code}`;
    const crash = new AgentCrashedError(this.id, `agent "${this.id}" crashed: ${why}`, { cause });
    this.#control.fail(crash);
    if (!this.#stopping) this.#events.crashed(crash, code);
  }
}
