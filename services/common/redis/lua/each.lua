-- The driver of a per-item script: runs `one` (the item's script, composed before this as a function of KEYS and
-- ARGV) once per item of a micro-batch, in order, and answers a list of the items' replies. One call per micro-batch
-- (per hash slot on Redis Cluster) instead of one per item: the per-command cost in the client and in Redis is paid
-- once. KEYS: every item's keys in turn; ARGV: per item, its number of keys and of arguments, then its arguments.
local out, k, a = {}, 1, 1
while a <= #ARGV do
  local nk, na = tonumber(ARGV[a]), tonumber(ARGV[a + 1])
  out[#out + 1] = one({unpack(KEYS, k, k + nk - 1)}, {unpack(ARGV, a + 2, a + 1 + na)})
  k, a = k + nk, a + 2 + na
end
return out
