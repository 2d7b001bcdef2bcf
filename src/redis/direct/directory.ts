import type { RedisCommands } from "../connection.js";
import type { Keys } from "../keys.js";
import { FORGET_ENDPOINT, LOCATE } from "../scripts.js";

/** Where an agent lives: its process's token and, when that process takes direct connections, how to reach it. */
export interface Location {
  token: string;
  endpoint?: { address: string; secret: string };
}

/**
 * The directory of the direct path, in Redis beside the leases: each
 * process with `direct` keeps `endpoint:<token>` (its address and the secret
 * a connecting peer must present) alive as long as its leases; an agent's
 * lease names its process's token, so one script call finds both.
 */
export class Directory {
  readonly #commands: RedisCommands;
  readonly #keys: Keys;
  readonly #token: string;
  readonly #leaseMs: number;
  #own: { address: string; secret: string } | undefined;

  constructor(commands: RedisCommands, keys: Keys, token: string, leaseMs: number) {
    this.#commands = commands;
    this.#keys = keys;
    this.#token = token;
    this.#leaseMs = leaseMs;
  }

  /** Records this process's endpoint (for as long as it is renewed). */
  async publish(address: string, secret: string): Promise<void> {
    this.#own = { address, secret };
    await this.renew();
  }

  /** Renews this process's endpoint, writing it again if a peer forgot it (a failed connect) or Redis lost it. */
  async renew(): Promise<void> {
    if (!this.#own) return;
    const key = this.#keys.endpoint(this.#token);
    await this.#commands.sendCommand(["HSET", key, "address", this.#own.address, "secret", this.#own.secret]);
    await this.#commands.sendCommand(["PEXPIRE", key, String(this.#leaseMs)]);
  }

  async remove(): Promise<void> {
    if (!this.#own) return;
    this.#own = undefined;
    await this.#commands.sendCommand(["DEL", this.#keys.endpoint(this.#token)]);
  }

  /** Where agent `id` lives now; undefined when no process holds it. */
  async locate(id: string): Promise<Location | undefined> {
    const reply = await LOCATE.run(this.#commands, [this.#keys.prefix, id]);
    const found = Array.isArray(reply) ? reply[0] : undefined;
    if (!Array.isArray(found) || typeof found[0] !== "string") return undefined;
    const [token, address, secret] = found;
    if (typeof address !== "string" || typeof secret !== "string") return { token };
    return { token, endpoint: { address, secret } };
  }

  /** A connect to `address` failed: it is stale unless its process writes it again (a live one does, at its next renewal). */
  async forget(token: string, address: string): Promise<void> {
    await FORGET_ENDPOINT.run(this.#commands, [this.#keys.prefix, token, address]);
  }
}
