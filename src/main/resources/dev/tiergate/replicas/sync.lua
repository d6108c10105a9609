-- One replica's heartbeat, demand and slot claims, in one atomic step (see SlotAllocation.grant and .held).
-- KEYS: none declared; every key shares the hash tag of ARGV[1], so they live on one Redis Cluster slot.
-- ARGV[1] key prefix 'tg:replicas:{<fleet>}:', ARGV[2] this replica, ARGV[3] heartbeat TTL in ms,
-- ARGV[4] this replica's demand (JSON, opaque here), then per endpoint: key, want, floor, slots.
-- Returns { grants in argument order, { { name, heartbeat ms left, demand, { endpoint, held, ... } }, ... } }.
local prefix, me, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local members = prefix .. 'members'
redis.call('SADD', members, me)
redis.call('SET', prefix .. 'alive:' .. me, ARGV[4], 'PX', ttl)
local live = {}
for _, name in ipairs(redis.call('SMEMBERS', members)) do
  if redis.call('EXISTS', prefix .. 'alive:' .. name) == 1 then
    live[#live + 1] = name
  else
    -- Its heartbeat expired: it holds nothing any more.
    redis.call('SREM', members, name)
    redis.call('DEL', prefix .. 'held:' .. name)
  end
end
local mine = prefix .. 'held:' .. me
local claimed = {}
local grants = {}
for i = 5, #ARGV, 4 do
  local endpoint, want, floor, slots = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2]), tonumber(ARGV[i + 3])
  local others = 0
  for _, name in ipairs(live) do
    if name ~= me then
      others = others + tonumber(redis.call('HGET', prefix .. 'held:' .. name, endpoint) or '0')
    end
  end
  local grant = math.max(0, math.min(want, slots - others))
  local held = math.max(grant, floor)
  if held > 0 then
    redis.call('HSET', mine, endpoint, held)
  else
    redis.call('HDEL', mine, endpoint)
  end
  claimed[endpoint] = true
  grants[#grants + 1] = grant
end
local before = redis.call('HKEYS', mine)
for _, endpoint in ipairs(before) do
  if not claimed[endpoint] then
    redis.call('HDEL', mine, endpoint)
  end
end
redis.call('PEXPIRE', mine, ttl)
local replicas = {}
for _, name in ipairs(live) do
  local alive = prefix .. 'alive:' .. name
  replicas[#replicas + 1] = { name, redis.call('PTTL', alive), redis.call('GET', alive) or '',
    redis.call('HGETALL', prefix .. 'held:' .. name) }
end
return { grants, replicas }
