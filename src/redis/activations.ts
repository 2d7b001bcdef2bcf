import { Mailbox } from "./mailbox.js";

/** What a serving process does with an id to activate: resolves once it runs here, or another process holds it. */
export type Activate = (id: string) => Promise<void>;

/** A virtual kind a process serves: its ids start with `prefix`, and are agents of class `className`. */
export interface ServedKind {
  prefix: string;
  className: string;
  /** The mailbox bound of its ids while none is active (an active one's is its own, set at its activation). */
  bound: number;
  activate: Activate;
  /** More activations it may take now (a node's free capacity); unset: no limit. */
  room?: () => number;
}

/**
 * The activations stream of one virtual kind this process serves, read by
 * the process's one reader in the same XREADGROUP as its mailboxes: Redis
 * hands each entry to one of the kind's serving processes, and wakes the
 * read the moment one is added. An entry is acknowledged once its
 * activation has settled, so one taken by a process that died is asked
 * for again (see ORPHANS, ACTIVATING_MS).
 */
export class ActivationQueue extends Mailbox {
  /** Entries taken whose activations have not settled. */
  readonly taking = new Set<string>();

  constructor(
    readonly kind: ServedKind,
    key: string,
    window: number,
  ) {
    super(`activations of "${kind.prefix}"`, key, () => {}, window, 0);
  }

  /** Free capacity left for more activations now. */
  get free(): number {
    return (this.kind.room?.() ?? Infinity) - this.taking.size;
  }

  /** Read only while there is capacity; it never lowers what a read asks of the mailboxes beside it (an overshoot is handed back). */
  override get room(): number {
    return this.free > 0 ? this.window : 0;
  }
}
