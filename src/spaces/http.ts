import { actionsOf } from "../action.js";
import type { AgentClass } from "../agent-class.js";
import { HttpTransport } from "../http/transport.js";
import type { AddOptions } from "../space.js";
import type { Member } from "../supervisor.js";
import { MultiprocessSpace, type MultiprocessSpaceOptions } from "./multiprocess.js";

export interface HttpSpaceOptions extends MultiprocessSpaceOptions {
  /** The exchange: `agentspace exchange`, or Academy's own (`python -m academy.exchange.cloud`). */
  url: string;
  /** A bearer token from the exchange's --auth file. */
  token?: string;
  /** PEM certificate(s) to trust for an https:// exchange whose certificate is self-signed or from a private authority (else set NODE_EXTRA_CA_CERTS). */
  ca?: string;
  /** How long each listen lasts before it is renewed, in seconds (default 30; at most the exchange's limit, 60 on Academy's). */
  listenTimeoutS?: number;
}

/**
 * Agents in worker threads, exactly as in MultiprocessSpace, with an HTTP
 * exchange in Academy's protocol as the router: processes anywhere that can
 * reach the exchange over HTTP(S) form one space, next to Python Academy
 * agents. An agent's mailbox is its id's UUID (the id itself, when it is
 * one); an Academy agent is addressed by its uuid.
 */
export class HttpSpace extends MultiprocessSpace {
  protected override readonly carriesJson = true;
  #transport: Promise<HttpTransport>;
  /** Per agent here: its class, for discovery and for naming Academy's positional arguments. */
  readonly #classes = new Map<string, AgentClass>();

  constructor(options: HttpSpaceOptions) {
    if (typeof options?.url !== "string") throw new TypeError('an HttpSpace needs the exchange\'s url: new HttpSpace({ url: "http://127.0.0.1:8700" })');
    super(options);
    this.#transport = HttpTransport.open({
      url: options.url,
      token: options.token,
      ca: options.ca,
      listenTimeoutS: options.listenTimeoutS,
      classOf: (id) => this.#classes.get(id)?.name,
      argNames: (id, action) => {
        const Cls = this.#classes.get(id);
        const spec = Cls === undefined ? undefined : actionsOf(Cls.prototype).get(action);
        return spec === undefined ? undefined : Object.keys(spec.help.args);
      },
    });
    this.routeThrough(this.#transport);
  }

  /** Resolves once the exchange answered; rejects when it cannot be reached or refuses the token. */
  async connected(): Promise<void> {
    await this.#transport;
  }

  protected override async spawn(Cls: AgentClass, id: string, init: unknown, options: AddOptions): Promise<Member> {
    this.#classes.set(id, Cls);
    try {
      return await super.spawn(Cls, id, init, options);
    } catch (error) {
      this.#classes.delete(id);
      throw error;
    }
  }

  override async remove(id: string, options?: Parameters<MultiprocessSpace["remove"]>[1]): Promise<void> {
    await super.remove(id, options);
    this.#classes.delete(id);
  }

  protected override async release(): Promise<void> {
    const transport = await this.#transport.catch(() => undefined);
    await transport?.close();
  }
}
