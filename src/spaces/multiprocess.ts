import { bundleModule, workerHostUrl } from "../bundle.js";
import type { Member } from "../in-thread.js";
import { assertCloneable } from "../message.js";
import { Space, type AgentClass, type SpaceOptions } from "../space.js";
import { AgentWorker } from "./agent-worker.js";

export interface MultiprocessSpaceOptions extends SpaceOptions {}

/**
 * Each agent in its own worker thread, connected only by an inbound and an
 * outbound MessagePort; the router in the main thread moves every message.
 * A crashing worker is reported (`error` event) and never takes the space down.
 */
export class MultiprocessSpace extends Space {
  constructor(options: MultiprocessSpaceOptions = {}) {
    super(options);
  }

  protected async spawn(Cls: AgentClass, id: string, init: unknown): Promise<Member> {
    const moduleUrl = moduleOf(Cls);
    assertCloneable(init, "init");
    const [bundleUrl, hostUrl] = await Promise.all([bundleModule(moduleUrl), workerHostUrl()]);
    const worker = await AgentWorker.open(id, hostUrl, this.router, {
      crashed: (error) => this.lost(id, error),
      error: (error) => this.emit("error", error),
    });
    const { requestTimeoutMs, debug } = this.options;
    try {
      await worker.start({ moduleUrl: bundleUrl, className: Cls.name, id, init, requestTimeoutMs, debug });
    } catch (error) {
      await worker.stop(error as Error).catch(() => {});
      throw new Error(`agent "${id}" (${Cls.name}) failed to start: ${(error as Error).message}`, { cause: error });
    }
    return { stop: (reason) => worker.stop(reason) };
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
