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
 *   agentspace:{ns}:virtual        hash: virtual kind's id prefix → the mailbox bound of its ids while none is active
 *   agentspace:{ns}:virtual-class  hash: virtual kind's id prefix → its class name (one class per prefix, namespace-wide)
 *   agentspace:{ns}:activations:<prefix>  stream: ids of that kind to activate, field "id"; consumer group "agents", one consumer per serving process
 *   agentspace:{ns}:activating:<id>  string with a TTL: an activation of the id is asked for (asked again only once it runs out)
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

  /** The ids of virtual kind `prefix` waiting to be activated by a process that serves it. */
  activations(prefix: string): string {
    return `${this.prefix}activations:${prefix}`;
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
