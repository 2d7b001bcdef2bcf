/** What `space.stats()` reports for each agent. */
export interface AgentStats {
  /** Messages delivered to it (answers to its requests not counted). */
  received: number;
  /** Messages it sent, answers included. */
  sent: number;
  /** `[error]` answers it sent: its actions that failed or were refused. */
  errors: number;
  /** Times it was restarted after a crash. */
  restarts: number;
  /** Messages delivered to it that it has not yet taken. */
  mailboxDepth: number;
  /**
   * Items from its thread that the space dropped as malformed or forged
   * (for a thread of several agents, counted for each: any of them may have sent it).
   */
  dropped: number;
  /** Its `@loop`s running now. */
  loops: number;
  /** Its `@timer`s running now (waiting for their next run, or running). */
  timers: number;
  /** Times one of its loops or timers threw, over all its instances. */
  loopFailures: number;
  /** Actions it has started that have not settled yet (awaiting something). */
  working: number;
  /** RedisSpace: messages waiting in its Redis mailbox, not yet taken (refreshed about once a second). */
  waiting?: number;
  /** RedisSpace: messages taken from Redis whose actions have not yet answered (not yet acknowledged). */
  unacked?: number;
}
