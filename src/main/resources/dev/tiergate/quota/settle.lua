-- What this replica hands over after the answer, for requests of one tenant, in the order it happened: their ends
-- (settlements) and, for tenants with no limit to check on admission, their admissions (recorded here instead of
-- before the request, since nothing can refuse them). Several requests in one call, so that a replica applies what
-- happened in the last round trip together.
-- A settlement corrects a request's token reservation to the real usage (refund or charge the difference), releases
-- its concurrency lease, and adds it to the tenant's usage. A recorded admission takes the lease and charges the
-- reservation to the month, as admit.lua does for an admission that passed. Each exactly once: a second call for the
-- same request does nothing, also when the first one's answer was lost (journaled during an outage and replayed), and
-- an admission arriving after its settlement is ignored.
--
-- KEYS[1..5] as in admit.lua; KEYS[6] prefix of the monthly usage hashes, "tg:quota:{tenant}:usage:";
-- KEYS[7] settled  zset  requestId -> until when (ms) its settlement is remembered
-- ARGV[1]: rememberMs (how long a settlement is remembered); ARGV[2]: leaseTtlMs (of recorded admissions); then 10
--       values per entry: kind ('s' settlement, 'a' admission), requestId, promptTokens, completionTokens, tier, model,
--       record (1 = add to usage, 0 = refund only), reservedTokens and month (from the replica, used when the lease
--       expired while Redis was away and the in-flight record with them is gone; '' for none), hosted (1 = served by a
--       hosted upstream: counted as such in the usage too). An admission uses requestId and reservedTokens only.
-- Returns how many entries were applied (those unknown or applied already are not counted).

local t = redis.call('TIME')
local nowS = tonumber(t[1])
local nowMs = nowS * 1000 + math.floor(tonumber(t[2]) / 1000)
local remember = nowMs + tonumber(ARGV[1])
local leaseTtl = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', nowMs)
local y, m, d = civil(nowS)
local thisMonth = string.format('%04d-%02d', y, m)
-- Same hash tag as KEYS[6], so the key lives in the tenant's slot in a Redis Cluster.
local usage = KEYS[6] .. string.format('%04d-%02d', y, m)
local today = string.format('%04d-%02d-%02d', y, m, d) .. '|'

local function recordUsage(prompt, completion, tier, model, hosted)
  local field = today .. tier .. '|' .. model .. '|'
  redis.call('HINCRBY', usage, field .. 'requests', 1)
  redis.call('HINCRBY', usage, field .. 'prompt', prompt)
  redis.call('HINCRBY', usage, field .. 'completion', completion)
  if hosted == '1' then
    redis.call('HINCRBY', usage, field .. 'hosted', 1)
  end
end

-- The requests whose admission and end are both in this call (a short request: its admission waited on this
-- replica for company and its end came meanwhile). Its lease would be taken and given back in the same call, so it
-- is not written at all: the admission is checked as any (not applied, not settled) and the end charges the month
-- the real usage, the sum of the reservation and its correction: 7 commands for the request instead of 17.
local ending = {}
for i = 3, #ARGV, 10 do
  if ARGV[i] == 's' then
    ending[ARGV[i + 1]] = true
  end
end
local paired = {}

local function settle(id, prompt, completion, tier, model, record, reservedArg, monthArg, hosted)
  if paired[id] then
    -- Once: a second end of it in this call finds it settled below.
    paired[id] = nil
    redis.call('HINCRBY', KEYS[5], thisMonth, prompt + completion)
    redis.call('ZADD', KEYS[7], remember, id)
    if record == '1' then
      recordUsage(prompt, completion, tier, model, hosted)
    end
    return 1
  end
  if redis.call('ZSCORE', KEYS[7], id) then
    return 0
  end
  local reserved, month
  local inflight = redis.call('HGET', KEYS[4], id)
  if inflight then
    local sep = string.find(inflight, '|', 1, true)
    reserved = tonumber(string.sub(inflight, 1, sep - 1))
    month = string.sub(inflight, sep + 1)
  elseif monthArg ~= '' then
    -- Its lease expired while Redis was away, which freed the concurrency; the charge is still to correct.
    reserved = tonumber(reservedArg)
    month = monthArg
  else
    return 0
  end
  local delta = prompt + completion - reserved
  if redis.call('ZSCORE', KEYS[1], id) then
    redis.call('HINCRBY', KEYS[2], id, delta)
    redis.call('HINCRBY', KEYS[2], '_sum', delta)
  end
  redis.call('HINCRBY', KEYS[5], month, delta)
  redis.call('ZREM', KEYS[3], id)
  redis.call('HDEL', KEYS[4], id)
  redis.call('ZADD', KEYS[7], remember, id)
  if record == '1' then
    recordUsage(prompt, completion, tier, model, hosted)
  end
  return 1
end

local swept = false
local function admit(id, reserved)
  if paired[id] or redis.call('ZSCORE', KEYS[7], id) or redis.call('HEXISTS', KEYS[4], id) == 1 then
    return 0
  end
  if not swept then
    -- The housekeeping admit.lua does for the admissions it checks.
    dropExpiredLeases(KEYS[3], KEYS[4], nowMs)
    swept = true
  end
  if ending[id] then
    paired[id] = true
    return 1
  end
  takeLease(KEYS[3], KEYS[4], KEYS[5], id, reserved, thisMonth, nowMs, leaseTtl)
  return 1
end

local settled, applied = 0, 0
for i = 3, #ARGV, 10 do
  if ARGV[i] == 'a' then
    applied = applied + admit(ARGV[i + 1], tonumber(ARGV[i + 7]))
  else
    local one = settle(ARGV[i + 1], tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3]), ARGV[i + 4], ARGV[i + 5],
      ARGV[i + 6], ARGV[i + 7], ARGV[i + 8], ARGV[i + 9])
    settled = settled + one
    applied = applied + one
  end
end
if settled > 0 then
  -- What is remembered goes with the last of it: a tenant that stops sending leaves no set behind.
  redis.call('PEXPIREAT', KEYS[7], remember)
end
return applied
