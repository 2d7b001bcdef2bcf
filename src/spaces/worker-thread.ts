import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from "node:worker_threads";
import type { AgentRoute, Sink } from "../agent-route.js";
import { answerTo } from "../answer.js";
import { BatchingPort } from "../batching-port.js";
import { ControlClient, type HostEvent } from "../control.js";
import type { ComputePool } from "../compute.js";
import { AgentCrashedError, MessageValidationError, errorFromWire, errorToWire } from "../errors.js";
import { BROADCAST, isAnswer, type Message } from "../message.js";
import {
  isAgentReady,
  isComputeCall,
  isEnvelope,
  isStreamEnd,
  isTakenReport,
  peerGoneNotice,
  type ComputeCall,
  type Envelope,
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

/** An agent placed in a thread: its route, and who to tell if the thread dies under it. */
export interface HostedAgent {
  route: AgentRoute;
  crashed(error: AgentCrashedError, code: number): void;
}

export interface WorkerThreadOptions {
  resourceLimits?: ResourceLimits;
  /** A callback in an agent failed with nobody to answer. */
  onError(error: Error): void;
  /** The space's CPU pool. */
  pool: ComputePool;
}

/**
 * One worker thread and the agents it hosts, seen from the main thread: its
 * two data ports (wired to the agents' routes and to the router), its
 * control channel, and what happens when it dies.
 */
export class WorkerThread {
  #router: MessageRouter;
  #agents = new Map<string, HostedAgent>();
  #toWorker: BatchingPort;
  #inbound: MessagePort;
  #outbound: MessagePort;
  #worker: Worker;
  #control: ControlClient<HostControl>;
  /** Reasons already sent in as peer-gone notices: the router tells each agent, the thread needs it once. */
  #goneSent = new WeakSet<Error>();
  #streamEnds = new Map<string, () => void>();
  /** Where each agent's class comes from, for its `offload` actions. */
  #classes = new Map<string, { moduleUrl: string; className: string; bundled: true }>();
  #pool: ComputePool;
  #onError: (error: Error) => void;
  #lastError: Error | undefined;
  #alive = true;
  #exited: Promise<void>;

  constructor(hostUrl: string, router: MessageRouter, options: WorkerThreadOptions) {
    this.#router = router;
    this.#pool = options.pool;
    this.#onError = options.onError;
    const inbound = new MessageChannel();
    const outbound = new MessageChannel();
    this.#inbound = inbound.port1;
    this.#outbound = outbound.port1;
    this.#toWorker = new BatchingPort(this.#inbound, { onUncloneable: (item, error) => this.#uncloneable(item, error) });
    const workerData: HostData = { inbound: inbound.port2, outbound: outbound.port2 };
    this.#worker = new Worker(new URL(hostUrl), {
      workerData,
      transferList: [inbound.port2, outbound.port2],
      execArgv: workerExecArgv(),
      name: "agentspace agents",
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    this.#control = new ControlClient<HostControl>(this.#worker, (event: HostEvent) =>
      options.onError(errorFromWire({ ...event.error })),
    );
    this.#outbound.on("message", (batch: PortBatch<OutboundItem>) => this.#fromWorker(batch));
    this.#worker.on("error", (error) => (this.#lastError = error));
    this.#exited = new Promise((resolve) =>
      this.#worker.once("exit", (code) => {
        this.#onExit(code);
        resolve();
      }),
    );
  }

  /** Agents placed here. */
  get size(): number {
    return this.#agents.size;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Places an agent here. Its route keeps holding messages until the thread
   * reports the agent constructed: a message that came sooner would find nobody.
   */
  host(agent: HostedAgent): void {
    this.#agents.set(agent.route.id, agent);
  }

  /** Constructs the agent in the thread and runs its `afterAdd`. */
  start(spec: HostStart): Promise<void> {
    this.#classes.set(spec.id, { moduleUrl: spec.moduleUrl, className: spec.className, bundled: true });
    return this.#control.remote.start(spec);
  }

  status(id: string): Promise<HostStatus> {
    return this.#control.remote.status(id);
  }

  /**
   * Runs the agent's `beforeRemove`, waits for what it sent meanwhile, and
   * takes it out. An agent that does not finish within `timeoutMs` (a busy
   * loop) ends the thread: its thread-mates, if any, crash with it.
   */
  async stop(id: string, timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const ended = new Promise<void>((resolve) => this.#streamEnds.set(id, resolve));
    const goodbye = this.#control.remote.stop(id).then(() => ended);
    let outcome: "timeout" | void;
    try {
      outcome = await Promise.race([goodbye, timedOut, this.#exited]);
    } finally {
      clearTimeout(timer);
      this.#streamEnds.delete(id);
      this.#agents.delete(id);
    }
    // Taken out first: ending the thread must not report this agent as crashed.
    if (outcome === "timeout") await this.kill();
  }

  /** Forgets an agent that failed to start. */
  unhost(id: string): void {
    this.#agents.get(id)?.route.disconnect();
    this.#agents.delete(id);
  }

  /** Ends the thread now; agents still placed here crash. */
  async kill(): Promise<void> {
    await this.#worker.terminate();
    await this.#exited;
  }

  #sink(id: string): Sink {
    return {
      message: (message) => this.#toWorker.push(message.to === BROADCAST ? { deliverTo: id, message } : message),
      envelope: (envelope) => this.#toWorker.push(envelope),
      gone: (peerId, reason) => {
        if (this.#goneSent.has(reason)) return;
        this.#goneSent.add(reason);
        this.#toWorker.push(peerGoneNotice(peerId, reason));
      },
    };
  }

  #fromWorker(batch: PortBatch<OutboundItem>): void {
    for (const item of batch) {
      if (isTakenReport(item)) this.#agents.get(item.agent)?.route.taken(item.taken);
      else if (isAgentReady(item)) this.#agents.get(item.ready)?.route.connect(this.#sink(item.ready));
      else if (isStreamEnd(item)) this.#streamEnds.get(item.ended)?.();
      else if (isComputeCall(item)) this.#compute(item);
      else if (isEnvelope(item)) this.#envelopeFromAgent(item);
      else this.#fromAgent(item);
    }
  }

  #fromAgent(message: Message): void {
    // The space vouches for `from`: only an agent placed here may send from this thread.
    if (typeof message.to !== "string" || typeof message.action?.name !== "string") {
      return this.#onError(new MessageValidationError("a worker thread sent something that is not a message"));
    }
    const sender = this.#agents.get(message.from);
    if (!sender) return; // it left this thread (or never started) while its last words were on their way
    sender.route.sent(message);
    this.#router.route(message);
  }

  #envelopeFromAgent(envelope: Envelope): void {
    const sender = this.#agents.get(envelope.from);
    if (!sender) return;
    sender.route.sentMany(envelope.size, envelope.errors);
    this.#router.forward(envelope);
  }

  #compute({ compute, agent, request }: ComputeCall): void {
    const agentClass = this.#classes.get(agent);
    if (!agentClass) return;
    this.#pool.run(request, agentClass).then(
      (value) => this.#toWorker.push({ computed: compute, ok: true, value }),
      (error: unknown) => this.#toWorker.push({ computed: compute, ok: false, error: errorToWire(error) }),
    );
  }

  #uncloneable(item: PortItem, error: unknown): void {
    if ("computed" in item) return this.#toWorker.push({ computed: item.computed, ok: false, error: errorToWire(error) });
    const message = "deliverTo" in item ? item.message : (item as Message);
    if (isAnswer(message)) return;
    const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
    this.#router.route(answerTo(message, message.to, false, reason));
  }

  #onExit(code: number): void {
    this.#alive = false;
    this.#inbound.close();
    this.#outbound.close();
    for (const end of this.#streamEnds.values()) end();
    const cause = this.#lastError;
    const why = cause ? `${cause.name}: ${cause.message}` : `its worker exited with code ${code}`;
    this.#control.fail(new AgentCrashedError("", `the worker thread died: ${why}`, { cause }));
    const placed = [...this.#agents.values()];
    this.#agents.clear();
    for (const { route, crashed } of placed) {
      route.disconnect();
      crashed(new AgentCrashedError(route.id, `agent "${route.id}" crashed: ${why}`, { cause }), code);
    }
  }
}
