-- End of one request: correct its token reservation to the real usage (refund or charge the difference), release
-- its concurrency lease, and add it to the tenant's usage. Idempotent: a second call for the same request does nothing.
--
-- KEYS[1..5] as in admit.lua; KEYS[6] prefix of the monthly usage hashes, "tg:quota:{tenant}:usage:"
-- ARGV: requestId, promptTokens, completionTokens, tier, model, record (1 = add to usage, 0 = refund only)
-- Returns the token difference applied, or nil when the request was unknown (already reconciled, or its lease expired).

local id = ARGV[1]
local record = redis.call('HGET', KEYS[4], id)
if not record then
  return nil
end
local sep = string.find(record, '|', 1, true)
local reserved = tonumber(string.sub(record, 1, sep - 1))
local month = string.sub(record, sep + 1)
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

if ARGV[6] == '1' then
  local t = redis.call('TIME')
  local y, m, d = civil(tonumber(t[1]))
  -- Same hash tag as KEYS[6], so the key lives in the tenant's slot in a Redis Cluster.
  local usage = KEYS[6] .. string.format('%04d-%02d', y, m)
  local field = string.format('%04d-%02d-%02d', y, m, d) .. '|' .. ARGV[4] .. '|' .. ARGV[5] .. '|'
  redis.call('HINCRBY', usage, field .. 'requests', 1)
  redis.call('HINCRBY', usage, field .. 'prompt', prompt)
  redis.call('HINCRBY', usage, field .. 'completion', completion)
end
return delta
