-- Whether batches were summed (after table.lua and applied_table.lua). KEYS: the applied tables of the rule years
-- to look in (names.batches, all in slot {totals}). ARGV: 16-byte digests; per digest, 1 if it is in any table.
local n = {}
for j = 1, #KEYS do n[j] = tonumber(redis.call('GET', KEYS[j]) or '0') end
local out = {}
for i = 1, #ARGV do
  local hit = 0
  for j = 1, #KEYS do
    if hit == 0 and known(KEYS[j], n[j], ARGV[i]) then hit = 1 end
  end
  out[i] = hit
end
return out
