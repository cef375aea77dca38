"""Redis adapters: the ingest version ledger, the contribution ledger and settled totals, each one Lua script.

Every script runs the same rules as its in-memory twin in `isf` (ingest.MemoryIngestLedger,
periods.ledger.MemoryLedger, settlement.totals.Totals), atomically, so several workers can
share the work and a re-delivered message changes nothing. Keys that one script touches
share a hash tag (`{hf}` for ingest, `{<patient pseudonym>}` for the contribution ledgers, since a
TFG patient-period spans HFs, `{totals}` for settlement), and each script gets one key with that tag as
KEYS[1] (it builds the other names from it in Lua), so a cluster client routes it to the node owning
the tag: the scripts also run on Redis Cluster.

The keys are named in `services/common/names.py` and catalogued (what each holds, when it expires)
in docs/delivery.md's "Redis keys" table; the scripts below build the names of their own tag in Lua.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import time

import redis
import redis.asyncio as aredis
from redis.exceptions import AskError, BusyLoadingError, ClusterDownError, MovedError, NoScriptError, TryAgainError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from isf.events import Delta, DeltaBatch
from isf.periods.calendar import closes_at
from isf.periods.ledger import Contributions
from isf.settlement.views import ViewSums, view_fields, view_sums

from . import names, observability

log = logging.getLogger("isf.redis")

BUCKET_LOAD = 48  # entries per bucket of a growing table (TABLE_LUA): at most twice that, under 128, a listpack

# Lua compares strings with strcoll (Redis sets the locale): revisions are compared byte by byte, as
# Python compares them, so both twins order them the same under any locale.
BYTEWISE_LUA = """
local function cmp(a, b)
  if a == b then return 0 end
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then if x < y then return -1 else return 1 end end
  end
  if #a < #b then return -1 else return 1 end
end
"""

# Many small entries (a source's current revision, a settled batch id) as fields of small hashes rather than one
# key each: a hash of up to 128 short fields is a listpack, a few bytes of overhead per field, where a key of its
# own costs some 100 bytes (key, value object, dictionary and expiry entries). A table `<base>` of n entries has
# max(1, ceil(n / LOAD)) buckets `<base><i>` and grows by linear hashing: when n passes a multiple of LOAD, one
# bucket is split in two (its entries whose hash says so move to the new last bucket), so the buckets hold about
# LOAD to 2 x LOAD entries at any volume (a national year or a test) without a size to configure. The caller keeps
# n and gives the hash of an entry's field (`hof`).
TABLE_LUA = """
local LOAD = %d
local function hash32(s) return tonumber(string.sub(redis.sha1hex(s), 1, 8), 16) end
local function nbuckets(n) return math.max(1, math.ceil(n / LOAD)) end
local function addr(h, nb)
  local b = 1
  while b * 2 <= nb do b = b * 2 end
  if h %% b < nb - b then return h %% (2 * b) end
  return h %% b
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
    if hof(kv[i]) %% (2 * b) == was then
      redis.call('HSET', to, kv[i], kv[i + 1])
      redis.call('HDEL', from, kv[i])
    end
  end
  if close > 0 and redis.call('EXISTS', to) == 1 then redis.call('EXPIREAT', to, close) end
end
local function bin(hex) return (string.gsub(hex, '..', function(c) return string.char(tonumber(c, 16)) end)) end
""" % (BUCKET_LOAD,)

INGEST_LUA = (
    BYTEWISE_LUA
    + TABLE_LUA
    + """
-- Per HF, the sources of one rule-year close are a table (TABLE_LUA): `isf:{hf}:cur` holds close -> entries
-- added, its buckets are `isf:{hf}:cur:<close>:<i>` and expire at that close. A source's field holds msgpack
-- [version, rest of the revision, patient] (the revision `0000000001|0|<event id>` as 1 and `|0|<event id>`, a
-- pseudonym `p_<32 hex>` as its 16 bytes), short enough for a listpack; the field `<source>\\0`, only when there
-- is something in it, msgpack [the patient the current revision withdrew the source from or '', the ids of the
-- source's older events]. So an event id is remembered with its source (the current one is the tail of its
-- revision) for as long as the source is, and its repeat is told from a first sight.
local tag, source, event_id, rev, category = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local close, patient = ARGV[6], ARGV[7]
local now = tonumber(ARGV[8]) or tonumber(redis.call('TIME')[1])  -- the store contract's clock, or Redis'
local meta = 'isf:{' .. tag .. '}:cur'
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
    local got = redis.call('HMGET', b, source, source .. '\\0')
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
  if #m > 1 or m[1] ~= '' then redis.call('HSET', b, source .. '\\0', cmsgpack.pack(m))
  else redis.call('HDEL', b, source .. '\\0') end
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
    if at then redis.call('HDEL', at, source, source .. '\\0') end
    local n = redis.call('HINCRBY', meta, close, 1)
    grow(meta .. ':' .. close .. ':', n, tonumber(close), src_hash)
    home = meta .. ':' .. close .. ':' .. addr(h, nbuckets(n))
  end
  redis.call('HSET', home, source, pack_cur(rev, patient))
  keep_more(home, m)
  if tonumber(close) > 0 then redis.call('EXPIREAT', home, close) end
  outcome = 'accepted'
  redis.call('HINCRBY', 'isf:{' .. tag .. '}:counters', category, 1)
else
  table.insert(more, event_id)
  keep_more(at, more)
  outcome = 'superseded'
end
redis.call('HINCRBY', 'isf:{' .. tag .. '}:counters', outcome, 1)
return {outcome, moved}
"""
)

# The key of a counted payload holds when it is forgotten: logically at that time by the script's clock (the
# store contract's, or Redis' own), and physically by Redis after ISF_EVENT_TTL ('1', written by earlier
# releases, is remembered until Redis expires it).
DEAD_LUA = """
local p = 'isf:{' .. ARGV[1] .. '}:'
local now = tonumber(ARGV[5]) or tonumber(redis.call('TIME')[1])
local held = redis.call('GET', p .. 'dead:' .. ARGV[2])
if not held or (held ~= '1' and tonumber(held) <= now) then
  redis.call('SET', p .. 'dead:' .. ARGV[2], now + tonumber(ARGV[3]), 'EX', ARGV[3])
  redis.call('HINCRBY', p .. 'counters', 'dead_lettered', 1)
  redis.call('LPUSH', p .. 'errors', ARGV[4])
  redis.call('LTRIM', p .. 'errors', 0, 19)
  return 1
end
return 0
"""

# KEYS[1]: the hash of set-aside counts per stage; ARGV: stage, digest of (stage, item), seconds to remember it.
ASIDE_LUA = """
if redis.call('SET', 'isf:{stats}:aside:' .. ARGV[2], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
  return 1
end
return 0
"""

LEDGER_LUA = (
    BYTEWISE_LUA
    + """
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
    local k = s .. '\\0' .. p
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
  table.insert(list, {d = u.d, text = name .. '\\31' .. tostring(u.m) .. '\\31' .. u.s, rid = rid, j = j, u = u})
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
"""
)

# ARGV: hour, then per batch: id, deltas JSON, JSON [[year, closes-at], ...] of the rule years its deltas name.
# The ids of applied batches are kept per rule year as a table (TABLE_LUA): `isf:{totals}:batches:<year>` counts
# them, its buckets `isf:{totals}:batches:<year>:<i>` hold their digests, all expiring when the year closes. A batch
# is summed unless its digest is in the table of any of its years, and is then added to every one of them: a batch
# that spans two years stays known while either year is open, and its years are the same on every redelivery.
# The digest is the first 16 bytes of the id's SHA-1 (ids `<ns>:<source>:<revision>` are some 40-180 bytes): for
# two of n ids to share those 128 bits has probability under n^2 / 2^129, under 1e-20 for a billion ids a year
# (the national year is some 25 million); a collision would leave one batch unsummed.
APPLIED_TABLE_LUA = (
    TABLE_LUA
    + """
local function bucket(y, n, h) return 'isf:{totals}:batches:' .. y .. ':' .. addr(h, nbuckets(n)) end
local function digest_hash(d) return ((string.byte(d, 1) * 256 + string.byte(d, 2)) * 256 + string.byte(d, 3)) * 256
  + string.byte(d, 4) end
-- whether digest dg is in the table of year y, which holds n entries
local function known(y, n, dg) return n > 0 and redis.call('HEXISTS', bucket(y, n, digest_hash(dg)), dg) == 1 end
"""
)
TOTALS_LUA = (
    APPLIED_TABLE_LUA
    + """
-- Redis work is counted in commands: a call settles a few hundred batches, so a year's count is read once and
-- written once, the sums of all its batches go as one HINCRBY per field, and the id sets of earlier releases
-- (`isf:{totals}:applied`, `...:applied:<year>`), still consulted, are asked about only where they exist.
local ts = 'isf:{totals}:ts:' .. ARGV[1]
local count, fresh, close, legacy = {}, {}, {}, {}
local function year(y)
  if count[y] == nil then
    local n = redis.call('GET', 'isf:{totals}:batches:' .. y)
    count[y], fresh[y] = tonumber(n or '0'), n == false
    legacy[y] = redis.call('EXISTS', 'isf:{totals}:applied:' .. y) == 1
  end
  return count[y]
end
local any_legacy = redis.call('EXISTS', 'isf:{totals}:applied') == 1
-- per hash: field order, field -> sum
local sums = {pts = {{}, {}}, cnt = {{}, {}}, ts = {{}, {}}, vpts = {{}, {}}, vcnt = {{}, {}}}
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
  local seen = any_legacy and redis.call('SISMEMBER', 'isf:{totals}:applied', ARGV[i]) == 1
  for _, y in ipairs(years) do
    if not seen and known(y[1], year(y[1]), dg) then seen = true end
    if not seen and legacy[y[1]] and redis.call('SISMEMBER', 'isf:{totals}:applied:' .. y[1], ARGV[i]) == 1 then
      seen = true
    end
  end
  if not seen then
    for _, y in ipairs(years) do
      local n = count[y[1]] + 1
      count[y[1]], close[y[1]] = n, y[2]
      grow('isf:{totals}:batches:' .. y[1] .. ':', n, y[2], digest_hash)
      redis.call('HSET', bucket(y[1], n, h), dg, '')
      redis.call('EXPIREAT', bucket(y[1], n, h), y[2])
    end
    applied = applied + 1
    for _, d in ipairs(cjson.decode(ARGV[i + 1])) do
      local f = d[1] .. '|' .. d[2]
      if d[3] ~= 0 then
        add('pts', f, d[3])
        local hf = string.match(d[1], '^P|%d+|([^|]+)|')
        if hf then add('ts', hf, d[3]) end
      end
      if d[4] ~= 0 then add('cnt', f, d[4]) end
      if d[5] then  -- the view's sums (isf.settlement.views.view_fields), kept with the totals they sum
        if d[3] ~= 0 then add('vpts', d[5], d[3]) end
        if d[4] ~= 0 then add('vcnt', d[6], d[4]) end
      end
    end
  end
end
for y, c in pairs(close) do
  local key = 'isf:{totals}:batches:' .. y
  redis.call('SET', key, count[y], 'KEEPTTL')
  if fresh[y] then redis.call('EXPIREAT', key, c) end
end
local hashes = {pts = 'isf:{totals}:pts', cnt = 'isf:{totals}:cnt', ts = ts, vpts = 'isf:{totals}:vpts',
  vcnt = 'isf:{totals}:vcnt'}
for hash, key in pairs(hashes) do
  for _, f in ipairs(sums[hash][1]) do redis.call('HINCRBY', key, f, sums[hash][2][f]) end
end
if applied > 0 then
  redis.call('EXPIRE', ts, 400 * 86400)
  redis.call('INCR', 'isf:{totals}:seq')  -- the totals moved: the view is due for a rebuild
end
return applied
"""
)


# KEYS[1]: the count of the first rule year (routes the call on a cluster: every key is in slot {totals}).
# ARGV: JSON [year, ...], then 16-byte digests (`applied_digest`); per digest, 1 if it is in the table of any year.
APPLIED_LUA = (
    APPLIED_TABLE_LUA
    + """
local years, n = cjson.decode(ARGV[1]), {}
for j, y in ipairs(years) do n[j] = tonumber(redis.call('GET', 'isf:{totals}:batches:' .. y) or '0') end
local out = {}
for i = 2, #ARGV do
  local hit = 0
  for j, y in ipairs(years) do
    if hit == 0 and known(y, n[j], ARGV[i]) then hit = 1 end
  end
  out[i - 1] = hit
end
return out
"""
)


def years_of(batch: DeltaBatch) -> list[int]:
    """The rule years a batch's deltas name in their stat keys (`P|<year>|...`, `I|<year>|...`, `S|<year>|...`)."""
    return sorted({int(d.stat.split("|", 2)[1]) for d in batch.deltas})


def tag_of(source: str) -> str:
    """The HF of a source id `E:<hf>:<id>`: every key of one source shares it."""
    return source.split(":", 2)[1]


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


class RedisStore:
    """Async facade over the scripts for the faust services: each call takes a whole micro-batch and
    makes one round trip (a pipeline of scripts, each atomic on its own).

    On Redis Cluster, redis-py refuses scripts in a cluster pipeline, so the calls are grouped by the
    node that owns their KEYS[1] and each group goes as one plain pipeline to its node, all nodes at once:
    still one round trip. A moved slot (resharding, failover) refreshes the slot map and sends again."""

    SCRIPTS = {"ingest": INGEST_LUA, "dead": DEAD_LUA, "aside": ASIDE_LUA, "ledger": LEDGER_LUA, "totals": TOTALS_LUA}

    def __init__(self, client, clock=None, *, event_ttl: int = 14 * 24 * 3600, retain_years: int = 1):
        """`clock` (Unix seconds), if given, is the time the scripts judge rule-year closes and dead-letter
        retention by instead of Redis' own (the store contract's controlled clock); `event_ttl` and
        `retain_years` are ISF_EVENT_TTL and ISF_RETAIN_YEARS, handed over by the bootstrap."""
        self.r = client
        self.clock = clock
        self.event_ttl, self.retain_years = event_ttl, retain_years
        self.cluster = isinstance(client, aredis.RedisCluster)
        self._nodes: dict[str, aredis.Redis] = {}  # node name -> a plain client on that node (cluster only)
        self._sha = {name: hashlib.sha1(text.encode()).hexdigest() for name, text in self.SCRIPTS.items()}

    def _now(self) -> str:
        """The scripts' clock: "" for Redis' own time."""
        return str(int(self.clock())) if self.clock is not None else ""

    async def _load_scripts(self) -> None:
        """Load every script (a cluster client loads it on every primary); again after a restart or failover."""
        for text in self.SCRIPTS.values():
            await self.r.script_load(text)

    async def _pipeline(self, client, sha: str, calls: list[tuple[list[str], list]]) -> list:
        async with client.pipeline(transaction=False) as pipe:
            for keys, args in calls:
                pipe.evalsha(sha, len(keys), *keys, *args)
            return await pipe.execute()

    def _node_client(self, node) -> aredis.Redis:
        if node.name not in self._nodes:
            self._nodes[node.name] = aredis.Redis(
                connection_pool=aredis.ConnectionPool(connection_class=node.connection_class, **node.connection_kwargs)
            )
        return self._nodes[node.name]

    async def _by_node(self, sha: str, calls: list[tuple[list[str], list]]) -> list:
        await self.r.initialize()
        groups: dict[str, tuple[object, list[int]]] = {}
        for i, (keys, _args) in enumerate(calls):
            node = self.r.get_node_from_key(keys[0])
            groups.setdefault(node.name, (node, []))[1].append(i)
        answers = await asyncio.gather(
            *(self._pipeline(self._node_client(node), sha, [calls[i] for i in idx]) for node, idx in groups.values())
        )
        out: list = [None] * len(calls)
        for (_node, idx), got in zip(groups.values(), answers):
            for i, value in zip(idx, got):
                out[i] = value
        return out

    async def _refresh_slots(self) -> None:
        for client in self._nodes.values():
            await client.aclose()
        self._nodes.clear()
        await self.r.nodes_manager.initialize()

    async def _run(self, name: str, calls: list[tuple[list[str], list]]) -> list:
        """(KEYS, ARGV) per call, as EVALSHA in one pipeline: one round trip (per node). While Redis is
        unreachable (restarting, loading its AOF), wait and try again; a script Redis does not know
        (after a restart, on a new primary) is loaded and the pipeline sent again. Every script is
        idempotent, so running a batch again after an unknown outcome is safe."""
        if not calls:
            return []
        delay = 0.1
        while True:
            try:
                t0 = time.perf_counter()
                if self.cluster:
                    out = await self._by_node(self._sha[name], calls)
                else:
                    out = await self._pipeline(self.r, self._sha[name], calls)
                observability.redis_round_trip(name, time.perf_counter() - t0)
                return out
            except NoScriptError:
                await self._load_scripts()
            except (
                ConnectionError,
                TimeoutError,
                OSError,
                BusyLoadingError,
                RedisConnectionError,
                RedisTimeoutError,
                MovedError,
                AskError,
                ClusterDownError,
                TryAgainError,
            ) as exc:
                log.warning("Redis unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)
                if self.cluster:
                    try:
                        await self._refresh_slots()
                    except Exception as again:  # the cluster is still away: the next round tries again
                        log.warning("Redis Cluster slots not refreshed (%s)", type(again).__name__)

    async def decide(self, items: list[tuple[str, str, str, str, int, str]]) -> list[tuple[str, str]]:
        """(source, event id, revision, category, closes-at, patient) -> (ingest decision, the patient the
        source was withdrawn from or ""), per item."""
        out = [
            (_text(o[0]), _text(o[1]))
            for o in await self._run(
                "ingest",
                [
                    (
                        [names.counters(tag_of(src))],
                        [tag_of(src), src, eid, rev, cat, close, patient, self._now()],
                    )
                    for src, eid, rev, cat, close, patient in items
                ],
            )
        ]
        outcomes = [o for o, _moved in out]
        for outcome in set(outcomes):
            observability.count(outcome, outcomes.count(outcome))
        return out

    async def dead_letter(self, items: list[tuple[str | None, str, str]]) -> list[bool]:
        """(hf, payload digest, readable errors) -> first sight of that payload (counted), per item."""
        out = [
            bool(o)
            for o in await self._run(
                "dead",
                [
                    ([names.counters(hf)], [hf or "none", digest, self.event_ttl, errors, self._now()])
                    for hf, digest, errors in items
                ],
            )
        ]
        observability.count("dead_lettered", sum(out))
        return out

    async def set_aside(self, stage: str, digests: list[str]) -> int:
        """Count items a stage set aside, each (stage, item) once however often it is met again (a redelivery,
        or a redrive before the fix): returns how many were new."""
        ttl = self.event_ttl
        out = await self._run("aside", [([names.SET_ASIDE], [stage, d, ttl]) for d in digests])
        return sum(int(o) for o in out)

    async def apply(self, items: list[tuple[str, str, str, str, Contributions, int]]) -> list[DeltaBatch | None]:
        """(namespace, patient, source, revision, contributions, closes-at) -> the deltas it caused, None if
        outdated. A patient's ledger keys share the patient's hash tag (a TFG patient-period spans HFs)."""
        out = await self._run(
            "ledger",
            [
                (
                    [names.ledger(patient, ns)],
                    [ns, src, rev, json.dumps(new.to_json(), separators=(",", ":")), close, self._now()],
                )
                for ns, patient, src, rev, new, close in items
            ],
        )
        batches: list[DeltaBatch | None] = []
        for (ns, _patient, src, ver, _new, _close), (status, payload) in zip(items, out):
            if _text(status) == "old":
                batches.append(None)
                continue
            rows = json.loads(payload)
            rows = rows if isinstance(rows, list) else []
            batches.append(
                DeltaBatch(
                    id=f"{ns}:{src}:{ver}",
                    deltas=[Delta(stat=s, period=p, points_micro=int(a), count=int(c)) for s, p, a, c in rows],
                )
            )
        return batches

    async def settle(self, batches: list[DeltaBatch], now: float | None = None) -> int:
        """Sum each batch into the totals once, and its points into the hour it was settled in (the
        monitor's time series); returns how many were new."""
        retain = self.retain_years
        args: list[str] = [time.strftime("%Y%m%d%H", time.gmtime(now))]
        for b in batches:
            rows = [
                [d.stat, d.period, d.points_micro, d.count, *(view_fields(d.stat, d.period) or ())] for d in b.deltas
            ]
            args += [
                b.id,
                json.dumps(rows) if rows else "[]",
                json.dumps([[y, closes_at(y, retain)] for y in years_of(b)]),
            ]
        if len(args) == 1:
            return 0
        new = int((await self._run("totals", [([names.POINTS_TOTALS], args)]))[0])
        observability.count("settled", new)
        observability.count("already_settled", len(batches) - new)
        return new

    async def worker_stats(self, service: str, worker: str, n: int, now: float) -> None:
        async with self.r.pipeline(transaction=False) as p:
            if n:
                p.hincrby(names.STATS_PROCESSED, service, n)
                p.hincrby(names.STATS_WORKERS, worker, n)
            p.hset(names.STATS_BEAT, worker, f"{now:.3f}")
            await p.execute()


def read_totals(client) -> list[tuple[str, int, int]]:
    """Settled totals as (`stat|period`, micro-points, count) rows; synchronous, for reports and tests."""
    pts = {k.decode(): int(v) for k, v in client.hgetall(names.POINTS_TOTALS).items()}
    cnt = {k.decode(): int(v) for k, v in client.hgetall(names.COUNT_TOTALS).items()}
    rows = [(k, pts.get(k, 0), cnt.get(k, 0)) for k in sorted(set(pts) | set(cnt))]
    return [r for r in rows if r[1] or r[2]]


def read_view_sums(client) -> ViewSums:
    """The view's sums the settlement script keeps (`isf.settlement.views`), zeros left out; synchronous."""
    return tuple(  # type: ignore[return-value]
        {k.decode(): int(v) for k, v in client.hgetall(key).items() if v != b"0"}
        for key in (names.VIEW_POINT_SUMS, names.VIEW_COUNT_SUMS)
    )


def rebuild_view_sums(client) -> bool:
    """Sum the view's sums from the totals when the totals have none (kept by releases before the sums were):
    in one transaction that is retried if a settlement call lands meanwhile, so no batch is summed twice or
    left out (every key is in the slot `{totals}`, so this runs on Redis Cluster too). Returns whether it rebuilt
    them."""
    with client.pipeline(transaction=True) as p:
        while True:
            try:
                p.watch(names.POINTS_TOTALS, names.COUNT_TOTALS, names.VIEW_POINT_SUMS, names.VIEW_COUNT_SUMS)
                if p.exists(names.VIEW_POINT_SUMS, names.VIEW_COUNT_SUMS) or not p.exists(names.POINTS_TOTALS):
                    return False
                points, counts = view_sums(read_totals(p))
                p.multi()
                for key, sums in ((names.VIEW_POINT_SUMS, points), (names.VIEW_COUNT_SUMS, counts)):
                    if sums:
                        p.hset(key, mapping=sums)
                p.incr(names.SETTLE_SEQ)
                p.execute()
                return True
            except redis.WatchError:
                continue


def applied_digest(batch_id: str) -> bytes:
    """What the applied tables hold of a batch id: the first 16 bytes of its SHA-1 (TOTALS_LUA)."""
    return hashlib.sha1(batch_id.encode()).digest()[:16]


def read_applied(client, ids: list[str], digests: list[bytes] | None = None) -> list[bool]:
    """Whether each delta batch id has been summed into the totals (in the applied table of any rule year):
    one script call however many ids (the latency bench asks about thousands a second). `digests`, if given,
    are the ids' `applied_digest`s, computed once by a caller that asks about the same ids again."""
    from isf.rules import YEARS

    if not ids:
        return []
    digests = digests or [applied_digest(i) for i in ids]
    script = client.register_script(APPLIED_LUA)  # EVALSHA, loading the script when Redis lacks it
    hits = script(keys=[names.batches(YEARS[0])], args=[json.dumps(list(YEARS)), *digests])
    return [bool(h) for h in hits]


def read_nki(client) -> dict[int, dict[str, tuple[int, int]]]:
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for k, v in client.hgetall(names.NKI_VALUES).items():
        year, hf = k.decode().split("|")
        num, den = v.decode().split(",")
        out.setdefault(int(year), {})[hf] = (int(num), int(den))
    return out


def read_hf_counters(client) -> dict[str, dict[str, int]]:
    """Ingest counters per HF (`none` for input without a known HF): one pipelined read per known HF, no scans."""
    from isf.registry import hospitals

    hfs = [*hospitals(), "none"]
    p = client.pipeline(transaction=False)
    for hf in hfs:
        p.hgetall(names.counters(hf))
    return {hf: {k.decode(): int(v) for k, v in got.items()} for hf, got in zip(hfs, p.execute()) if got}


def read_counters(client) -> dict[str, int]:
    out: dict[str, int] = {}
    for counters in read_hf_counters(client).values():
        for k, v in counters.items():
            out[k] = out.get(k, 0) + v
    return out


def read_errors(client, hfs: list[str]) -> dict[str, list[list[str]]]:
    """The latest dead-letter error lists per HF (newest first)."""
    p = client.pipeline(transaction=False)
    for hf in hfs:
        p.lrange(names.errors(hf), 0, 19)
    return {hf: [json.loads(e) for e in got] for hf, got in zip(hfs, p.execute()) if got}


def read_set_aside(client) -> dict[str, int]:
    """Items set aside per stage (each counted once)."""
    return {k.decode(): int(v) for k, v in client.hgetall(names.SET_ASIDE).items()}
