-- The contribution ledgers of one patient are one hash (KEYS[1], names.ledger), written per entry so that a call
-- reads and writes what its event touches: the record of the source it replaces, the units that record and the new
-- revision name, and of those units' members only as many as it takes to find the first. Stats, periods and groups
-- are ids of the shared vocabulary (vocab.lua, `ContributionLedger._intern`: the caller passes and gets back ids), so a
-- patient keeps no strings but its sources and revisions. Entries (all under 64 bytes, so that a patient's hash is a
-- listpack while it has at most 64 of them):
--   <ns>:<source> -> its record number (the source of either ledger, `pts` or `ind`);
--   <record number> -> msgpack [source, revision, closes-at, items, units, tokens, {older revision = deltas}?]:
--     the revision `0000000001|0|<event id>` as [1, `|0|<event id>`], a close at midnight in days; items flat as
--     stat, period, micro-points, count; units as [group, period, stat (0: the group), micro-points, credit period
--     (0: the unit's period; else, for a unit credited to the tertial of its first member, that member's tertial,
--     computed by the caller)] without trailing zeros; tokens are the current revision's deltas (0 = its own items,
--     j = the credit of its own unit j, [s, p, m, n] = any other delta);
--   u<group>.<period> -> msgpack [record number, day, ...]: the unit's members in order of activity date (days since
--     2000, from the caller);
--   n -> the last record number given;  c -> the latest close of a record written (0: one never closes).
-- A record or a member list longer than an entry is cut into entries <field>, <field>+2, ... (`get`, `put`).
-- A record whose rule year has closed counts as gone wherever it is met (its source is then new again, and a unit
-- passes it over and drops it when next written); the key expires with the latest close it holds.
-- ARGV: <ns>:<source>, revision, the new contributions' items [s, p, m, n, ...] and units [g, p, s, m, t, day, ...] as
-- little-endian 8-byte integers, closes-at, the clock (or '' for Redis' own). Returns [status, deltas as a flat list
-- s, p, m, n, ...]. Numbers never pass through text here: Lua formats and parses a number as text in about a
-- microsecond, as long as the rest of a call on a short ledger.

local key = KEYS[1]
local src, rev, close = ARGV[1], ARGV[2], tonumber(ARGV[5])
local now = tonumber(ARGV[6]) or tonumber(redis.call('TIME')[1])
-- a close at midnight UTC (a rule year's) is kept in days
local function days(c) if c % 86400 == 0 then return c / 86400 end return c end
local function live(r) return r[3] == 0 or (r[3] < 1000000 and r[3] * 86400 or r[3]) > now end
-- A record or a unit's members, packed, is kept in entries of at most CHUNK bytes so that a patient's hash stays a
-- listpack (hash-max-listpack-value): the first at its field, led by the count of entries (one byte under 255,
-- else 255 and two bytes), the others at <field>+2, <field>+3, ...
local CHUNK, parts = 64, {}
local function get(f)
  local head = redis.call('HGET', key, f)
  if not head then parts[f] = 0; return nil end
  local n, at = string.byte(head, 1), 2
  if n == 255 then n, at = string.byte(head, 2) * 256 + string.byte(head, 3), 4 end
  parts[f] = n
  if n == 1 then return cmsgpack.unpack(string.sub(head, at)) end
  local more = {}
  for i = 2, n do more[i - 1] = f .. '+' .. i end
  return cmsgpack.unpack(string.sub(head, at) .. table.concat(redis.call('HMGET', key, unpack(more))))
end
local writes, gone = {}, {}
local function put(f, value)
  local n = 0
  if value then
    local blob = cmsgpack.pack(value)
    n = math.ceil((#blob + 1) / CHUNK)
    if n < 255 then blob = string.char(n) .. blob
    else
      n = math.ceil((#blob + 3) / CHUNK)
      blob = string.char(255, math.floor(n / 256), n % 256) .. blob
    end
    for i = 1, n do
      table.insert(writes, i == 1 and f or (f .. '+' .. i))
      table.insert(writes, string.sub(blob, (i - 1) * CHUNK + 1, i * CHUNK))
    end
  end
  for i = n + 1, parts[f] or 0 do table.insert(gone, i == 1 and f or (f .. '+' .. i)) end
end
-- a revision `0000000001|0|<event id>` is kept as 1 and `|0|<event id>`
local function pack_rev(r)
  local v, rest = string.match(r, '^(%d+)(|.*)$')
  if v and string.format('%010d', tonumber(v)) == v then return {tonumber(v), rest} end
  return r
end
local function unpack_rev(r)
  if type(r) == 'table' then return string.format('%010d', r[1]) .. r[2] end
  return r
end
local head = redis.call('HMGET', key, src, 'c')
local rn, latest = head[1], head[2]
local rec = nil
if rn then
  rec = get(rn)
  if rec and not live(rec) then
    put(rn, nil)
    rec, rn = nil, nil
  end
  if rec then rec[2] = unpack_rev(rec[2]) end
end
-- a unit of a record: {group, period, stat, micro-points, credit period} with trailing zeros left out
local function unit(u, i) return u[i] or 0 end
-- a unit's credit: stat, period, micro-points
local function credit(u, by_first)
  local s, p = unit(u, 3), u[2]
  if s == 0 then s = u[1] end
  if by_first and unit(u, 5) ~= 0 then p = u[5] end
  return {s, p, unit(u, 4)}
end
-- the deltas of a record's current revision, merged per (stat, period) in order of first sight, as a flat list
local function history(r)
  local acc, korder = {}, {}
  local function add(s, p, m, n)
    local by_p = acc[s]
    if by_p == nil then by_p = {}; acc[s] = by_p end
    local row = by_p[p]
    if row == nil then row = {s, p, 0, 0}; by_p[p] = row; table.insert(korder, row) end
    row[3] = row[3] + m
    row[4] = row[4] + n
  end
  local I = r[4]
  for _, tok in ipairs(r[6]) do
    if type(tok) == 'table' then add(tok[1], tok[2], tok[3], tok[4])
    elseif tok == 0 then for j = 1, #I, 4 do add(I[j], I[j + 1], I[j + 2], I[j + 3]) end
    else local u = r[5][tok]; local c = credit(u, unit(u, 5) ~= 0); add(c[1], c[2], c[3], 1) end
  end
  local flat = {}
  for _, a in ipairs(korder) do
    if a[3] ~= 0 or a[4] ~= 0 then
      for q = 1, 4 do flat[#flat + 1] = a[q] end
    end
  end
  return flat
end
if rec then
  if rec[2] == rev then return {'again', history(rec)} end
  if rec[7] and rec[7][rev] then return {'again', rec[7][rev]} end
  if cmp(rec[2], rev) > 0 then return {'old', ''} end
end
local function ints(blob)
  local n = #blob / 8
  if n == 0 then return {} end
  local t = {struct.unpack('<' .. string.rep('i8', n), blob)}
  t[#t] = nil  -- struct.unpack ends with the position after the last value
  return t
end
local new = {i = ints(ARGV[3]), u = ints(ARGV[4])}
local NU, dates = {}, {}
for j = 1, #new.u, 6 do
  local u = {new.u[j], new.u[j + 1], new.u[j + 2], new.u[j + 3], new.u[j + 4]}
  while #u > 2 and u[#u] == 0 do table.remove(u) end
  table.insert(NU, u)
  table.insert(dates, new.u[j + 5])
end
local nrec = {string.sub(src, string.find(src, ':', 1, true) + 1), pack_rev(rev), days(close), new.i, NU, {}}
local old = rec or {nil, nil, nil, {}, {}, {}}
if rec then
  nrec[7] = rec[7] or {}
  nrec[7][rec[2]] = history(rec)
end
for j = 1, #old[4], 4 do table.insert(nrec[6], {old[4][j], old[4][j + 1], -old[4][j + 2], -old[4][j + 3]}) end
table.insert(nrec[6], 0)
if not rn then rn = tostring(redis.call('HINCRBY', key, 'n', 1)) end
-- the touched units (old ones first), each with its members as read
local order, touched = {}, {}
local function field(u) return 'u' .. u[1] .. '.' .. u[2] end
local function touch(u)
  local k = field(u)
  if touched[k] == nil then table.insert(order, k) end
  touched[k] = {u[1], u[2], unit(u, 5) ~= 0}
end
for _, u in ipairs(old[5]) do touch(u) end
for _, u in ipairs(NU) do touch(u) end
-- a unit's members as stored: flat (record number, date) pairs in order of date
local members = {}
for _, k in ipairs(order) do members[k] = get(k) or {} end
local rnum = tonumber(rn)
-- records of other members, read only when a unit's first member is sought among them; false when gone
local seen, own = {}, rec
local function record(n)
  if n == rnum then return own or false end
  if seen[n] == nil then
    local r = get(n)
    seen[n] = (r and live(r)) and r or false
  end
  return seen[n]
end
-- which of a record's units is unit k, or nil
local function entry(r, k)
  local g, p = touched[k][1], touched[k][2]
  for j, u in ipairs(r[5]) do if u[1] == g and u[2] == p then return j end end
  return nil
end
-- a unit's first member: the least (date, member text) among its live members, read in order of date only as
-- far as the first date with a live member; member texts start with the source and a separator that sorts
-- below its characters, so the source decides between members of one date
local function first(k)
  local list, i = members[k], 1
  while i <= #list do
    local best, j = nil, i
    while j <= #list and list[j + 1] == list[i + 1] do
      local r = record(list[j])
      local e = r and entry(r, k)
      if e and (best == nil or cmp(r[1], best.r[1]) < 0) then best = {r = r, j = e, n = list[j]} end
      j = j + 2
    end
    if best then return best end
    i = j
  end
  return nil
end
-- the members for which keep says yes
local function kept(list, keep)
  local out = {}
  for i = 1, #list, 2 do
    if keep(list[i]) then table.insert(out, list[i]); table.insert(out, list[i + 1]) end
  end
  return out
end
local before = {}
for _, k in ipairs(order) do
  before[k] = first(k) or false
  -- the source's own membership leaves, and members found gone with it (the others are not read for this)
  members[k] = kept(members[k], function(n) return n ~= rnum and seen[n] ~= false end)
end
own = nrec
for j, u in ipairs(NU) do
  local list, d = members[field(u)], dates[j]
  local lo, hi = 1, #list / 2 + 1  -- the first pair dated after d
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if list[2 * mid] <= d then lo = mid + 1 else hi = mid end
  end
  table.insert(list, 2 * lo - 1, d)
  table.insert(list, 2 * lo - 1, rnum)
end
for _, k in ipairs(order) do
  local by_first = touched[k][3]
  local b, a = before[k], first(k)
  local cb, ca = nil, nil
  if b then cb = credit(b.r[5][b.j], by_first) end
  if a then ca = credit(a.r[5][a.j], by_first) end
  local same = (cb == nil and ca == nil) or
    (cb ~= nil and ca ~= nil and cb[1] == ca[1] and cb[2] == ca[2] and cb[3] == ca[3])
  if not same then
    if cb then table.insert(nrec[6], {cb[1], cb[2], -cb[3], -1}) end
    if ca then
      if a.n == rnum and (unit(NU[a.j], 5) ~= 0) == by_first then table.insert(nrec[6], a.j)
      else table.insert(nrec[6], {ca[1], ca[2], ca[3], 1}) end
    end
  end
  put(k, #members[k] > 0 and members[k] or nil)
end
table.insert(writes, src); table.insert(writes, rn)
put(rn, nrec)
if latest == false or (tonumber(latest) ~= 0 and (close == 0 or close > tonumber(latest))) then
  table.insert(writes, 'c'); table.insert(writes, close)
end
redis.call('HSET', key, unpack(writes))
if #gone > 0 then redis.call('HDEL', key, unpack(gone)) end
if latest == false or (tonumber(latest) ~= 0 and close > tonumber(latest)) then
  if close > 0 then redis.call('EXPIREAT', key, close) end
elseif close == 0 and latest ~= '0' then redis.call('PERSIST', key) end
return {'new', history(nrec)}
