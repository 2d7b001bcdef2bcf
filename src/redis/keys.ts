/**
 * Where a namespace keeps its state in Redis. Every key carries the
 * namespace as a hash tag, `{ns}`, so a space's keys share one cluster slot
 * and the scripts that touch several of them stay valid.
 *
 *   agentspace:{ns}:mailboxes      hash: agent id → its mailbox bound (open mailboxes)
 *   agentspace:{ns}:mailbox:<id>   stream: the agent's messages, one field "m" = the message as JSON
 *   agentspace:{ns}:lease:<id>     string: the holding process's token, with a TTL (the lease)
 *   agentspace:{ns}:endpoint:<token>  hash: a process's direct address and its connection secret, with the lease's TTL
 *   agentspace:{ns}:state:<id>     string: a durable agent's state, as JSON text
 *   agentspace:{ns}:applied:<id>   hash: message id → the answer it got (JSON), for the last APPLIED_WINDOW messages a durable agent applied
 *   agentspace:{ns}:applied-order:<id>  list: those message ids, oldest first (what bounds the hash)
 */
export class Keys {
  readonly prefix: string;
  readonly registry: string;
  /** The one consumer group on every mailbox stream. */
  static readonly GROUP = "agents";

  constructor(readonly namespace: string) {
    this.prefix = `agentspace:{${namespace}}:`;
    this.registry = `${this.prefix}mailboxes`;
  }

  mailbox(id: string): string {
    return `${this.prefix}mailbox:${id}`;
  }

  lease(id: string): string {
    return `${this.prefix}lease:${id}`;
  }

  /** A durable agent's state. */
  state(id: string): string {
    return `${this.prefix}state:${id}`;
  }

  /** The answers of the messages a durable agent applied last (see APPLIED_WINDOW). */
  applied(id: string): string {
    return `${this.prefix}applied:${id}`;
  }

  /** Where process `token` takes direct connections (when it does). */
  endpoint(token: string): string {
    return `${this.prefix}endpoint:${token}`;
  }

  /** The agent id a mailbox key belongs to, or undefined when it is not one of this namespace's. */
  idOfMailbox(key: string): string | undefined {
    const head = `${this.prefix}mailbox:`;
    return key.startsWith(head) ? key.slice(head.length) : undefined;
  }
}
