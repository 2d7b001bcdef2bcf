import { Keys } from "../../src/redis/index.js";
import { rawClient } from "../helpers/redis.js";

/** Entries ever added to `id`'s mailbox stream (XINFO STREAM entries-added): what went through Redis rather than direct. */
export async function entriesAdded(namespace: string, id: string): Promise<number> {
  const client = await rawClient();
  try {
    const info = (await client.sendCommand(["XINFO", "STREAM", new Keys(namespace).mailbox(id)])) as unknown[];
    return Number(info[info.indexOf("entries-added") + 1]);
  } finally {
    client.destroy();
  }
}
