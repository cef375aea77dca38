-- The applied batches of a rule year (after table.lua): the key `base` (names.batches) counts them, its buckets
-- `<base>:<i>` hold their digests, all expiring when the year closes. The digest is the first 16 bytes of the
-- batch id's SHA-1 (ids `<ns>:<source>:<revision>` are some 40-180 bytes): for two of n ids to share those 128 bits
-- has probability under n^2 / 2^129, under 1e-20 for a billion ids a year (the national year is some 25 million);
-- a collision would leave one batch unsummed.
local function bucket(base, n, h) return base .. ':' .. addr(h, nbuckets(n)) end
local function digest_hash(d) return ((string.byte(d, 1) * 256 + string.byte(d, 2)) * 256 + string.byte(d, 3)) * 256
  + string.byte(d, 4) end
-- whether digest dg is in the table `base`, which holds n entries
local function known(base, n, dg) return n > 0 and redis.call('HEXISTS', bucket(base, n, digest_hash(dg)), dg) == 1 end
