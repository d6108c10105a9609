-- Admission of one request: checks every limit of a tenant and, only if all pass, records the request.
-- One round trip, atomic; the time is Redis's own (TIME), never the caller's clock.
--
-- KEYS[1] window     zset  requestId -> admission time (us); the sliding minute of requests
-- KEYS[2] windowTok  hash  requestId -> tokens charged in the window; field "_sum" = their total
-- KEYS[3] leases     zset  requestId -> lease expiry (ms); the requests in flight
-- KEYS[4] inflight   hash  requestId -> "reservedTokens|month"; what reconciliation must correct
-- KEYS[5] budget     hash  "YYYY-MM" -> tokens charged in that month
-- ARGV: requestId, tokens to reserve, rpm, tpm, maxConcurrent, monthlyBudget (-1 = no limit), leaseTtlMs, windowMs
--
-- Returns {admitted (1|0), limit ('' when admitted), retryAfterMs, rpmRemaining, tpmRemaining, month,
--          inFlight, monthSpent} (remaining -1 when that limit is not set).

local id = ARGV[1]
local tokens = tonumber(ARGV[2])
local rpm = tonumber(ARGV[3])
local tpm = tonumber(ARGV[4])
local maxConcurrent = tonumber(ARGV[5])
local budget = tonumber(ARGV[6])
local leaseTtl = tonumber(ARGV[7])
local windowMs = tonumber(ARGV[8])

local t = redis.call('TIME')
local nowS = tonumber(t[1])
local nowUs = nowS * 1000000 + tonumber(t[2])
local nowMs = math.floor(nowUs / 1000)

-- Calendar month (UTC) of Redis's time, and milliseconds until the next one.
local y, m, d, dim, days = civil(nowS)
local month = string.format('%04d-%02d', y, m)
local untilNextMonthMs = ((days + dim - d + 1) * 86400 - nowS) * 1000

-- Housekeeping (changes no live count): drop window entries older than a minute, and expired leases.
local windowed = rpm >= 0 or tpm >= 0
local count, used = 0, 0
if windowed then
  local cutoff = nowUs - windowMs * 1000
  local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
  if #old > 0 then
    local freed = 0
    for _, member in ipairs(old) do
      freed = freed + (tonumber(redis.call('HGET', KEYS[2], member)) or 0)
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
    hdelAll(KEYS[2], old)
    redis.call('HINCRBY', KEYS[2], '_sum', -freed)
  end
  count = redis.call('ZCARD', KEYS[1])
  used = tonumber(redis.call('HGET', KEYS[2], '_sum') or '0')
end
dropExpiredLeases(KEYS[3], KEYS[4], nowMs)
local inFlight = redis.call('ZCARD', KEYS[3])
local spent = tonumber(redis.call('HGET', KEYS[5], month) or '0')

local function reject(limit, retryMs)
  local rpmLeft = (rpm >= 0) and math.max(0, rpm - count) or -1
  local tpmLeft = (tpm >= 0) and math.max(0, tpm - used) or -1
  return { 0, limit, math.max(1, math.ceil(retryMs)), rpmLeft, tpmLeft, month, inFlight, spent }
end

if rpm >= 0 and count + 1 > rpm then
  -- Free once the (count - rpm + 1)-th oldest entry leaves the window.
  local entry = redis.call('ZRANGE', KEYS[1], count - rpm, count - rpm, 'WITHSCORES')
  local retry = (#entry == 2) and ((tonumber(entry[2]) + windowMs * 1000 - nowUs) / 1000) or windowMs
  return reject('requests_per_minute', retry)
end
if tpm >= 0 and used + tokens > tpm then
  local retry = windowMs
  if tokens <= tpm then
    local entries = redis.call('ZRANGE', KEYS[1], 0, 999, 'WITHSCORES')
    local freed = 0
    for i = 1, #entries, 2 do
      freed = freed + (tonumber(redis.call('HGET', KEYS[2], entries[i])) or 0)
      if used - freed + tokens <= tpm then
        retry = (tonumber(entries[i + 1]) + windowMs * 1000 - nowUs) / 1000
        break
      end
    end
  end
  return reject('tokens_per_minute', retry)
end
if maxConcurrent >= 0 and inFlight + 1 > maxConcurrent then
  return reject('max_concurrent', 1000)
end
if budget >= 0 and spent + tokens > budget then
  return reject('monthly_token_budget', untilNextMonthMs)
end

-- Admitted: record the request everywhere at once.
if windowed then
  redis.call('ZADD', KEYS[1], nowUs, id)
  redis.call('HSET', KEYS[2], id, tokens)
  redis.call('HINCRBY', KEYS[2], '_sum', tokens)
  redis.call('PEXPIRE', KEYS[1], windowMs + 1000)
  redis.call('PEXPIRE', KEYS[2], windowMs + 1000)
end
takeLease(KEYS[3], KEYS[4], KEYS[5], id, tokens, month, nowMs, leaseTtl)
local rpmLeft = (rpm >= 0) and (rpm - count - 1) or -1
local tpmLeft = (tpm >= 0) and (tpm - used - tokens) or -1
return { 1, '', 0, rpmLeft, tpmLeft, month, inFlight + 1, spent + tokens }
