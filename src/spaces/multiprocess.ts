import { availableParallelism } from "node:os";
import { isDurable, moduleOf, type AgentClass } from "../agent-class.js";
import { bundleModule, nextVersion, workerHostUrl } from "../bundle.js";
import { assertCloneable, type Message } from "../message.js";
import { restartPolicy } from "../restart-policy.js";
import { Space, type AddOptions, type PlacementOptions, type SpaceOptions } from "../space.js";
import { Supervisor, type Member } from "../supervisor.js";
import { BrokerRouter } from "./broker-router.js";
import type { BrokerTransport } from "./broker-transport.js";
import { ThreadRoute } from "./thread-route.js";
import { ThreadPlacing } from "./thread-site.js";
import { WarmPlacement } from "./warm-placement.js";
import { answerTo } from "../answer.js";
import { handsBack } from "../errors.js";
import { addRows, type DurationRow } from "../telemetry/durations.js";

export interface MultiprocessSpaceOptions extends SpaceOptions {
  /**
   * Worker threads the agents share. Unset (the default): one thread per
   * agent, the most isolation. A number: agents spread over that many
   * threads, for swarms of thousands. `"auto"`: one per core.
   */
  threads?: number | "auto";
}


/** The placement of every agent added without `isolate` or `resourceLimits`: one object for them all. */
const SHARED_THREAD: PlacementOptions = Object.freeze({});

/**
 * Each agent in a worker thread (its own, or one of `threads` shared ones),
 * connected only by an inbound and an outbound MessagePort per thread; the
 * router in the main thread moves every message between threads, and
 * thread-mates hand theirs to each other inside their thread. A crashing
 * worker is reported (`error` event), restarted as its `restart` policy
 * says, and never takes the space down.
 */
export class MultiprocessSpace extends Space {
  #placement: WarmPlacement | undefined;
  #threads: number | undefined;
  #ending = false;
  /** The action durations of threads that ended (see WorkerThread.end). */
  #retired = new Map<string, DurationRow>();
  /** The telemetry module's bundle for worker threads, built once. */
  #telemetryBundle: Promise<string | undefined> | undefined;

  constructor(options: MultiprocessSpaceOptions = {}) {
    super(options);
    const threads = options.threads === "auto" ? availableParallelism() : options.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
      throw new RangeError(`threads must be a positive whole number or "auto", not ${String(options.threads)}`);
    }
    this.#threads = threads;
  }

  /**
   * Routes every message through `transport`, a broker that processes and
   * hosts share, instead of the main thread: all that AMQPSpace and
   * RedisSpace change.
   */
  protected routeThrough(transport: Promise<BrokerTransport>, fenced?: (id: string, error: Error) => void): void {
    this.router = new BrokerRouter(
      transport,
      (message) => this.emit("message", message),
      // With nobody listening, said on stderr: a dropped body or a lost connection must not go unseen.
      (error) => this.reportError(error),
      this.options.debug,
      fenced,
    );
  }

  /**
   * Starts `count` worker threads now, each waiting idle for an agent of
   * its own: a later burst of `add`s then skips starting threads, most of an
   * add's time. Resolves once they run. Agents with a thread of their own
   * take them (all of them by default; with `threads`, those added with
   * `isolate`); `destroy()` ends those never taken.
   */
  async prewarm(count: number): Promise<void> {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`prewarm needs a positive whole number of threads, not ${String(count)}`);
    if (this.#ending) throw new Error("this space has been destroyed");
    await (await this.#threadsReady()).prewarm(await workerHostUrl(), count);
    // destroy() began meanwhile: it has ended the warm threads it saw, maybe not these.
    if (this.#ending) await this.#placement?.endWarm();
  }

  override destroy(): Promise<void> {
    this.#ending = true;
    return super.destroy().finally(() => this.#placement?.endWarm());
  }

  protected override watchChanged(watched: boolean): void {
    for (const thread of this.#placement?.threads ?? []) thread.watch(watched);
  }

  /** What a route refuses is answered so; refused with a passivation's reason, it goes back to the router, to wait for the next activation. */
  readonly #refused = (id: string, message: Message, error: Error): void =>
    this.router.route(handsBack(error) ? message : answerTo(message, id, false, error));

  protected async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    const moduleUrl = moduleOf(Cls);
    assertCloneable(init, "init");
    // Named by its build: a shared thread that loaded an older build (before a reload or an edit) loads this one anew.
    const [{ bundleUrl }, hostUrl] = await Promise.all([nextVersion(moduleUrl), workerHostUrl()]);
    const placement = this.telemetry === undefined ? this.#threadPlacement(undefined) : await this.#threadsReady();
    const mailbox = this.mailbox(options);
    const route = new ThreadRoute(id, mailbox, this.#refused);
    const { isolate, resourceLimits } = options;
    const durable = isDurable(Cls);
    const start = { moduleUrl: bundleUrl, className: Cls.name, id, init, mailbox, ...(durable ? { durable: {} } : {}) };
    // A thread that does not read states itself is handed the last written one at every start.
    const stateOf = durable && this.stateKeeping() === "up" ? () => this.keptState(id) : undefined;
    return Supervisor.start({
      id,
      className: Cls.name,
      router: this.router,
      route,
      placement: new ThreadPlacing(placement, hostUrl, isolate || resourceLimits ? { isolate, resourceLimits } : SHARED_THREAD, start, route, stateOf),
      restart: restartPolicy(options),
      stopTimeoutMs: this.options.removeTimeoutMs,
      sourceModule: moduleUrl,
      events: this.supervisorEvents,
    });
  }

  /**
   * The placement, once the telemetry module (if any) is bundled for the
   * threads: a module in TypeScript, or importing packages, loads in a
   * worker as an agent module does.
   */
  async #threadsReady(): Promise<WarmPlacement> {
    const telemetry = this.telemetry;
    const bundled = await (this.#telemetryBundle ??= telemetry === undefined ? Promise.resolve(undefined) : bundleModule(telemetry));
    return this.#threadPlacement(bundled);
  }

  /** Made on first use: by then a broker space has put its own router in place, and its settings are known. */
  #threadPlacement(telemetry: string | undefined): WarmPlacement {
    this.#placement ??= new WarmPlacement(this.#threads, () => this.router, {
      settings: { ...this.hostSettings(), ...(telemetry === undefined ? {} : { telemetry }) },
      pool: this.pool,
      onError: (error) => this.reportError(error),
      onDropped: (why, senders) => this.dropped(why, senders),
      observe: (message) => this.emit("message", message),
      watching: () => this.watched,
      timing: () => this.timing,
      retired: (rows) => addRows(this.#retired, rows),
    });
    return this.#placement;
  }

  protected override async durationRows(): Promise<DurationRow[][]> {
    const threads = [...(this.#placement?.threads ?? [])];
    return [...(await super.durationRows()), [...this.#retired.values()], ...(await Promise.all(threads.map((thread) => thread.durations())))];
  }
}
