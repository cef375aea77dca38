-- Settlement: sum each delta batch into the totals once (after table.lua and applied_table.lua).
-- KEYS: the point totals, the count totals, the view's point sums, the view's count sums, the indicator sums, the
-- settle sequence, the hour's points per HF (names.POINTS_TOTALS, COUNT_TOTALS, VIEW_POINT_SUMS, VIEW_COUNT_SUMS,
-- INDICATOR_SUMS, SETTLE_SEQ, hourly), then the applied table of each rule year in ARGV[1] (names.batches); all in
-- slot {totals}.
-- ARGV: JSON [year, ...], then per batch: id, deltas JSON (rows [stat, period, micro-points, count] and, when the
-- view sums them, its two fields), JSON [[year, closes-at], ...] of the rule years its deltas name.
-- A batch is summed unless its digest is in the applied table of any of its years, and is then added to every one
-- of them: a batch that spans two years stays known while either year is open, and its years are the same on every
-- redelivery. Redis work is counted in commands: a call settles a few hundred batches, so a year's count is read
-- once and written once, and the sums of all its batches go as one HINCRBY per field.
local ts = KEYS[7]
local base = {}  -- rule year -> the key of its applied table
for j, y in ipairs(cjson.decode(ARGV[1])) do base[y] = KEYS[7 + j] end
local count, fresh, close = {}, {}, {}
local function year(y)
  if count[y] == nil then
    local n = redis.call('GET', base[y])
    count[y], fresh[y] = tonumber(n or '0'), n == false
  end
  return count[y]
end
-- per hash: field order, field -> sum
local sums = {pts = {{}, {}}, cnt = {{}, {}}, ts = {{}, {}}, vpts = {{}, {}}, vcnt = {{}, {}}, ind = {{}, {}}}
local function add(hash, f, v)
  local order, sum = sums[hash][1], sums[hash][2]
  if sum[f] == nil then sum[f] = 0; table.insert(order, f) end
  sum[f] = sum[f] + v
end
local applied = 0
for i = 2, #ARGV, 3 do
  local years = cjson.decode(ARGV[i + 2])
  local dg = bin(string.sub(redis.sha1hex(ARGV[i]), 1, 32))
  local h = digest_hash(dg)
  local seen = false
  for _, y in ipairs(years) do
    if not seen and known(base[y[1]], year(y[1]), dg) then seen = true end
  end
  if not seen then
    for _, y in ipairs(years) do
      local n = count[y[1]] + 1
      count[y[1]], close[y[1]] = n, y[2]
      grow(base[y[1]] .. ':', n, y[2], digest_hash)
      redis.call('HSET', bucket(base[y[1]], n, h), dg, '')
      redis.call('EXPIREAT', bucket(base[y[1]], n, h), y[2])
    end
    applied = applied + 1
    for _, d in ipairs(cjson.decode(ARGV[i + 1])) do
      local f = d[1] .. '|' .. d[2]
      if d[3] ~= 0 then
        add('pts', f, d[3])
        local hf = string.match(d[1], '^P|%d+|([^|]+)|')
        if hf then add('ts', hf, d[3]) end
      end
      if d[4] ~= 0 then
        add('cnt', f, d[4])
        -- the indicator totals again, apart: statements read them without the rest (isf.settlement.statements)
        if string.sub(d[1], 1, 2) == 'I|' then add('ind', f, d[4]) end
      end
      if d[5] then  -- the view's sums (isf.settlement.views.view_fields), kept with the totals they sum
        if d[3] ~= 0 then add('vpts', d[5], d[3]) end
        if d[4] ~= 0 then add('vcnt', d[6], d[4]) end
      end
    end
  end
end
for y, c in pairs(close) do
  redis.call('SET', base[y], count[y], 'KEEPTTL')
  if fresh[y] then redis.call('EXPIREAT', base[y], c) end
end
local hashes = {pts = KEYS[1], cnt = KEYS[2], vpts = KEYS[3], vcnt = KEYS[4], ind = KEYS[5], ts = ts}
for hash, key in pairs(hashes) do
  for _, f in ipairs(sums[hash][1]) do redis.call('HINCRBY', key, f, sums[hash][2][f]) end
end
if applied > 0 then
  redis.call('EXPIRE', ts, 400 * 86400)
  redis.call('INCR', KEYS[6])  -- the totals moved: the view is due for a rebuild
end
return applied
