
-- One string per patient and ledger (KEYS[1] = isf:{<patient>}:L:<ns>): a msgpack document of every source
-- the patient's ledger tracks, {t = [strings], s = {[ns:source] = record}}; a record is
-- [revision, closes-at, items, units, history tokens, {older revision = its deltas JSON}?] with the revision,
-- stats, periods and groups as indexes into t (items flat as s,p,m,n; units flat as g,p,s,m,f,d). A unit's
-- members are not stored apart: they are the records that name the unit, so its first member is found
-- by scanning the document. The current revision's deltas are kept as tokens (0 = its own items,
-- j = the credit of its own unit j, [s,p,m,n] = any other delta) and rebuilt the same on a repeat.
-- Records are read in their packed form: only the one being replaced is unpacked into strings, and the
-- others are written back as they were unless a record left the document (replaced or expired), when every
-- string is interned afresh so that none is kept for a record that is gone.
local key = KEYS[1]
local ns, src, rev, newj, close = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local id = ns .. ':' .. src
local now = tonumber(ARGV[6]) or tonumber(redis.call('TIME')[1])
local t, live, gone = {}, {}, false
local raw = redis.call('GET', key)
if raw then
  local doc = cmsgpack.unpack(raw)
  t = doc.t
  for rid, r in pairs(doc.s) do
    if r[2] == 0 or r[2] > now then live[rid] = r else gone = true end
  end
end
local function src_of(rid) return string.sub(rid, string.find(rid, ':', 1, true) + 1) end
local function unpack_rec(rid, r)
  local rec = {r = t[r[1]] or r[1], c = r[2], i = {}, u = {}, h = {}, o = r[6], src = src_of(rid)}
  local I, U = r[3], r[4]
  for j = 1, #I, 4 do table.insert(rec.i, {t[I[j]], t[I[j + 1]], I[j + 2], I[j + 3]}) end
  for j = 1, #U, 6 do
    table.insert(rec.u, {g = t[U[j]], p = t[U[j + 1]], s = t[U[j + 2]], m = U[j + 3], f = U[j + 4], d = U[j + 5]})
  end
  for _, tok in ipairs(r[5]) do
    if type(tok) == 'table' then table.insert(rec.h, {t[tok[1]], t[tok[2]], tok[3], tok[4]})
    else table.insert(rec.h, tok) end
  end
  return rec
end
local function period_of(u, score)
  if tonumber(u.f) == 1 then
    local y = math.floor(score / 10000)
    local m = math.floor(score / 100) % 100
    return string.format('%d-T%d', y, math.floor((m - 1) / 4) + 1)
  end
  return u.p
end
-- the deltas of a record's current revision, merged per (stat, period) in order of first sight
local function history(rec)
  local acc, korder = {}, {}
  local function add(s, p, m, n)
    local k = s .. '\0' .. p
    if acc[k] == nil then acc[k] = {s, p, 0, 0}; table.insert(korder, k) end
    acc[k][3] = acc[k][3] + m
    acc[k][4] = acc[k][4] + n
  end
  for _, tok in ipairs(rec.h) do
    if type(tok) == 'table' then add(tok[1], tok[2], tok[3], tok[4])
    elseif tok == 0 then for _, it in ipairs(rec.i) do add(it[1], it[2], it[3], it[4]) end
    else local u = rec.u[tok]; add(u.s, period_of(u, u.d), u.m, 1) end
  end
  local merged = {}
  for _, k in ipairs(korder) do
    local a = acc[k]
    if a[3] ~= 0 or a[4] ~= 0 then table.insert(merged, a) end
  end
  if #merged == 0 then return '[]' end
  return cjson.encode(merged)
end
local rec = live[id] and unpack_rec(id, live[id])
if rec then
  if rec.r == rev then return {'again', history(rec)} end
  if rec.o and rec.o[rev] then return {'again', rec.o[rev]} end
  if cmp(rec.r, rev) > 0 then return {'old', ''} end
end
local new = cjson.decode(newj)
local nrec = {r = rev, c = close, i = {}, u = {}, h = {}, o = nil, src = src}
for _, it in ipairs(new.i) do table.insert(nrec.i, {it.s, it.p, it.m, it.n}) end
for _, u in ipairs(new.u) do table.insert(nrec.u, {g = u.g, p = u.p, s = u.s, m = u.m, f = u.f, d = u.d}) end
local old = rec or {i = {}, u = {}}
if rec then
  nrec.o = rec.o or {}
  nrec.o[rec.r] = history(rec)
end
for _, it in ipairs(old.i) do table.insert(nrec.h, {it[1], it[2], -it[3], -it[4]}) end
table.insert(nrec.h, 0)
-- the touched units (group|period), and by group then period, to find them in packed records without a key
local touched, order, byg = {}, {}, {}
for _, list in ipairs({old.u, nrec.u}) do
  for _, u in ipairs(list) do
    local k = u.g .. '|' .. u.p
    if touched[k] == nil then table.insert(order, k) end
    touched[k] = u
    byg[u.g] = byg[u.g] or {}
    byg[u.g][u.p] = k
  end
end
-- the members of the touched units, from one pass over the document: (date, member text) and where it is
local members = {}
local function member(k, rid, j, u, name)
  local list = members[k]
  if list == nil then list = {}; members[k] = list end
  table.insert(list, {d = u.d, text = name .. '\31' .. tostring(u.m) .. '\31' .. u.s, rid = rid, j = j, u = u})
end
for rid, r in pairs(live) do
  local U, name = r[4], nil
  for j = 1, #U / 6 do
    local b = (j - 1) * 6
    local g, p = t[U[b + 1]], t[U[b + 2]]
    local k = byg[g] and byg[g][p]
    if k then
      name = name or src_of(rid)
      member(k, rid, j, {g = g, p = p, s = t[U[b + 3]], m = U[b + 4], f = U[b + 5], d = U[b + 6]}, name)
    end
  end
end
-- a unit's first member: the least (date, member text) over the records naming it
local function first(k)
  local best = nil
  for _, m in ipairs(members[k] or {}) do
    if best == nil or m.d < best.d or (m.d == best.d and cmp(m.text, best.text) < 0) then best = m end
  end
  return best
end
local before = {}
for _, k in ipairs(order) do before[k] = first(k) or false end
for _, k in ipairs(order) do
  local kept = {}
  for _, m in ipairs(members[k] or {}) do if m.rid ~= id then table.insert(kept, m) end end
  members[k] = kept
end
for j, u in ipairs(nrec.u) do member(u.g .. '|' .. u.p, id, j, u, src) end
for _, k in ipairs(order) do
  local u = touched[k]
  local b, a = before[k], first(k)
  if b == false then b = nil end
  local cb, ca = nil, nil
  if b then cb = {b.u.s, period_of(u, b.d), b.u.m} end
  if a then ca = {a.u.s, period_of(u, a.d), a.u.m} end
  local same = (cb == nil and ca == nil) or
    (cb ~= nil and ca ~= nil and cb[1] == ca[1] and cb[2] == ca[2] and cb[3] == ca[3])
  if not same then
    if cb then table.insert(nrec.h, {cb[1], cb[2], -cb[3], -1}) end
    if ca then
      if a.rid == id and tonumber(u.f) == tonumber(a.u.f) then table.insert(nrec.h, a.j)
      else table.insert(nrec.h, {ca[1], ca[2], ca[3], 1}) end
    end
  end
end
-- write the document back and expire it with the last rule year it holds
local out_t, ix, out = t, {}, live
if rec or gone then out_t, out = {}, {} end
local function s(v)
  local i = ix[v]
  if i == nil then table.insert(out_t, v); i = #out_t; ix[v] = i end
  return i
end
-- a record in its stored shape (items flat as s,p,m,n; units as g,p,s,m,f,d), its strings given by str
local function repack(r, str)
  local I, U, H = {}, {}, {}
  for j = 1, #r[3], 4 do
    table.insert(I, s(str(r[3][j]))); table.insert(I, s(str(r[3][j + 1])))
    table.insert(I, r[3][j + 2]); table.insert(I, r[3][j + 3])
  end
  for j = 1, #r[4], 6 do
    table.insert(U, s(str(r[4][j]))); table.insert(U, s(str(r[4][j + 1]))); table.insert(U, s(str(r[4][j + 2])))
    table.insert(U, r[4][j + 3]); table.insert(U, r[4][j + 4]); table.insert(U, r[4][j + 5])
  end
  for _, tok in ipairs(r[5]) do
    if type(tok) == 'table' then table.insert(H, {s(str(tok[1])), s(str(tok[2])), tok[3], tok[4]})
    else table.insert(H, tok) end
  end
  return {s(str(r[1])), r[2], I, U, H, r[6]}
end
if rec or gone then  -- intern afresh: the strings of records that are gone are not kept
  local function stored(i) return t[i] or i end
  for rid, r in pairs(live) do
    if rid ~= id then out[rid] = repack(r, stored) end
  end
else
  for i, v in ipairs(t) do ix[v] = i end
end
local flat = {rev, close, {}, {}, nrec.h, nrec.o}
for _, it in ipairs(nrec.i) do for k = 1, 4 do table.insert(flat[3], it[k]) end end
for _, u in ipairs(nrec.u) do for _, k in ipairs({'g', 'p', 's', 'm', 'f', 'd'}) do table.insert(flat[4], u[k]) end end
out[id] = repack(flat, function(v) return v end)
local last = 0
for _, r in pairs(out) do
  if r[2] == 0 then last = -1; break elseif r[2] > last then last = r[2] end
end
redis.call('SET', key, cmsgpack.pack({t = out_t, s = out}))
if last > 0 then redis.call('EXPIREAT', key, last) end
return {'new', history(nrec)}
