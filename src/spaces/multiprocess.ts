import { workerHostUrl } from "../bundle.js";
import { nextVersion } from "../live/reload.js";
import { routeFor, type Member } from "../in-thread.js";
import { assertCloneable } from "../message.js";
import { Space, type AddOptions, type AgentClass, type SpaceOptions } from "../space.js";
import { availableParallelism } from "node:os";
import { BrokerRouter } from "./broker-router.js";
import type { BrokerTransport } from "./broker-transport.js";
import { WarmPlacement } from "./warm-placement.js";
import { restartPolicy } from "./restart-budget.js";
import { Supervisor } from "./supervisor.js";

export interface MultiprocessSpaceOptions extends SpaceOptions {
  /**
   * Worker threads the agents share. Unset (the default): one thread per
   * agent, the most isolation. A number: agents spread over that many
   * threads, for swarms of thousands. `"auto"`: one per core.
   */
  threads?: number | "auto";
}

/**
 * Each agent in its own worker thread, connected only by an inbound and an
 * outbound MessagePort; the router in the main thread moves every message.
 * A crashing worker is reported (`error` event), restarted as its
 * `restart` policy says, and never takes the space down.
 */
export class MultiprocessSpace extends Space {
  #placement: WarmPlacement;
  #ending = false;

  constructor(options: MultiprocessSpaceOptions = {}) {
    super(options);
    const threads = options.threads === "auto" ? availableParallelism() : options.threads;
    if (threads !== undefined && !(Number.isInteger(threads) && threads > 0)) {
      throw new RangeError(`threads must be a positive whole number or "auto", not ${String(options.threads)}`);
    }
    this.#placement = new WarmPlacement(threads, () => this.router, {
      pool: this.pool,
      debug: this.options.debug,
      onError: (error) => this.reportError(error),
      onDropped: (why, senders) => this.dropped(why, senders),
    });
  }

  /**
   * Routes every message through `transport`, a broker that processes and
   * hosts share, instead of the main thread: all that AMQPSpace and
   * RedisSpace change.
   */
  protected routeThrough(transport: Promise<BrokerTransport>): void {
    this.router = new BrokerRouter(
      transport,
      (message) => this.emit("message", message),
      // With nobody listening, said on stderr: a dropped body or a lost connection must not go unseen.
      (error) => this.reportError(error),
      this.options.debug,
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
    await this.#placement.prewarm(await workerHostUrl(), count);
    // destroy() began meanwhile: it has ended the warm threads it saw, maybe not these.
    if (this.#ending) await this.#placement.endWarm();
  }

  override destroy(): Promise<void> {
    this.#ending = true;
    return super.destroy().finally(() => this.#placement.endWarm());
  }

  protected async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    const moduleUrl = moduleOf(Cls);
    assertCloneable(init, "init");
    // Named by its build: a shared thread that loaded an older build (before a reload or an edit) loads this one anew.
    const [{ bundleUrl }, hostUrl] = await Promise.all([nextVersion(moduleUrl), workerHostUrl()]);
    const { requestTimeoutMs, debug } = this.options;
    const { isolate, resourceLimits } = options;
    return Supervisor.start({
      hostUrl,
      start: { moduleUrl: bundleUrl, className: Cls.name, id, init, requestTimeoutMs, debug, json: this.carriesJson },
      router: this.router,
      route: routeFor(this.router, id, this.mailbox(options)),
      placement: this.#placement,
      where: { isolate, resourceLimits },
      restart: restartPolicy(options),
      stopTimeoutMs: this.options.removeTimeoutMs,
      sourceModule: moduleUrl,
      events: {
        crashed: (error, outcome) => this.reportError(error, outcome),
        gaveUp: () => this.forget(id),
        leave: () => this.leave(id),
        error: (error) => this.reportError(error),
      },
    });
  }
}

/** The module a worker imports `Cls` from, or a clear error saying how to declare it. */
function moduleOf(Cls: AgentClass): string {
  if (!Object.hasOwn(Cls, "module") || typeof Cls.module !== "string") {
    throw new TypeError(
      `${Cls.name} has no static module of its own, so a worker cannot load it: ` +
        `add \`static module = import.meta.url;\` to class ${Cls.name}`,
    );
  }
  return Cls.module;
}
