-- The ledgers' vocabulary (KEYS: names.VOCAB_IDS, names.VOCAB_TEXTS; ARGV: texts) -> the id of each text, given
-- in order of first sight (1, 2, ...) and never changed or taken back: every patient's ledger names its stats,
-- periods and groups by these ids, and a process keeps the ids it has met. It grows with the distinct stats and
-- periods of the years kept (thousands), not with the events. A failover that loses its node's last writes (Redis
-- replicates asynchronously) could give an id just given once more to another text: a lost write, as of any key,
-- here felt by every ledger that names the id.

local out = {}
for i, text in ipairs(ARGV) do
  local id = redis.call('HGET', KEYS[1], text)
  if not id then
    id = redis.call('HLEN', KEYS[2]) + 1
    redis.call('HSET', KEYS[2], id, text)
    redis.call('HSET', KEYS[1], text, id)
  end
  out[i] = tonumber(id)
end
return out
