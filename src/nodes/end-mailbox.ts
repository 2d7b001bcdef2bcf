import { setTimeout as sleep } from "node:timers/promises";
import { answerTo } from "../answer.js";
import { AgentNotFoundError } from "../errors.js";
import { isAnswer, type Message } from "../message.js";
import type { RedisCommands } from "../redis/connection.js";
import { decodeEntry } from "../redis/mailbox.js";
import { PUBLISH, RELEASE } from "../redis/scripts.js";

/**
 * Ends the mailbox of agent `id` whose process died and which is not
 * restarted: later sends are refused at once, and whoever waits on a
 * request still in it gets AgentNotFoundError instead of a timeout. The
 * dead process's lease on the id may outlive its node's by up to a renewal:
 * it is waited for, `leaseMs` at most. Nothing happens while any process
 * holds the id past that (it is alive there).
 */
export async function endMailbox(redis: RedisCommands, prefix: string, id: string, why: string, leaseMs: number): Promise<void> {
  const deadline = Date.now() + leaseMs;
  let reply = await RELEASE.run(redis, [prefix, id, "agentspace-recovery", "drop"]);
  while (!Array.isArray(reply) && Date.now() < deadline) {
    await sleep(Math.max(20, Math.floor(leaseMs / 20)));
    reply = await RELEASE.run(redis, [prefix, id, "agentspace-recovery", "drop"]);
  }
  if (!Array.isArray(reply) || !Array.isArray(reply[1])) return;
  const error = new AgentNotFoundError(`agent "${id}" was removed: ${why}`);
  const args = [prefix];
  for (const entry of reply[1]) {
    let message: Message;
    try {
      message = decodeEntry(Array.isArray(entry) ? (entry[1] ?? null) : null, id);
    } catch {
      continue; // not a message: nobody to tell
    }
    if (message.to !== id || isAnswer(message)) continue;
    args.push("a", message.from, JSON.stringify(answerTo(message, id, false, error, true)));
  }
  if (args.length > 1) await PUBLISH.run(redis, args);
}
