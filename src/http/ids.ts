/**
 * agentspace ids on Academy's exchange, where every mailbox is a UUID: an id
 * that is a UUID is itself (so an Academy agent is addressed by its uuid);
 * any other id is the UUID v5 of its name, carried as the entity's name.
 */
import { createHash } from "node:crypto";
import { isUuid, type EntityId } from "../exchange/wire.js";

/** The UUID v5 namespace of agentspace agent ids. */
const ID_NAMESPACE = Buffer.from("5b1d7f0e3c2a4e6b9a8f0c1d2e3f4a5b", "hex");

/** Ids hashed lately: every message's sender and receiver are. Emptied when full. */
const hashed = new Map<string, string>();
const HASHED_MAX = 65_536;

export function uidOf(id: string): string {
  if (isUuid(id)) return id.toLowerCase();
  let uid = hashed.get(id);
  if (uid === undefined) {
    if (hashed.size === HASHED_MAX) hashed.clear();
    uid = uuidV5(id);
    hashed.set(id, uid);
  }
  return uid;
}

function uuidV5(id: string): string {
  const hash = createHash("sha1").update(ID_NAMESPACE).update(id, "utf8").digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function entityOf(id: string, role: EntityId["role"] = "agent"): EntityId {
  return { uid: uidOf(id), name: id, role };
}

/**
 * The agentspace id of a sender: its name when the name hashes to its uid
 * (an agentspace agent), else its uid (an Academy agent or user, whose name
 * is display only and may claim anything).
 */
export function idOf(entity: EntityId): string {
  return entity.name !== null && uidOf(entity.name) === entity.uid ? entity.name : entity.uid;
}
