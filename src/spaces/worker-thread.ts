import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from "node:worker_threads";
import type { AgentRoute, Sink } from "../agent-route.js";
import { answerTo } from "../answer.js";
import { BatchingPort } from "../batching-port.js";
import { ControlClient, type HostEvent } from "../control.js";
import type { ComputePool } from "../compute.js";
import { debugRefusal, type DebugMode } from "../debug-gate.js";
import { AgentCrashedError, LoopFailedError, MessageValidationError, errorFromWire, errorToWire } from "../errors.js";
import { BROADCAST, agentIdProblem, isAnswer, messageProblem, type Message } from "../message.js";
import {
  outboundProblem,
  peerGone,
  type ComputeItem,
  type Envelope,
  type HostControl,
  type HostData,
  type HostReload,
  type HostStart,
  type OutboundItem,
  type PortItem,
} from "../protocol.js";
import type { MessageRouter } from "../router.js";
import { startTimeout, stopTimeout, type Timeout } from "../timeout.js";
import { startWorker } from "./worker-exec-argv.js";

/** An agent placed in a thread: its route, and who to tell if the thread dies under it or it fails or leaves. */
export interface HostedAgent {
  route: AgentRoute;
  crashed(error: AgentCrashedError, code: number): void;
  /** A loop or timer of the agent threw: the agent failed, its thread runs on. */
  failed(error: LoopFailedError): void;
  /** The agent called `shutdown()`. */
  shutdown(): void;
}

export interface WorkerThreadOptions {
  resourceLimits?: ResourceLimits;
  /** A callback in an agent failed with nobody to answer. */
  onError(error: Error): void;
  /**
   * The thread sent something malformed or forged, dropped here: `senders`
   * are the agents that may have sent it (all of the thread's when the item
   * names none of them).
   */
  onDropped(why: string, senders: string[]): void;
  /** The space's CPU pool. */
  pool: ComputePool;
  /** Who may call the debug actions (agents in threads are never foreground). */
  debug: DebugMode;
}

// Ids of agents that left a thread, remembered a while: what they sent just
// before leaving may still arrive, and is not a forgery.
const REMEMBER_LEFT = 1024;

/**
 * One worker thread and the agents it hosts, seen from the main thread: its
 * two data ports (wired to the agents' routes and to the router), its
 * control channel, and what happens when it dies.
 */
export class WorkerThread {
  #router: MessageRouter;
  #agents = new Map<string, HostedAgent>();
  /** Recently left (see REMEMBER_LEFT), oldest first. */
  #left = new Set<string>();
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
  #options: WorkerThreadOptions;
  #lastError: Error | undefined;
  #alive = true;
  #exited: Promise<void>;
  #running: Promise<void>;

  constructor(hostUrl: string, router: MessageRouter, options: WorkerThreadOptions) {
    this.#router = router;
    this.#options = options;
    const inbound = new MessageChannel();
    const outbound = new MessageChannel();
    this.#inbound = inbound.port1;
    this.#outbound = outbound.port1;
    this.#toWorker = new BatchingPort(this.#inbound, { onUncloneable: (item, error) => this.#uncloneable(item, error) });
    const workerData: HostData = { inbound: inbound.port2, outbound: outbound.port2 };
    this.#worker = startWorker(new URL(hostUrl), {
      workerData,
      transferList: [inbound.port2, outbound.port2],
      name: "agentspace agents",
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    this.#control = new ControlClient<HostControl>(
      this.#worker,
      (event) => this.#hostEvent(event),
      (why) => this.#drop(why, undefined),
    );
    this.#outbound.on("message", (batch: unknown) => this.#fromWorker(batch));
    this.#worker.on("error", (error) => (this.#lastError = error));
    // A thread that dies before it runs has settled this too: nobody waits for ever.
    this.#running = new Promise((resolve) => {
      this.#worker.once("online", resolve);
      this.#worker.once("exit", () => resolve());
    });
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

  /** Resolves once the thread runs JavaScript (or has died). */
  get running(): Promise<void> {
    return this.#running;
  }

  get alive(): boolean {
    return this.#alive;
  }

  /**
   * Places an agent here. Its route keeps holding messages until the thread
   * reports the agent constructed: a message that came sooner would find nobody.
   */
  host(agent: HostedAgent): void {
    this.#left.delete(agent.route.id);
    this.#agents.set(agent.route.id, agent);
  }

  /** Constructs the agent in the thread and runs its `afterAdd`. */
  start(spec: HostStart): Promise<void> {
    this.#classes.set(spec.id, { moduleUrl: spec.moduleUrl, className: spec.className, bundled: true });
    return this.#control.remote.start(spec);
  }

  /**
   * Runs the agent's `beforeRemove`, waits for what it sent meanwhile, and
   * takes it out, whatever happens: a `beforeRemove` that throws is reported
   * by the thread, and an agent that does not finish within `timeoutMs` (a
   * busy loop) ends the thread: its thread-mates, if any, crash with it.
   */
  async stop(id: string, timeoutMs: number): Promise<void> {
    let timer: Timeout;
    const timedOut = new Promise<"timeout">((resolve) => (timer = startTimeout(() => resolve("timeout"), timeoutMs)));
    const ended = new Promise<void>((resolve) => this.#streamEnds.set(id, resolve));
    const goodbye = this.#control.remote.stop(id).then(
      () => ended,
      () => ended, // the thread is dying or died: its exit ends the stream
    );
    let outcome: "timeout" | void;
    try {
      outcome = await Promise.race([goodbye, timedOut, this.#exited]);
    } finally {
      stopTimeout(timer);
      this.#streamEnds.delete(id);
      this.#forget(id);
    }
    // Taken out first: ending the thread must not report this agent as crashed.
    if (outcome === "timeout") {
      const why = `agent "${id}" did not stop within ${timeoutMs} ms (a loop that ignores its signal, or a beforeRemove that does not end)`;
      this.#options.onError(new AgentCrashedError(id, `${why}: its worker thread was ended`));
      await this.kill();
    }
  }

  /** Swaps agent `id` for an instance of its class's new version (see `HostControl.reload`). */
  async reload(spec: HostReload): Promise<void> {
    await this.#control.remote.reload(spec);
    if (this.#agents.has(spec.id)) this.#classes.set(spec.id, { moduleUrl: spec.moduleUrl, className: spec.className, bundled: true });
  }

  /** Forgets an agent that failed to start. */
  unhost(id: string): void {
    this.#agents.get(id)?.route.disconnect();
    this.#forget(id);
  }

  /** Ends the thread now; agents still placed here crash. */
  async kill(): Promise<void> {
    await this.#worker.terminate();
    await this.#exited;
  }

  #forget(id: string): void {
    if (!this.#agents.delete(id)) return;
    this.#classes.delete(id);
    this.#left.add(id);
    if (this.#left.size > REMEMBER_LEFT) this.#left.delete(this.#left.values().next().value as string);
  }

  #sink(id: string): Sink {
    return {
      message: (message) =>
        message.to === BROADCAST ? this.#toWorker.push({ kind: "broadcast", deliverTo: id, message }) : this.#toWorker.pushMessage(message),
      envelope: (envelope) => this.#toWorker.push(envelope),
      gone: (peerId, reason) => {
        if (this.#goneSent.has(reason)) return;
        this.#goneSent.add(reason);
        this.#toWorker.push(peerGone(peerId, reason));
      },
    };
  }

  // The boundary: agent code can reach this port, so every item is checked
  // before anything is done with it, and only this thread's agents may send.
  #fromWorker(batch: unknown): void {
    if (!Array.isArray(batch)) return this.#drop("a batch must be an array", undefined);
    for (const item of batch as unknown[]) {
      const problem = outboundProblem(item);
      if (problem) this.#drop(problem, undefined);
      else this.#take(item as OutboundItem);
    }
  }

  #take(item: OutboundItem): void {
    if (item.kind === "messages") {
      for (const message of item.messages as unknown[]) this.#fromAgent(message);
      return;
    }
    if (item.kind === "envelope") return this.#envelopeFromAgent(item);
    const agent = this.#sender(item.agent);
    if (!agent) return;
    switch (item.kind) {
      case "taken":
        return agent.route.taken(item.count);
      case "ready":
        return agent.route.connect(this.#sink(item.agent));
      case "ended":
        return this.#streamEnds.get(item.agent)?.();
      case "compute":
        return this.#compute(item);
      case "activity":
        agent.route.stats.loops = item.loops;
        agent.route.stats.timers = item.timers;
        return;
      case "failed":
        return agent.failed(new LoopFailedError(item.agent, item.loop, item.of, errorFromWire({ ...item.error })));
      case "shutdown":
        return agent.shutdown();
    }
  }

  #fromAgent(message: unknown): void {
    const problem = messageProblem(message);
    if (problem) return this.#drop(problem, undefined);
    const { from, to } = message as Message;
    const sender = this.#sender(from);
    if (!sender) return;
    const badTo = to === BROADCAST ? undefined : agentIdProblem(to);
    if (badTo) return this.#drop(`"to": ${badTo}`, from);
    sender.route.sent(message as Message);
    const refusal = debugRefusal(message as Message, false, this.#options.debug);
    if (refusal) this.#router.route(answerTo(message as Message, to, false, refusal));
    else this.#router.route(message as Message);
  }

  #envelopeFromAgent(envelope: Envelope): void {
    const sender = this.#sender(envelope.from);
    if (!sender) return;
    const badTo = agentIdProblem(envelope.to);
    if (badTo) return this.#drop(`an envelope's "to": ${badTo}`, envelope.from);
    sender.route.sentMany(envelope);
    const dropped = this.#router.forward(envelope);
    if (dropped) this.#drop(`an envelope was dropped: ${dropped}`, envelope.from);
  }

  /**
   * The agent of this thread that `from` names. The space vouches for
   * `from`: an id this thread does not host is a forgery (dropped and
   * counted), unless its agent just left (its last words, dropped quietly).
   */
  #sender(from: string): HostedAgent | undefined {
    const sender = this.#agents.get(from);
    if (!sender && !this.#left.has(from)) this.#drop(`it spoke for "${from.slice(0, 60)}", an agent that is not in its thread`, undefined);
    return sender;
  }

  #hostEvent(event: HostEvent): void {
    if (event.event === "error") this.#options.onError(errorFromWire({ ...event.error }));
    // The receiving thread found an envelope forged; the sender is in some thread, maybe this one.
    else this.#options.onDropped(event.why, [event.from]);
  }

  #drop(why: string, from: string | undefined): void {
    const senders = from !== undefined && this.#agents.has(from) ? [from] : [...this.#agents.keys()];
    this.#options.onDropped(why, senders);
  }

  #compute({ seq, agent, request }: ComputeItem): void {
    const agentClass = this.#classes.get(agent);
    if (!agentClass) return;
    this.#options.pool.run(request, agentClass).then(
      (value) => this.#toWorker.push({ kind: "computed", seq, ok: true, value }),
      (error: unknown) => this.#toWorker.push({ kind: "computed", seq, ok: false, error: errorToWire(error) }),
    );
  }

  #uncloneable(item: PortItem, error: unknown): void {
    if (item.kind === "computed") return this.#toWorker.push({ kind: "computed", seq: item.seq, ok: false, error: errorToWire(error) });
    const messages = item.kind === "broadcast" ? [item.message] : item.kind === "messages" ? item.messages : [];
    for (const message of messages) {
      if (isAnswer(message)) continue;
      const reason = new MessageValidationError(`message to "${message.to}" cannot be cloned: ${String(error)}`);
      this.#router.route(answerTo(message, message.to, false, reason));
    }
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
