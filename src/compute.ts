import { availableParallelism } from "node:os";
import type { Piscina } from "piscina";
import { bundleModule, computeWorkerUrl } from "./bundle.js";
import type { ComputeRequest, ComputeTask } from "./compute-request.js";

/**
 * Worker threads (piscina) shared by every agent of a space, for heavy,
 * stateless work: an agent awaiting `compute` keeps taking messages while
 * the pool works. Started on first use.
 */
export class ComputePool {
  #pool: Promise<Piscina<ComputeTask, unknown>> | undefined;
  #threads: number;

  constructor(threads = availableParallelism()) {
    this.#threads = threads;
  }

  /** Resolves `request` for an agent whose class lives in `agentModule` (a file: URL; bundled already, or not). */
  async run(request: ComputeRequest, agentModule: { moduleUrl: string; className: string; bundled: boolean }): Promise<unknown> {
    const pool = await (this.#pool ??= this.#start());
    if (request.kind === "task") {
      return pool.run({ kind: "task", moduleUrl: await bundleModule(request.module), input: request.input });
    }
    if (!agentModule.moduleUrl) {
      const name = agentModule.className;
      throw new TypeError(`offload actions of ${name} run in a pool thread, which imports the class: add \`static module = import.meta.url;\` to class ${name}`);
    }
    const moduleUrl = agentModule.bundled ? agentModule.moduleUrl : await bundleModule(agentModule.moduleUrl);
    return pool.run({ kind: "action", moduleUrl, className: agentModule.className, action: request.action, args: request.args });
  }

  async destroy(): Promise<void> {
    const pool = await this.#pool?.catch(() => undefined);
    this.#pool = undefined;
    await pool?.destroy();
  }

  async #start(): Promise<Piscina<ComputeTask, unknown>> {
    const filename = await computeWorkerUrl();
    // Loaded on first use: agents' workers import the library, and only the main thread runs the pool.
    const { Piscina } = await import("piscina");
    return new Piscina<ComputeTask, unknown>({ filename, maxThreads: this.#threads, minThreads: 0, execArgv: [] });
  }
}
