-- Prepended to admit.lua and settle.lua, so that both count months, take leases and drop expired ones the same way.

-- The UTC calendar date of a Unix time in seconds (civil_from_days, H. Hinnant).
-- Returns year, month, day of month, days in that month, and days since the epoch.
local function civil(nowS)
  local days = math.floor(nowS / 86400)
  local z = days + 719468
  local era = math.floor(z / 146097)
  local doe = z - era * 146097
  local yoe = math.floor((doe - math.floor(doe / 1460) + math.floor(doe / 36524) - math.floor(doe / 146096)) / 365)
  local y = yoe + era * 400
  local doy = doe - (365 * yoe + math.floor(yoe / 4) - math.floor(yoe / 100))
  local mp = math.floor((5 * doy + 2) / 153)
  local d = doy - math.floor((153 * mp + 2) / 5) + 1
  local m = (mp < 10) and (mp + 3) or (mp - 9)
  if m <= 2 then y = y + 1 end
  local dim = ({ 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 })[m]
  if m == 2 and (y % 4 == 0 and (y % 100 ~= 0 or y % 400 == 0)) then dim = 29 end
  return y, m, d, dim, days
end

-- HDEL of many fields, in slices that stay within Lua's limit on unpacked values.
local function hdelAll(key, fields)
  for i = 1, #fields, 1000 do
    redis.call('HDEL', key, unpack(fields, i, math.min(i + 999, #fields)))
  end
end

-- Drops the leases (zset requestId -> expiry ms) that expired by nowMs, with their in-flight records (hash): the
-- requests of a replica that stopped renewing them (it crashed, or lost Redis for a lease's life).
local function dropExpiredLeases(leases, inflight, nowMs)
  local dead = redis.call('ZRANGEBYSCORE', leases, '-inf', nowMs)
  if #dead > 0 then
    redis.call('ZREMRANGEBYSCORE', leases, '-inf', nowMs)
    hdelAll(inflight, dead)
  end
end

-- Records an admitted request: its lease (zset requestId -> expiry ms), its in-flight record ("reserved|month", what
-- its settlement corrects) and the reservation charged to the month's budget hash.
local function takeLease(leases, inflight, budget, id, tokens, month, nowMs, leaseTtl)
  redis.call('ZADD', leases, nowMs + leaseTtl, id)
  redis.call('HSET', inflight, id, tokens .. '|' .. month)
  redis.call('PEXPIRE', leases, leaseTtl * 2)
  redis.call('PEXPIRE', inflight, leaseTtl * 2)
  redis.call('HINCRBY', budget, month, tokens)
end
