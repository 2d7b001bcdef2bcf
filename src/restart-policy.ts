/** When a failed agent is started again, as in Erlang/OTP supervisors. */
export interface RestartOptions {
  /**
   * `"never"` (the default): a crash removes the agent. `"on-failure"`: a
   * crash (an uncaught error, a non-zero exit, running out of memory, a loop
   * or timer that throws) starts a fresh instance. `"always"`: so does a
   * thread that exits with code 0.
   */
  restart?: "never" | "on-failure" | "always";
  /** At most this many restarts within `withinMs`; one more crash removes the agent. */
  maxRestarts?: number;
  withinMs?: number;
  /** Wait before a restart; doubled for each restart still within `withinMs`. */
  backoffMs?: number;
}

export const restartDefaults: Readonly<Required<RestartOptions>> = Object.freeze({
  restart: "never",
  maxRestarts: 3,
  withinMs: 60_000,
  backoffMs: 100,
});

/** An agent's restart policy, its unset fields from the defaults. */
export function restartPolicy(options: RestartOptions): Required<RestartOptions> {
  // Most agents set none: they share the defaults (a swarm would hold a copy per agent).
  if (options.restart === undefined && options.maxRestarts === undefined && options.withinMs === undefined && options.backoffMs === undefined) {
    return restartDefaults;
  }
  return {
    restart: options.restart ?? restartDefaults.restart,
    maxRestarts: options.maxRestarts ?? restartDefaults.maxRestarts,
    withinMs: options.withinMs ?? restartDefaults.withinMs,
    backoffMs: options.backoffMs ?? restartDefaults.backoffMs,
  };
}

/**
 * What a restart policy still allows: at most `maxRestarts` within
 * `withinMs`, each after a backoff doubled for every restart still within
 * the window.
 */
export class RestartBudget {
  #policy: Required<RestartOptions>;
  /** Made at the first restart. */
  #restartedAt: number[] | undefined;

  constructor(policy: Required<RestartOptions>) {
    this.#policy = policy;
  }

  /** How long to wait before the next restart, or undefined if the policy allows none. `clean`: the instance ended without failing. */
  delay(clean: boolean): number | undefined {
    const { restart, maxRestarts, withinMs, backoffMs } = this.#policy;
    if (restart === "never" || (restart === "on-failure" && clean)) return undefined;
    const now = Date.now();
    this.#restartedAt = (this.#restartedAt ?? []).filter((at) => now - at < withinMs);
    if (this.#restartedAt.length >= maxRestarts) return undefined;
    return backoffMs * 2 ** this.#restartedAt.length;
  }

  /** A restart happens now: it counts against the budget. */
  spend(): void {
    (this.#restartedAt ??= []).push(Date.now());
  }
}
