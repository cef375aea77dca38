-- The ingest version ledger of one HF (after bytewise.lua and table.lua). KEYS: the HF's counters, the index of
-- its sources (names.counters, names.sources). ARGV: source, event id, revision, category, closes-at, patient, and
-- the clock (Unix seconds, or "" for Redis' own).
-- The sources of one rule-year close are a table (table.lua): the index holds close -> entries added, the
-- buckets are `<index>:<close>:<i>` and expire at that close. A source's field holds msgpack
-- [version, rest of the revision, patient] (the revision `0000000001|0|<event id>` as 1 and `|0|<event id>`, a
-- pseudonym `p_<32 hex>` as its 16 bytes), short enough for a listpack; the field `<source>\0`, only when there
-- is something in it, msgpack [the patient the current revision withdrew the source from or '', the ids of the
-- source's older events]. So an event id is remembered with its source (the current one is the tail of its
-- revision) for as long as the source is, and its repeat is told from a first sight.
local counters, meta = KEYS[1], KEYS[2]
local source, event_id, rev, category = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local close, patient = ARGV[5], ARGV[6]
local now = tonumber(ARGV[7]) or tonumber(redis.call('TIME')[1])  -- the store contract's clock, or Redis'
local function src_hash(field) return hash32(string.match(field, '^[^%z]*')) end
local function pack_cur(r, pt)
  local v, rest = string.match(r, '^(%d+)(|.*)$')
  local out = {r}
  if v and string.format('%010d', tonumber(v)) == v then out = {tonumber(v), rest} end
  if string.match(pt, '^p_' .. string.rep('[0-9a-f]', 32) .. '$') then table.insert(out, bin(string.sub(pt, 3)))
  else table.insert(out, {pt}) end
  return cmsgpack.pack(out)
end
local function unpack_cur(raw)
  local t = cmsgpack.unpack(raw)
  local r, pt = t[1], t[#t]
  if #t == 3 then r = string.format('%010d', r) .. t[2] end
  if type(pt) == 'table' then pt = pt[1]
  else pt = 'p_' .. string.gsub(pt, '.', function(c) return string.format('%02x', string.byte(c)) end) end
  return {r, pt}
end
local h = hash32(source)
local at, at_close, cur, more = nil, nil, nil, {''}
local tables = redis.call('HGETALL', meta)
for i = 1, #tables, 2 do
  local c = tonumber(tables[i])
  if c > 0 and c <= now then redis.call('HDEL', meta, tables[i])  -- its buckets have expired
  elseif cur == nil then
    local b = meta .. ':' .. tables[i] .. ':' .. addr(h, nbuckets(tonumber(tables[i + 1])))
    local got = redis.call('HMGET', b, source, source .. '\0')
    if got[1] then
      at, at_close, cur = b, tables[i], unpack_cur(got[1])
      if got[2] then more = cmsgpack.unpack(got[2]) end
    end
  end
end
if cur then
  if cur[1] == rev then return {'repeat_current', more[1]} end
  for j = 2, #more do if more[j] == event_id then return {'repeat', ''} end end
end
local function keep_more(b, m)
  if #m > 1 or m[1] ~= '' then redis.call('HSET', b, source .. '\0', cmsgpack.pack(m))
  else redis.call('HDEL', b, source .. '\0') end
end
local outcome, moved = nil, ''
if (not cur) or cmp(rev, cur[1]) > 0 then
  if cur and cur[2] ~= patient then moved = cur[2] end
  local m = {moved}
  if cur then
    for j = 2, #more do table.insert(m, more[j]) end
    table.insert(m, string.match(cur[1], '^[^|]*|[^|]*|(.*)$'))
  end
  local home = at
  if at_close ~= close then
    if at then redis.call('HDEL', at, source, source .. '\0') end
    local n = redis.call('HINCRBY', meta, close, 1)
    grow(meta .. ':' .. close .. ':', n, tonumber(close), src_hash)
    home = meta .. ':' .. close .. ':' .. addr(h, nbuckets(n))
  end
  redis.call('HSET', home, source, pack_cur(rev, patient))
  keep_more(home, m)
  if tonumber(close) > 0 then redis.call('EXPIREAT', home, close) end
  outcome = 'accepted'
  redis.call('HINCRBY', counters, category, 1)
else
  table.insert(more, event_id)
  keep_more(at, more)
  outcome = 'superseded'
end
redis.call('HINCRBY', counters, outcome, 1)
return {outcome, moved}
