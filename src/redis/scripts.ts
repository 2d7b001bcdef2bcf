import { createHash } from "node:crypto";
import type { RedisCommands, Reply } from "./connection.js";

/**
 * A Lua script run by its SHA1 (EVALSHA), loaded again (EVAL) when Redis does
 * not know it: after a restart, or on a server this process has not used.
 * Scripts build their keys from the namespace's prefix (ARGV[1]); every such
 * key carries the namespace's hash tag, so they share one slot.
 */
export class Script {
  readonly #source: string;
  readonly #sha: string;

  constructor(source: string) {
    this.#source = source;
    this.#sha = createHash("sha1").update(source).digest("hex");
  }

  async run(client: RedisCommands, args: ReadonlyArray<string>): Promise<Reply> {
    try {
      return await client.sendCommand(["EVALSHA", this.#sha, "0", ...args]);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
      return client.sendCommand(["EVAL", this.#source, "0", ...args]);
    }
  }
}

/** Entries an activations stream keeps at most (trimmed roughly): activations not yet taken, as asked again by their next messages. */
export const ACTIVATIONS_KEPT = 100_000;

/** How long an asked-for activation stands before a message (or a serving process's look, see ORPHANS) may ask again. */
export const ACTIVATING_MS = 10_000;

/**
 * Lua shared by the scripts that may find an id of a virtual kind waiting
 * with nobody holding it: asks the kind's serving processes to activate it
 * (an entry in the kind's activations stream), once per ACTIVATING_MS.
 * Needs \`prefix\` in scope.
 */
const WAKE = `
local function wake(id, kind)
  if redis.call('EXISTS', prefix .. 'lease:' .. id) == 1 then return end
  if redis.call('SET', prefix .. 'activating:' .. id, '1', 'NX', 'PX', ${ACTIVATING_MS}) then
    redis.call('XADD', prefix .. 'activations:' .. kind, 'MAXLEN', '~', '${ACTIVATIONS_KEPT}', '*', 'id', id)
  end
end
`;

/**
 * Puts a batch of messages into mailboxes, refusing what must be refused.
 * ARGV: prefix, then per message: kind ("d" an action to one agent, bounded;
 * "a" an answer, never bounded; "b" a broadcast), to, body.
 * Returns per message: its stream entry id when put, 1 no such mailbox, 2 mailbox full; for a
 * broadcast, the ids of live agents whose mailboxes were full (the rest got
 * it, or, offline with a full mailbox, miss it: the bound of what waits for them).
 * An action to an id of a registered virtual kind (see SERVE) is taken
 * whether or not its mailbox is open (with the kind's bound), and asks for
 * its activation when nobody holds it. Answers activate nothing: one to an
 * instance that passivated has nobody waiting for it.
 */
export const PUBLISH = new Script(`
local prefix = ARGV[1]
local registry = prefix .. 'mailboxes'
local results = {}
local n = 0
-- Per mailbox looked at in this batch: its bound and its length so far (a burst to one agent reads them once).
local bounds, lengths = {}, {}
-- The virtual kinds, read once per batch: { prefix, bound, prefix, bound, ... }.
local kinds = nil
local function kindOf(id)
  if kinds == nil then kinds = redis.call('HGETALL', prefix .. 'virtual') end
  for i = 1, #kinds, 2 do
    local start, bound = kinds[i], tonumber(kinds[i + 1])
    -- Redis is shared: a kind whose bound is not a number (not written by SERVE) is no kind.
    if bound and string.sub(id, 1, #start) == start then return start, bound end
  end
  return nil, nil
end
${WAKE}
local function look(id)
  local bound = bounds[id]
  if bound == nil then
    bound = redis.call('HGET', registry, id)
    bound = bound and tonumber(bound) or false
    bounds[id] = bound
    if bound then lengths[id] = redis.call('XLEN', prefix .. 'mailbox:' .. id) end
  end
  return bound
end
local function put(id, body)
  local entry = redis.call('XADD', prefix .. 'mailbox:' .. id, '*', 'm', body)
  lengths[id] = lengths[id] + 1
  return entry
end
for i = 2, #ARGV, 3 do
  local kind, to, body = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  n = n + 1
  if kind == 'b' then
    local open = redis.call('HKEYS', registry)
    local full = {}
    for _, id in ipairs(open) do
      local bound = look(id)
      if bound and lengths[id] < bound then
        put(id, body)
      elseif bound and redis.call('EXISTS', prefix .. 'lease:' .. id) == 1 then
        -- A live agent's full mailbox refuses, as in every space; an offline one's just misses it.
        full[#full + 1] = id
      end
    end
    results[n] = full
  else
    local bound = look(to)
    local virtual = nil
    if kind == 'd' then
      local start, kindBound = kindOf(to)
      virtual = start
      if not bound and start then
        -- Not active: its mailbox is opened (or found with what already waits), bounded as its kind says.
        local key = prefix .. 'mailbox:' .. to
        redis.pcall('XGROUP', 'CREATE', key, 'agents', '0', 'MKSTREAM')
        bound = kindBound
        bounds[to] = bound
        lengths[to] = redis.call('XLEN', key)
      end
    end
    if not bound then
      results[n] = 1
    elseif kind == 'a' or lengths[to] < bound then
      results[n] = put(to, body)
      if virtual then wake(to, virtual) end
    else
      results[n] = 2
    end
  end
end
return results
`);

/**
 * Registers virtual kind ARGV[2] (an id prefix) of class ARGV[3] in the
 * namespace, its ids' mailboxes bounded by ARGV[4] while inactive, and its
 * activations stream with its consumer group. Refused when the prefix is
 * another class's, or overlaps another kind's: returns `{0, prefix, class}`
 * of the kind in the way, else 1.
 */
export const SERVE = new Script(`
local prefix, start, class, bound = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local classes = prefix .. 'virtual-class'
local known = redis.call('HGETALL', classes)
for i = 1, #known, 2 do
  local other, otherClass = known[i], known[i + 1]
  local overlaps = string.sub(start, 1, #other) == other or string.sub(other, 1, #start) == start
  if (other == start and otherClass ~= class) or (other ~= start and overlaps) then return { 0, other, otherClass } end
end
redis.call('HSET', classes, start, class)
redis.call('HSET', prefix .. 'virtual', start, bound)
redis.pcall('XGROUP', 'CREATE', prefix .. 'activations:' .. start, 'agents', '0', 'MKSTREAM')
return 1
`);

/**
 * What a process serving virtual kinds ARGV[2…] looks at every lease: an
 * active id of such a kind whose holder died (its lease ran out, nobody
 * gave it up) is asked to activate again when messages wait for it, and
 * forgotten (registry entry and empty stream) when none do, so broadcasts
 * stop counting it.
 */
export const ORPHANS = new Script(`
local prefix = ARGV[1]
local registry = prefix .. 'mailboxes'
${WAKE}
local asked = 0
for _, id in ipairs(redis.call('HKEYS', registry)) do
  for i = 2, #ARGV do
    local start = ARGV[i]
    if string.sub(id, 1, #start) == start and redis.call('EXISTS', prefix .. 'lease:' .. id) == 0 then
      local key = prefix .. 'mailbox:' .. id
      if redis.call('XLEN', key) > 0 then
        wake(id, start)
        asked = asked + 1
      else
        redis.call('HDEL', registry, id)
        redis.call('DEL', key)
      end
      break
    end
  end
end
return asked
`);

/**
 * Takes agent id ARGV[2] for the process whose token is ARGV[3]: the lease
 * for ARGV[4] ms (refused, 0, while another token holds it), the mailbox
 * stream and its consumer group (kept if they exist: messages sent while the
 * id was offline wait there), the registry entry with bound ARGV[5]. Entries
 * another process took and never acknowledged (it died, or left its
 * mailbox for a restart) become this process's, to be delivered again.
 * Returns 1 once it holds the id.
 */
export const ACQUIRE = new Script(`
local prefix, id, token, lease_ms, bound = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local lease = prefix .. 'lease:' .. id
local holder = redis.call('GET', lease)
if holder and holder ~= token then return 0 end
redis.call('SET', lease, token, 'PX', lease_ms)
-- An activation asked for is done: the next one is asked for once this holder is gone.
redis.call('DEL', prefix .. 'activating:' .. id)
local key = prefix .. 'mailbox:' .. id
redis.pcall('XGROUP', 'CREATE', key, 'agents', '0', 'MKSTREAM')
redis.call('HSET', prefix .. 'mailboxes', id, bound)
local consumers = redis.call('XINFO', 'CONSUMERS', key, 'agents')
for _, consumer in ipairs(consumers) do
  local name = consumer[2]
  if name ~= token then
    while true do
      local pending = redis.call('XPENDING', key, 'agents', '-', '+', 1000, name)
      if #pending == 0 then break end
      local claim = { 'XCLAIM', key, 'agents', token, '0' }
      for _, entry in ipairs(pending) do claim[#claim + 1] = entry[1] end
      claim[#claim + 1] = 'JUSTID'
      local claimed = {}
      for _, entry_id in ipairs(redis.call(unpack(claim))) do claimed[entry_id] = true end
      -- An entry deleted meanwhile is not claimed: acknowledge it, or it would stay pending forever.
      for _, entry in ipairs(pending) do
        if not claimed[entry[1]] then redis.call('XACK', key, 'agents', entry[1]) end
      end
      local still = redis.call('XPENDING', key, 'agents', '-', '+', 1, name)
      if #still == 0 then break end
    end
    redis.call('XGROUP', 'DELCONSUMER', key, 'agents', name)
  end
end
return { 1, redis.call('GET', prefix .. 'state:' .. id) }
`);

/**
 * Renews the leases of token ARGV[2] for ARGV[3] ms on ids ARGV[4…]; one
 * that expired unclaimed is taken again. Returns the ids another token holds now.
 */
export const RENEW = new Script(`
local prefix, token, lease_ms = ARGV[1], ARGV[2], ARGV[3]
local lost = {}
for i = 4, #ARGV do
  local lease = prefix .. 'lease:' .. ARGV[i]
  local holder = redis.call('GET', lease)
  if holder == token then
    redis.call('PEXPIRE', lease, lease_ms)
  elseif not holder then
    redis.call('SET', lease, token, 'PX', lease_ms)
  else
    lost[#lost + 1] = ARGV[i]
  end
end
return lost
`);

/**
 * Gives up id ARGV[2] held by token ARGV[3], the lease first, then as ARGV[4] says:
 * - "drop": the mailbox goes too (its stream, its registry entry, and a
 *   durable agent's state and applied ids), so later sends are refused at once;
 * - "keep": the mailbox stays open, for the id's next holder (a move, a rolling restart);
 * - "passivate": a virtual agent of kind ARGV[5] leaves its registry entry
 *   (broadcasts skip it) and keeps its state; what still waits in its stream
 *   asks for its next activation, and an empty stream goes;
 * - "refuse": a virtual agent that could not be activated: its registry entry
 *   and stream go (what waited is returned, for its senders to be told), its state stays.
 * Nothing happens when another token holds the id (it is theirs now).
 * Returns 0 when it was not ours, else `{1, entries}`: what an ended mailbox still held.
 */
export const RELEASE = new Script(`
local prefix, id, token, mode, kind = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
${WAKE}
local lease = prefix .. 'lease:' .. id
local holder = redis.call('GET', lease)
if holder and holder ~= token then return 0 end
redis.call('DEL', lease)
local key = prefix .. 'mailbox:' .. id
local left = {}
if mode == 'drop' then
  left = redis.call('XRANGE', key, '-', '+')
  redis.call('HDEL', prefix .. 'mailboxes', id)
  -- A durable agent's state ends with its mailbox (kept, like it, for a move or a rolling restart).
  redis.call('DEL', key, prefix .. 'state:' .. id, prefix .. 'applied:' .. id, prefix .. 'applied-order:' .. id)
elseif mode == 'passivate' then
  redis.call('HDEL', prefix .. 'mailboxes', id)
  if redis.call('XLEN', key) > 0 then wake(id, kind) else redis.call('DEL', key) end
elseif mode == 'refuse' then
  left = redis.call('XRANGE', key, '-', '+')
  redis.call('HDEL', prefix .. 'mailboxes', id)
  redis.call('DEL', key, prefix .. 'activating:' .. id)
end
return { 1, left }
`);

/** Messages whose answers a durable agent's record keeps, per agent: a copy delivered again within this many is not applied again. */
export const APPLIED_WINDOW = 1_000;

/**
 * Writes durable agent ARGV[2]'s state ARGV[5] for token ARGV[3] (lease
 * ARGV[4] ms), in one step with what goes with it, for each message it
 * handled since its last write (ARGV[7…], four per message: its stream
 * entry, '' when it came another way; its id; its answer as JSON, '' when
 * nobody reads it; the answer's receiver): the entry's acknowledgement, the
 * record that the id was applied with its answer (the last ARGV[6] kept),
 * and the answer put into its receiver's mailbox (when it has one), so a
 * crash right after the write cannot lose it.
 * Refused (0, nothing written) unless the token holds the lease: a holder
 * that stalled past its lease must not overwrite its successor's state. A
 * lease that ran out with nobody taking it is taken again, as RENEW does.
 * Returns 1 once written.
 */
export const COMMIT = new Script(`
local prefix, id, token, lease_ms, state, window = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local lease = prefix .. 'lease:' .. id
local holder = redis.call('GET', lease)
if holder and holder ~= token then return 0 end
if not holder then redis.call('SET', lease, token, 'PX', lease_ms) end
redis.call('SET', prefix .. 'state:' .. id, state)
local key = prefix .. 'mailbox:' .. id
local applied, order = prefix .. 'applied:' .. id, prefix .. 'applied-order:' .. id
for i = 7, #ARGV, 4 do
  local entry, message, answer, to = ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3]
  if entry ~= '' then
    redis.call('XACK', key, 'agents', entry)
    redis.call('XDEL', key, entry)
  end
  if redis.call('HSETNX', applied, message, answer) == 1 then
    if redis.call('RPUSH', order, message) > window then redis.call('HDEL', applied, redis.call('LPOP', order)) end
  end
  -- Answers are never bounded: they are what a full mailbox's agent waits for.
  if answer ~= '' and redis.call('HEXISTS', prefix .. 'mailboxes', to) == 1 then
    redis.call('XADD', prefix .. 'mailbox:' .. to, '*', 'm', answer)
  end
end
return 1
`);

/**
 * Where agents ARGV[2…] live: per id `{token, address, secret}` of the
 * process holding its lease (address and secret false when that process
 * takes no direct connections), or `{false}` when no process holds it.
 */
export const LOCATE = new Script(`
local prefix = ARGV[1]
local found = {}
for i = 2, #ARGV do
  local holder = redis.call('GET', prefix .. 'lease:' .. ARGV[i])
  if holder then
    local endpoint = redis.call('HMGET', prefix .. 'endpoint:' .. holder, 'address', 'secret')
    found[#found + 1] = { holder, endpoint[1], endpoint[2] }
  else
    found[#found + 1] = { false }
  end
end
return found
`);

/** Deletes process ARGV[2]'s endpoint if it still names address ARGV[3] (a connect to it failed). */
export const FORGET_ENDPOINT = new Script(`
local key = ARGV[1] .. 'endpoint:' .. ARGV[2]
if redis.call('HGET', key, 'address') == ARGV[3] then return redis.call('DEL', key) end
return 0
`);
