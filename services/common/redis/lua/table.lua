-- A growing table: many small entries (a source's current revision, a settled batch's digest) as fields of small
-- hashes rather than one key each. A hash of up to 128 short fields is a listpack, a few bytes of overhead per
-- field, where a key of its own costs some 100 bytes (key, value object, dictionary and expiry entries). A table
-- `<base>` of n entries has max(1, ceil(n / LOAD)) buckets `<base><i>` and grows by linear hashing: when n passes
-- a multiple of LOAD, one bucket is split in two (its entries whose hash says so move to the new last bucket), so
-- the buckets hold about LOAD to 2 x LOAD entries at any volume (a national year or a test) without a size to
-- configure. The caller keeps n and gives the hash of an entry's field (`hof`).
local LOAD = 48  -- entries per bucket: at most twice that, under 128, so a bucket stays a listpack
local function hash32(s) return tonumber(string.sub(redis.sha1hex(s), 1, 8), 16) end
local function nbuckets(n) return math.max(1, math.ceil(n / LOAD)) end
local function addr(h, nb)
  local b = 1
  while b * 2 <= nb do b = b * 2 end
  if h % b < nb - b then return h % (2 * b) end
  return h % b
end
-- after the table's count went to n: split a bucket when that added one
local function grow(base, n, close, hof)
  local was = nbuckets(n - 1)
  if nbuckets(n) == was then return end
  local b = 1
  while b * 2 <= was do b = b * 2 end
  local from, to = base .. (was - b), base .. was
  local kv = redis.call('HGETALL', from)
  for i = 1, #kv, 2 do
    if hof(kv[i]) % (2 * b) == was then
      redis.call('HSET', to, kv[i], kv[i + 1])
      redis.call('HDEL', from, kv[i])
    end
  end
  if close > 0 and redis.call('EXISTS', to) == 1 then redis.call('EXPIREAT', to, close) end
end
local function bin(hex) return (string.gsub(hex, '..', function(c) return string.char(tonumber(c, 16)) end)) end
