import { Script } from "../redis/scripts.js";

/**
 * The scripts that keep the directory of nodes and placements consistent.
 * Each is one atomic step, so two managers, or a manager and a node, never
 * put one agent in two places or a node past its capacity. Keys are built
 * from the namespace's prefix (ARGV[1]), as in src/redis/scripts.ts:
 *
 *   nodes                hash: node token → its description as JSON (one entry per run of a node)
 *   node-lease:<name>    string: the token of the run holding the name, with a TTL
 *   node-agents:<token>  set: the agent ids placed on that run
 *   placed               hash: agent id → the token of the run it is placed on
 *   specs                hash: agent id → how to start it (class, init, restart) as JSON
 *   draining             set: tokens of runs handing their agents away
 *   recovering:<token>   string: who re-places a dead run's agents, with a TTL
 */

/**
 * Places agent ARGV[2] of class ARGV[3] on a live node: the one named ARGV[4],
 * or (empty) the least loaded that offers the class and has room. ARGV[5]
 * empty: a new placement, with spec ARGV[6]; else a move away from that
 * token, refused if the agent is not placed there any more.
 * Returns {"ok", token, name}, or {reason, …}: "placed" (already placed,
 * with its token), "moved", "no-node" (no live node of that name, or none
 * at all), "no-class" (none offers the class), "full" (none has room).
 */
export const PLACE = new Script(`
local prefix, id, class, target, from, spec = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local placed = prefix .. 'placed'
local current = redis.call('HGET', placed, id)
if from == '' then
  if current then return { 'placed', current } end
elseif current ~= from then
  return { 'moved', current or '' }
end
local best, best_name, best_load, best_share
local named, offering = false, false
local nodes = redis.call('HGETALL', prefix .. 'nodes')
for i = 1, #nodes, 2 do
  local token = nodes[i]
  local ok, info = pcall(cjson.decode, nodes[i + 1])
  if ok and type(info) == 'table' and type(info.name) == 'string' and token ~= from
    and (target == '' or info.name == target)
    and redis.call('GET', prefix .. 'node-lease:' .. info.name) == token
    and redis.call('SISMEMBER', prefix .. 'draining', token) == 0 then
    named = true
    local offers = false
    if type(info.classes) == 'table' then
      for _, name in ipairs(info.classes) do if name == class then offers = true end end
    end
    local capacity = tonumber(info.capacity) or 0
    if offers then
      offering = true
      local load = redis.call('SCARD', prefix .. 'node-agents:' .. token)
      -- Least loaded = the smallest share of its capacity in use; then fewest agents; then by name.
      local share = load / math.max(capacity, 1)
      if load < capacity and (best == nil or share < best_share
          or (share == best_share and (load < best_load or (load == best_load and info.name < best_name)))) then
        best, best_name, best_load, best_share = token, info.name, load, share
      end
    end
  end
end
if not best then
  if not named then return { 'no-node' } end
  if not offering then return { 'no-class' } end
  return { 'full' }
end
redis.call('HSET', placed, id, best)
if from == '' then
  redis.call('HSET', prefix .. 'specs', id, spec)
else
  redis.call('SREM', prefix .. 'node-agents:' .. from, id)
end
redis.call('SADD', prefix .. 'node-agents:' .. best, id)
return { 'ok', best, best_name }
`);

/** Forgets the placement of agent ARGV[2] on token ARGV[3] (nothing when it is placed elsewhere now). Returns 1 if forgotten. */
export const UNPLACE = new Script(`
local prefix, id, token = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', prefix .. 'placed', id) ~= token then return 0 end
redis.call('HDEL', prefix .. 'placed', id)
redis.call('HDEL', prefix .. 'specs', id)
redis.call('SREM', prefix .. 'node-agents:' .. token, id)
return 1
`);

/**
 * Node ARGV[2] (run token ARGV[3]) takes (ARGV[6] "take") or renews
 * ("renew") its name for ARGV[4] ms and publishes its description ARGV[5].
 * Refused (0) while another run holds the name; and a renewal is refused
 * once the run's lease ran out and its agents are being (or were)
 * re-placed: it must not come back as if nothing happened.
 */
export const HOLD_NODE = new Script(`
local prefix, name, token, lease_ms, info, mode = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
local lease = prefix .. 'node-lease:' .. name
local holder = redis.call('GET', lease)
if holder and holder ~= token then return 0 end
if not holder and mode == 'renew' then
  if redis.call('HEXISTS', prefix .. 'nodes', token) == 0 then return 0 end
  if redis.call('EXISTS', prefix .. 'recovering:' .. token) == 1 then return 0 end
end
redis.call('SET', lease, token, 'PX', lease_ms)
redis.call('HSET', prefix .. 'nodes', token, info)
return 1
`);

/**
 * Claims the recovery of run ARGV[2] for ARGV[3] (for ARGV[4] ms): only
 * when that run's lease is gone and nobody else is recovering it. Returns
 * {name, ids…}: its node's name and the agents placed on it; or 0.
 */
export const CLAIM_RECOVERY = new Script(`
local prefix, token, claimer, ttl = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local raw = redis.call('HGET', prefix .. 'nodes', token)
if not raw then return 0 end
local ok, info = pcall(cjson.decode, raw)
local name = (ok and type(info) == 'table' and type(info.name) == 'string') and info.name or ''
if name ~= '' and redis.call('GET', prefix .. 'node-lease:' .. name) == token then return 0 end
if not redis.call('SET', prefix .. 'recovering:' .. token, claimer, 'NX', 'PX', ttl) then return 0 end
local result = { name }
for _, id in ipairs(redis.call('SMEMBERS', prefix .. 'node-agents:' .. token)) do result[#result + 1] = id end
return result
`);

/**
 * Ends the recovery of run ARGV[2] by ARGV[3]: once no agent is left on it,
 * the run is forgotten; otherwise (no node could take some) the next look tries again.
 */
export const END_RECOVERY = new Script(`
local prefix, token, claimer = ARGV[1], ARGV[2], ARGV[3]
local claim = prefix .. 'recovering:' .. token
if redis.call('GET', claim) ~= claimer then return 0 end
redis.call('DEL', claim)
if redis.call('SCARD', prefix .. 'node-agents:' .. token) == 0 then
  redis.call('HDEL', prefix .. 'nodes', token)
  redis.call('SREM', prefix .. 'draining', token)
  return 1
end
return 0
`);

/**
 * Node ARGV[2] (run ARGV[3]) leaves after a drain: its name is free at
 * once; the run is forgotten when no agent is left on it, else its agents
 * are re-placed like a dead node's.
 */
export const LEAVE_NODE = new Script(`
local prefix, name, token = ARGV[1], ARGV[2], ARGV[3]
local lease = prefix .. 'node-lease:' .. name
if redis.call('GET', lease) == token then redis.call('DEL', lease) end
if redis.call('SCARD', prefix .. 'node-agents:' .. token) == 0 then
  redis.call('HDEL', prefix .. 'nodes', token)
  redis.call('SREM', prefix .. 'draining', token)
end
return 1
`);
