import { MessageChannel, Worker, type MessagePort, type ResourceLimits } from "node:worker_threads";
import { wantsErrorsOnly } from "../answer-mark.js";
import { answerTo } from "../answer.js";
import { BatchingPort } from "../batching-port.js";
import type { ComputePool } from "../compute.js";
import { ControlClient, type HostEvent } from "../control.js";
import { debugRefusal } from "../debug-gate.js";
import { AgentCrashedError, LoopFailedError, MessageValidationError, errorFromWire, errorToWire, type WireError } from "../errors.js";
import { CountSlots } from "../host/counters.js";
import { BROADCAST, agentIdProblem, idPrefixFor, isAnswer, messageProblem, type Message } from "../message.js";
import {
  outboundProblem,
  type ComputeItem,
  type Envelope,
  type HostControl,
  type HostData,
  type HostReload,
  type HostSettings,
  type HostStart,
  type OutboundItem,
  type PortItem,
} from "../protocol.js";
import type { MessageRouter } from "../router.js";
import { startTimeout, stopTimeout, type Timeout } from "../timeout.js";
import type { ThreadRoute, ThreadSink } from "./thread-route.js";
import { startWorker } from "./worker-exec-argv.js";
import { workerPrinted } from "./worker-output.js";
import { durationRowsProblem, type DurationRow } from "../telemetry/durations.js";

/** An agent placed in a thread, seen from the main thread: its route, and who to tell of what happens to it there. */
export interface ThreadAgent {
  route: ThreadRoute;
  /** Its class, as a CPU pool thread imports it for its offloaded actions: the bundle it runs from, and the class's name. */
  readonly moduleUrl: string;
  readonly className: string;
  /** Its thread died under it. */
  crashed(error: AgentCrashedError, code: number): void;
  /** A loop or timer of the agent threw: the agent failed, its thread runs on. */
  failed(error: LoopFailedError): void;
  /** The agent called `shutdown()`. */
  shutdown(): void;
}

export interface WorkerThreadOptions {
  resourceLimits?: ResourceLimits;
  /** How the thread's host runs (see HostSettings). */
  settings: HostSettings;
  /** A callback in an agent failed with nobody to answer. */
  onError(error: Error): void;
  /**
   * The thread sent something malformed or forged, dropped here: `senders`
   * are the agents that may have sent it (all of the thread's when the item
   * names none of them).
   */
  onDropped(why: string, senders: string[]): void;
  /** Sees the messages the thread's agents handed each other directly, while watched. */
  observe(message: Message): void;
  /** Whether a `message` listener watches the space. */
  watching(): boolean;
  /** Whether the space times actions (see telemetry/durations.ts). */
  timing(): boolean;
  /** The action durations of a thread about to end: kept by the space, so that its metrics' counts never go down. */
  retired(rows: DurationRow[]): void;
  /** The space's CPU pool. */
  pool: ComputePool;
}

/** How long a thread that is ending may take to hand over its durations and send its spans. */
const LAST_WORDS_MS = 3_000;

// Ids of agents that left a thread, remembered a while: what they sent just
// before leaving may still arrive, and is not a forgery.
const REMEMBER_LEFT = 1024;

/**
 * One worker thread and the agents its host holds, seen from the main
 * thread: its two data ports (wired to the agents' routes and to the
 * router), its control channel, the counts its host keeps, and what
 * happens when it dies.
 */
export class WorkerThread {
  #router: MessageRouter;
  #agents = new Map<string, { agent: ThreadAgent; slot: number }>();
  /** Recently left (see REMEMBER_LEFT), oldest first. */
  #left = new Set<string>();
  #toWorker: BatchingPort;
  #inbound: MessagePort;
  #outbound: MessagePort;
  #worker: Worker;
  #control: ControlClient<HostControl>;
  #counts = new CountSlots(true);
  /** Chunks of counts the thread has been handed (each goes with the first start that uses it: control calls keep their order). */
  #chunksGiven = 0;
  #streamEnds = new Map<string, () => void>();
  /** Per agent placed and not yet connected: resolves once its thread-mates deliver to it directly (the fence has closed). */
  #fences = new Map<string, { closed: Promise<void>; close(): void }>();
  /** Its end, once asked for. */
  #killed: Promise<void> | undefined;
  /** Reasons sent in as peer-gone notices, in wire form: one object for many notices clones once per batch. */
  #reasons = new WeakMap<Error, WireError>();
  #sink: ThreadSink;
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
    this.#sink = {
      message: (to, message) =>
        message.to === BROADCAST ? this.#toWorker.push({ kind: "broadcast", deliverTo: to, message }) : this.#toWorker.pushMessage(message),
      envelope: (envelope) => this.#toWorker.push(envelope),
      gone: (to, peerId, reason) => this.#toWorker.push({ kind: "peer-gone", deliverTo: to, gone: peerId, reason: this.#wire(reason) }),
    };
    const workerData: HostData = {
      inbound: inbound.port2,
      outbound: outbound.port2,
      settings: options.settings,
      watching: options.watching(),
      idPrefix: idPrefixFor(),
      timing: options.timing(),
    };
    this.#worker = startWorker(new URL(hostUrl), {
      workerData,
      transferList: [inbound.port2, outbound.port2],
      name: "agentspace agents",
      // Piped here rather than straight to this process's: a program may print it elsewhere (see worker-output.ts).
      stdout: true,
      stderr: true,
      ...(options.resourceLimits ? { resourceLimits: options.resourceLimits } : {}),
    });
    this.#worker.stdout.on("data", (chunk: Buffer) => workerPrinted(chunk, "stdout"));
    this.#worker.stderr.on("data", (chunk: Buffer) => workerPrinted(chunk, "stderr"));
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

  /** Settles once the thread has exited. */
  get exited(): Promise<void> {
    return this.#exited;
  }

  /**
   * Places an agent here and gives it a slot in the thread's counts, as the
   * thread is to be told of it (see HostStart). Its route keeps holding
   * messages until the thread reports it placed: a message that came sooner
   * would find nobody.
   */
  host(id: string, agent: ThreadAgent): { slot: number; counts: HostStart["counts"] } {
    this.#left.delete(id);
    const slot = this.#counts.take();
    this.#agents.set(id, { agent, slot });
    let close!: () => void;
    const closed = new Promise<void>((resolve) => (close = resolve));
    this.#fences.set(id, { closed, close });
    const { chunk, at } = this.#counts.slot(slot);
    if (chunk < this.#chunksGiven) return { slot, counts: { chunk, at } };
    this.#chunksGiven = chunk + 1;
    return { slot, counts: { chunk, at, buffer: this.#counts.buffer(chunk) as SharedArrayBuffer } };
  }

  /** What the thread's host counted in `slot` (see counters.ts): still readable once the thread died. */
  count(slot: number, what: number): number {
    return this.#counts.read(slot, what);
  }

  /** Whether a `message` listener watches the space: the thread reports its agents' direct messages while one does. */
  watch(on: boolean): void {
    if (this.#alive) this.#toWorker.push({ kind: "watch", on });
  }

  /**
   * Constructs the agent in the thread and runs its `afterAdd`; the first
   * time, resolves only once its thread-mates hand messages to it directly,
   * so that from then on they do.
   */
  async start(spec: HostStart): Promise<void> {
    await this.#control.remote.start(spec);
    await this.#fences.get(spec.id)?.closed;
  }

  /**
   * Stops the agent's failed instance and keeps its mailbox for the next
   * one. Resolves false when its loops did not stop within `timeoutMs`:
   * the thread was ended (its thread-mates, if any, crash with it).
   */
  async retire(id: string, timeoutMs: number): Promise<boolean> {
    return this.#bounded(id, this.#control.remote.retire(id), timeoutMs);
  }

  /**
   * Runs the agent's `beforeRemove`, waits for what it sent meanwhile, and
   * takes it out, whatever happens: a `beforeRemove` that throws is reported
   * by the thread, and an agent that does not finish within `timeoutMs` (a
   * busy loop) ends the thread: its thread-mates, if any, crash with it, and
   * this resolves false.
   */
  async stop(id: string, reason: Error, timeoutMs: number): Promise<boolean> {
    const ended = new Promise<void>((resolve) => this.#streamEnds.set(id, resolve));
    const goodbye = this.#control.remote.stop(id, errorToWire(reason)).then(
      () => ended,
      () => ended, // the thread is dying or died: its exit ends the stream
    );
    try {
      return await this.#bounded(id, goodbye, timeoutMs);
    } finally {
      this.#streamEnds.delete(id);
      this.#forget(id);
    }
  }

  /** Swaps agent `id` for an instance of its class's new version (see `HostControl.reload`). */
  async reload(spec: HostReload): Promise<void> {
    await this.#control.remote.reload(spec);
  }

  /** The thread's action durations (timed from now on, if they were not); none from a thread that is gone. */
  async durations(): Promise<DurationRow[]> {
    if (!this.#alive) return [];
    const rows: unknown = await this.#control.remote.durations().catch(() => []);
    const problem = durationRowsProblem(rows);
    if (problem === undefined) return rows as DurationRow[];
    this.#drop(`its action durations were dropped: ${problem}`, undefined);
    return [];
  }

  /**
   * Ends the thread once its last agent left: what it timed is kept by the
   * space, and the spans its SDK still holds are sent first (each bounded:
   * a thread that does not answer is ended all the same).
   */
  async end(): Promise<void> {
    const { timing, settings } = this.#options;
    if (this.#alive && (timing() || settings.telemetry !== undefined)) {
      const lastWords = async (): Promise<void> => {
        if (timing()) this.#options.retired(await this.durations());
        if (settings.telemetry !== undefined) await this.#control.remote.flushTraces();
      };
      let timer: Timeout;
      const late = new Promise<void>((resolve) => (timer = startTimeout(resolve, LAST_WORDS_MS)));
      await Promise.race([lastWords().catch(() => undefined), late, this.#exited]);
      stopTimeout(timer!);
    }
    await this.kill();
  }

  /** Ends the thread now; agents still placed here crash. Every caller shares one end (the last agents of a thread may leave at once). */
  kill(): Promise<void> {
    this.#killed ??= this.#worker.terminate().then(() => this.#exited);
    return this.#killed;
  }

  /** Waits for `work` on agent `id` (or the thread's death), at most `timeoutMs`: past it, the thread is ended and this resolves false. */
  async #bounded(id: string, work: Promise<unknown>, timeoutMs: number): Promise<boolean> {
    let timer: Timeout;
    const timedOut = new Promise<"timeout">((resolve) => (timer = startTimeout(() => resolve("timeout"), timeoutMs)));
    let outcome: unknown;
    try {
      outcome = await Promise.race([work.catch(() => undefined), timedOut, this.#exited]);
    } finally {
      stopTimeout(timer);
    }
    if (outcome !== "timeout") return true;
    // Taken out first: ending the thread must not report this agent as crashed.
    this.#forget(id);
    await this.kill();
    return false;
  }

  #closeFence(id: string): void {
    this.#fences.get(id)?.close();
    this.#fences.delete(id);
  }

  #forget(id: string): void {
    this.#closeFence(id);
    const placed = this.#agents.get(id);
    if (!placed) return;
    this.#agents.delete(id);
    this.#counts.give(placed.slot);
    this.#left.add(id);
    if (this.#left.size > REMEMBER_LEFT) this.#left.delete(this.#left.values().next().value as string);
  }

  #wire(reason: Error): WireError {
    let wire = this.#reasons.get(reason);
    if (!wire) this.#reasons.set(reason, (wire = errorToWire(reason)));
    return wire;
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
    switch (item.kind) {
      case "messages":
        for (const message of item.messages as unknown[]) this.#fromAgent(message);
        return;
      case "seen":
        for (const message of item.messages as unknown[]) this.#seen(message);
        return;
      case "envelope":
        return this.#envelopeFromAgent(item);
    }
    const agent = this.#sender(item.agent);
    if (!agent) return;
    switch (item.kind) {
      case "ready":
        agent.route.connect(this.#sink);
        // After everything routed to it so far: its thread-mates may now deliver to it directly.
        return this.#toWorker.push({ kind: "connected", agent: item.agent });
      case "local":
        agent.route.localIn = this;
        this.#closeFence(item.agent);
        // Behind every message of its thread-mates that came up before it.
        return this.#toWorker.push({ kind: "direct", agent: item.agent });
      case "ended":
        return this.#streamEnds.get(item.agent)?.();
      case "compute":
        return this.#compute(item);
      case "failed":
        return agent.failed(new LoopFailedError(item.agent, item.loop, item.of, errorFromWire({ ...item.error })));
      case "shutdown":
        return agent.shutdown();
      case "state":
        return this.#router.stateWritten?.(item.agent, item.of, item.state);
      case "handed-back":
        for (const message of item.messages as unknown[]) {
          const problem = messageProblem(message);
          if (problem) this.#drop(problem, item.agent);
          // Only to the agent that passivated, and only while the router waits for them (see Router.handBack).
          else if (!this.#router.handBack?.(item.agent, message as Message)) this.#drop(`it handed back a message for "${item.agent}" that was not awaited`, item.agent);
        }
        return;
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
    const refusal = debugRefusal(message as Message, false, this.#options.settings.debug);
    if (refusal) return this.#router.route(answerTo(message as Message, to, false, refusal));
    // An action whose answer may be awaited (not marked errors-only): its sender is told if its receiver leaves.
    if (to !== BROADCAST && !isAnswer(message as Message) && !wantsErrorsOnly(message as Message)) this.#router.asked(sender.route, from, to);
    this.#router.route(message as Message, this);
  }

  #envelopeFromAgent(envelope: Envelope): void {
    const sender = this.#sender(envelope.from);
    if (!sender) return;
    const badTo = agentIdProblem(envelope.to);
    if (badTo) return this.#drop(`an envelope's "to": ${badTo}`, envelope.from);
    if (envelope.actions > 0) this.#router.asked(sender.route, envelope.from, envelope.to);
    const dropped = this.#router.forward(envelope, this);
    if (dropped) this.#drop(`an envelope was dropped: ${dropped}`, envelope.from);
  }

  /** A message two agents of this thread exchanged there: shown to the space's listeners, if both are indeed here. */
  #seen(message: unknown): void {
    const problem = messageProblem(message);
    if (problem) return this.#drop(problem, undefined);
    const { from, to } = message as Message;
    if (!this.#sender(from)) return;
    if (!this.#agents.has(to)) return this.#drop(`it reported a message to "${to.slice(0, 60)}" as handed over in its thread`, from);
    this.#options.observe(message as Message);
  }

  /**
   * The agent of this thread that `from` names. The space vouches for
   * `from`: an id this thread does not host is a forgery (dropped and
   * counted), unless its agent just left (its last words, dropped quietly).
   */
  #sender(from: string): ThreadAgent | undefined {
    const sender = this.#agents.get(from)?.agent;
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
    const placed = this.#agents.get(agent)?.agent;
    if (!placed) return;
    this.#options.pool.run(request, { moduleUrl: placed.moduleUrl, className: placed.className, bundled: true }).then(
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
    for (const id of [...this.#fences.keys()]) this.#closeFence(id);
    const cause = this.#lastError;
    const why = cause ? `${cause.name}: ${cause.message}` : `its worker exited with code ${code}`;
    this.#control.fail(new AgentCrashedError("", `the worker thread died: ${why}`, { cause }));
    const placed = [...this.#agents];
    this.#agents.clear();
    for (const [id, { agent }] of placed) {
      agent.route.disconnect();
      agent.crashed(new AgentCrashedError(id, `agent "${id}" crashed: ${why}`, { cause }), code);
    }
  }
}
