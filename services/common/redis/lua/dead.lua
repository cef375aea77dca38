-- A dead-lettered payload of one HF, counted once while it is remembered. KEYS: the HF's counters, the payload's
-- key, the HF's latest errors (names.counters, names.dead_payload, names.errors). ARGV: seconds to remember it,
-- its readable errors (JSON), the clock (Unix seconds, or "" for Redis' own).
-- The payload's key holds when it is forgotten: logically at that time by the script's clock, and physically
-- when Redis expires it after the same seconds.
local counters, payload, errors = KEYS[1], KEYS[2], KEYS[3]
local ttl = tonumber(ARGV[1])
local now = tonumber(ARGV[3]) or tonumber(redis.call('TIME')[1])
local held = redis.call('GET', payload)
if not held or tonumber(held) <= now then
  redis.call('SET', payload, now + ttl, 'EX', ttl)
  redis.call('HINCRBY', counters, 'dead_lettered', 1)
  redis.call('LPUSH', errors, ARGV[2])
  redis.call('LTRIM', errors, 0, 19)
  return 1
end
return 0
