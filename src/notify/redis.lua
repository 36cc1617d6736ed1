-- The Redis replay guard's one script (src/notify/redis.rs): Redis runs a script atomically, so
-- each step below is a compare-and-set on the delivery's token.
--
-- KEYS[1]  the notification id's key
-- ARGV[1]  the step: claim, commit or release
-- ARGV[2]  the delivery's claim token
-- ARGV[3]  claim: the lease, commit: the TTL, in milliseconds; 0 for never expiring
--
-- The key holds the token of the delivery that claimed the id, or 'handled' once one succeeded;
-- it expires with the lease, or the TTL (PX), which is also how handled ids are purged.
-- Returns 0 for claimed (or done), 1 for handled, 2 for a claim in progress.
local key, step, token, ms = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local held = redis.call('GET', key)

local function set(value)
  if ms == '0' then
    return redis.call('SET', key, value)
  end
  return redis.call('SET', key, value, 'PX', ms)
end

if step == 'claim' then
  if held == 'handled' then
    return 1
  elseif held then
    return 2
  end
  set(token)
  return 0
elseif step == 'commit' then
  -- Its own claim, or one that lapsed with nobody else holding the id; never another delivery's.
  if held == token or not held then
    set('handled')
  end
  return 0
elseif step == 'release' then
  if held == token then
    redis.call('DEL', key)
  end
  return 0
end
return redis.error_reply('unknown step ' .. tostring(step))
