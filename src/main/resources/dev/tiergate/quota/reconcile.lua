-- End of one request: correct its token reservation to the real usage (refund or charge the difference), release
-- its concurrency lease, and add it to the tenant's usage. Exactly once: a second call for the same request does
-- nothing, also when the first one's answer was lost (a settlement journaled during an outage and replayed).
--
-- KEYS[1..5] as in admit.lua; KEYS[6] prefix of the monthly usage hashes, "tg:quota:{tenant}:usage:";
-- KEYS[7] settled  zset  requestId -> until when (ms) its settlement is remembered
-- ARGV: requestId, promptTokens, completionTokens, tier, model, record (1 = add to usage, 0 = refund only),
--       reservedTokens and month (from the replica, used when the lease expired while Redis was away and the
--       in-flight record with them is gone; '' for none), rememberMs (how long the settlement is remembered),
--       hosted (1 = served by a hosted upstream: counted as such in the usage too)
-- Returns the token difference applied, or nil when the request was unknown or already settled.

local id = ARGV[1]
local t = redis.call('TIME')
local nowS = tonumber(t[1])
local nowMs = nowS * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[7], '-inf', nowMs)
if redis.call('ZSCORE', KEYS[7], id) then
  return nil
end
local reserved, month
local record = redis.call('HGET', KEYS[4], id)
if record then
  local sep = string.find(record, '|', 1, true)
  reserved = tonumber(string.sub(record, 1, sep - 1))
  month = string.sub(record, sep + 1)
elseif ARGV[8] and ARGV[8] ~= '' then
  -- Its lease expired while Redis was away, which freed the concurrency; the charge is still to correct.
  reserved = tonumber(ARGV[7])
  month = ARGV[8]
else
  return nil
end
local prompt = tonumber(ARGV[2])
local completion = tonumber(ARGV[3])
local delta = prompt + completion - reserved

if redis.call('ZSCORE', KEYS[1], id) then
  redis.call('HINCRBY', KEYS[2], id, delta)
  redis.call('HINCRBY', KEYS[2], '_sum', delta)
end
redis.call('HINCRBY', KEYS[5], month, delta)
redis.call('ZREM', KEYS[3], id)
redis.call('HDEL', KEYS[4], id)
redis.call('ZADD', KEYS[7], nowMs + tonumber(ARGV[9]), id)

if ARGV[6] == '1' then
  local y, m, d = civil(nowS)
  -- Same hash tag as KEYS[6], so the key lives in the tenant's slot in a Redis Cluster.
  local usage = KEYS[6] .. string.format('%04d-%02d', y, m)
  local field = string.format('%04d-%02d-%02d', y, m, d) .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|'
  redis.call('HINCRBY', usage, field .. 'requests', 1)
  redis.call('HINCRBY', usage, field .. 'prompt', prompt)
  redis.call('HINCRBY', usage, field .. 'completion', completion)
  if ARGV[10] == '1' then
    redis.call('HINCRBY', usage, field .. 'hosted', 1)
  end
end
return delta
