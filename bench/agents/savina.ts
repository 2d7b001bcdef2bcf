/**
 * Agents of the Savina shapes (scenarios/savina.ts) that the other bench
 * agents do not already cover: ping-pong by plain sends both ways, and the
 * agents of fork-join create. The thread ring is RingNode (ring.ts), the
 * counting actor Sink fed by Sender (pipeline.ts).
 */
import { Agent, action } from "agentspace";

interface Rally {
  to: string;
  left: number;
  /** Each round trip's duration in ns, when timed. */
  samples: number[] | undefined;
  started: bigint;
  done(samples: number[]): void;
  failed(error: unknown): void;
}

/** Plays ping: one "ping" out at a time, the next sent when the "pong" of the last comes back. */
export class Ping extends Agent {
  static module = import.meta.url;
  #rally: Rally | undefined;

  /**
   * `n` round trips with `to`, each a plain send there and a plain send back
   * (no request, no answer awaited); resolves once the last pong is in, with
   * each round trip's duration in ns if `timed` (timed here, in this agent's thread).
   */
  @action
  async rally({ to, n, timed = false }: { to: string; n: number; timed?: boolean }): Promise<number[]> {
    if (this.#rally !== undefined) throw new Error("a rally is already under way");
    return new Promise((done, failed) => {
      this.#rally = { to, left: n, samples: timed ? [] : undefined, started: 0n, done, failed };
      this.#serve(this.#rally);
    });
  }

  @action
  pong(): void {
    const rally = this.#rally;
    if (rally === undefined) return;
    rally.samples?.push(Number(process.hrtime.bigint() - rally.started));
    if (--rally.left > 0) return this.#serve(rally);
    this.#rally = undefined;
    rally.done(rally.samples ?? []);
  }

  /** A ping that could not be delivered ends the rally, which would otherwise wait for ever. */
  override handleActionError(error: unknown): void {
    const rally = this.#rally;
    this.#rally = undefined;
    rally?.failed(error);
  }

  #serve(rally: Rally): void {
    if (rally.samples !== undefined) rally.started = process.hrtime.bigint();
    this.send({ to: rally.to, action: { name: "ping", args: {} } });
  }
}

/** Plays pong: answers each "ping" with a plain send of "pong" to whoever sent it. */
export class Pong extends Agent {
  static module = import.meta.url;

  @action
  ping(): void {
    this.send({ to: this.currentMessage()!.from, action: { name: "pong", args: {} } });
  }
}

/** One of fork-join's many agents: created, sent one message, and done once it has handled it. */
export class Forked extends Agent {
  static module = import.meta.url;

  /** Tells the sender (a Finish) that this agent has handled its message. */
  @action
  join(): void {
    this.send({ to: this.currentMessage()!.from, action: { name: "finished", args: {} } });
  }
}
