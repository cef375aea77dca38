"""Redis adapters: the ingest version ledger, the contribution ledger and settled totals, each one Lua script.

Every script runs the same rules as its in-memory twin in `isf` (ingest.MemoryIngestLedger,
periods.ledger.MemoryLedger, settlement.totals.Totals), atomically, so several workers can
share the work and a re-delivered message changes nothing. Keys that one script touches
share a hash tag (`{hf}` or `{totals}`), so the scripts also run on Redis Cluster.

Keys:
- `isf:{hf}:cur:<source>` hash v, e: current version of a source and the event id that set it
- `isf:{hf}:evt:<event id>` string, outcome of an event id's first sight, expires after ISF_EVENT_TTL (14 days)
- `isf:{hf}:dead:<sha256>` string, a dead-lettered payload already counted (same expiry)
- `isf:{hf}:errors` list: the latest 20 dead-letter error lists of the HF (readable, no identifiers)
- `isf:{hf}:counters` hash: accepted, duplicate, superseded, dead_lettered, grouped, deleted, ongoing
- `isf:{hf}:src:<ns>:<source>` hash v, c (contributions JSON), h:<version> (deltas it caused)
- `isf:{hf}:u:<stat>|<period>|<patient>` sorted set: sources in a patient-period, scored yyyymmdd
- `isf:{totals}:pts`, `isf:{totals}:cnt` hashes `<stat>|<period>` -> micro-points, count
- `isf:{totals}:applied` set of delta batch ids already summed
- `isf:{totals}:ts:<yyyymmddhh>` hash hf -> micro-points settled in that UTC hour (kept 400 days)
- `isf:{totals}:views` hash `summary` -> the monitor's materialised view (settlement, every second)
- `isf:{totals}:nki` hash `year|hf` -> `numerator,denominator`: external NKI values for indicator 9
- `isf:{totals}:statements` hash `year|kind` -> statement JSON (provisional, final, difference),
  recomputed by the settlement service every ISF_STATEMENT_INTERVAL seconds (default 5)
- `isf:{stats}:processed` hash service -> messages handled; `isf:{stats}:workers` hash
  `service:pid` -> messages handled; `isf:{stats}:beat` hash `service:pid` -> unix time of last flush

Expiry: a source's ledger keys (`cur:`, `src:`, `u:`) expire when its activity's rule year
closes (`isf.periods.calendar.closes_at`, 1 January two years on by default); ingest refuses
activity of a closed year, so an expired key is never needed again.
"""
from __future__ import annotations

import asyncio
import json
import logging
import os
import time

from redis.exceptions import BusyLoadingError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from isf.events import Delta, DeltaBatch
from isf.periods.ledger import Contributions

log = logging.getLogger("isf.redis")
EVENT_TTL = int(os.environ.get("ISF_EVENT_TTL", str(14 * 24 * 3600)))

INGEST_LUA = """
local tag, source, event_id, ver, category, ttl, close = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5], ARGV[6], tonumber(ARGV[7])
local p = 'isf:{' .. tag .. '}:'
local seen = redis.call('GET', p .. 'evt:' .. event_id)
local cur = redis.call('HMGET', p .. 'cur:' .. source, 'v', 'e')
if seen then
  if cur[1] and tonumber(cur[1]) == ver and cur[2] == event_id then return 'repeat_current' end
  return 'repeat'
end
local outcome
if (not cur[1]) or ver > tonumber(cur[1]) then
  redis.call('HSET', p .. 'cur:' .. source, 'v', ver, 'e', event_id)
  if close > 0 then redis.call('EXPIREAT', p .. 'cur:' .. source, close) end
  outcome = 'accepted'
  redis.call('HINCRBY', p .. 'counters', category, 1)
elseif ver == tonumber(cur[1]) then outcome = 'duplicate' else outcome = 'superseded' end
redis.call('SET', p .. 'evt:' .. event_id, outcome, 'EX', ttl)
redis.call('HINCRBY', p .. 'counters', outcome, 1)
return outcome
"""

DEAD_LUA = """
local p = 'isf:{' .. ARGV[1] .. '}:'
if redis.call('SET', p .. 'dead:' .. ARGV[2], '1', 'NX', 'EX', ARGV[3]) then
  redis.call('HINCRBY', p .. 'counters', 'dead_lettered', 1)
  redis.call('LPUSH', p .. 'errors', ARGV[4])
  redis.call('LTRIM', p .. 'errors', 0, 19)
  return 1
end
return 0
"""

LEDGER_LUA = """
local tag, ns, src, verstr, newj, close = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], tonumber(ARGV[6])
local ver = tonumber(verstr)
local p = 'isf:{' .. tag .. '}:'
local skey = p .. 'src:' .. ns .. ':' .. src
local hist = redis.call('HGET', skey, 'h:' .. verstr)
if hist then return {'again', hist} end
local cur = redis.call('HGET', skey, 'v')
if cur and tonumber(cur) > ver then return {'old', ''} end
local old = {i = {}, u = {}}
local oldj = redis.call('HGET', skey, 'c')
if oldj then old = cjson.decode(oldj) end
local new = cjson.decode(newj)
local deltas = {}
for _, it in ipairs(old.i) do table.insert(deltas, {it[1], it[2], -it[3], -it[4]}) end
for _, it in ipairs(new.i) do table.insert(deltas, {it[1], it[2], it[3], it[4]}) end
local function ukey(u) return p .. 'u:' .. u[1] .. '|' .. u[3] .. '|' .. u[2] end
local touched, order = {}, {}
for _, list in ipairs({old.u, new.u}) do
  for _, u in ipairs(list) do
    local k = ukey(u)
    if touched[k] == nil then table.insert(order, k) end
    touched[k] = u
  end
end
local function first(k)
  local r = redis.call('ZRANGE', k, 0, 0, 'WITHSCORES')
  if #r == 0 then return nil end
  return tonumber(r[2])
end
local function attribution(u, s)
  if s == nil then return nil end
  if tonumber(u[5]) == 1 then
    local y = math.floor(s / 10000)
    local m = math.floor(s / 100) % 100
    return string.format('%d-T%d', y, math.floor((m - 1) / 4) + 1)
  end
  return u[3]
end
local before = {}
for _, k in ipairs(order) do before[k] = first(k) or false end
for _, u in ipairs(old.u) do redis.call('ZREM', ukey(u), src) end
for _, u in ipairs(new.u) do
  redis.call('ZADD', ukey(u), u[6], src)
  if close > 0 then redis.call('EXPIREAT', ukey(u), close) end
end
for _, k in ipairs(order) do
  local u = touched[k]
  local b = before[k]
  if b == false then b = nil end
  local ba, aa = attribution(u, b), attribution(u, first(k))
  if ba ~= aa then
    if ba then table.insert(deltas, {u[1], ba, -u[4], -1}) end
    if aa then table.insert(deltas, {u[1], aa, u[4], 1}) end
  end
end
local acc, korder = {}, {}
for _, d in ipairs(deltas) do
  local k = d[1] .. '\\0' .. d[2]
  if acc[k] == nil then acc[k] = {d[1], d[2], 0, 0}; table.insert(korder, k) end
  acc[k][3] = acc[k][3] + d[3]
  acc[k][4] = acc[k][4] + d[4]
end
local merged = {}
for _, k in ipairs(korder) do
  local a = acc[k]
  if a[3] ~= 0 or a[4] ~= 0 then table.insert(merged, a) end
end
local mj = '[]'
if #merged > 0 then mj = cjson.encode(merged) end
redis.call('HSET', skey, 'v', verstr, 'c', newj, 'h:' .. verstr, mj)
if close > 0 then redis.call('EXPIREAT', skey, close) end
return {'new', mj}
"""

TOTALS_LUA = """
local ts = 'isf:{totals}:ts:' .. ARGV[1]
local applied = 0
for i = 2, #ARGV, 2 do
  if redis.call('SADD', 'isf:{totals}:applied', ARGV[i]) == 1 then
    applied = applied + 1
    for _, d in ipairs(cjson.decode(ARGV[i + 1])) do
      local f = d[1] .. '|' .. d[2]
      if d[3] ~= 0 then
        redis.call('HINCRBY', 'isf:{totals}:pts', f, d[3])
        local hf = string.match(d[1], '^P|%d+|([^|]+)|')
        if hf then redis.call('HINCRBY', ts, hf, d[3]) end
      end
      if d[4] ~= 0 then redis.call('HINCRBY', 'isf:{totals}:cnt', f, d[4]) end
    end
  end
end
if applied > 0 then redis.call('EXPIRE', ts, 400 * 86400) end
return applied
"""


def tag_of(source: str) -> str:
    """The HF of a source id `E:<hf>:<id>`: every key of one source shares it."""
    return source.split(":", 2)[1]


def _text(v) -> str:
    return v.decode() if isinstance(v, bytes) else v


class RedisStore:
    """Async facade over the scripts for the faust services: each call takes a whole micro-batch and
    makes one round trip (a pipeline of scripts, each atomic on its own)."""

    def __init__(self, client):
        self.r = client
        self._ingest = client.register_script(INGEST_LUA)
        self._dead = client.register_script(DEAD_LUA)
        self._ledger = client.register_script(LEDGER_LUA)
        self._totals = client.register_script(TOTALS_LUA)

    async def _run(self, script, arg_lists: list[list]) -> list:
        """One round trip; while Redis is unreachable (restarting, loading its AOF), wait and try again.
        Every script is idempotent, so running a batch again after an unknown outcome is safe."""
        if not arg_lists:
            return []
        delay = 0.1
        while True:
            try:
                async with self.r.pipeline(transaction=False) as pipe:
                    for args in arg_lists:
                        await script(args=args, client=pipe)
                    return await pipe.execute()
            except (ConnectionError, TimeoutError, OSError, BusyLoadingError, RedisConnectionError,
                    RedisTimeoutError) as exc:
                log.warning("Redis unavailable (%s); retrying in %.1f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 2.0)

    async def decide(self, items: list[tuple[str, str, int, str, int]]) -> list[str]:
        """(source, event id, version, category, closes-at) -> ingest decision, per item."""
        out = await self._run(self._ingest, [[tag_of(src), src, eid, ver, cat, EVENT_TTL, close]
                                             for src, eid, ver, cat, close in items])
        return [_text(o) for o in out]

    async def dead_letter(self, items: list[tuple[str | None, str, str]]) -> list[bool]:
        """(hf, payload digest, readable errors) -> first sight of that payload (counted), per item."""
        out = await self._run(self._dead, [[hf or "none", digest, EVENT_TTL, errors] for hf, digest, errors in items])
        return [bool(o) for o in out]

    async def apply(self, items: list[tuple[str, str, int, Contributions, int]]) -> list[DeltaBatch | None]:
        """(namespace, source, version, contributions, closes-at) -> the deltas it caused, None if outdated."""
        out = await self._run(self._ledger, [
            [tag_of(src), ns, src, ver, json.dumps(new.to_json(), separators=(",", ":")), close]
            for ns, src, ver, new, close in items])
        batches: list[DeltaBatch | None] = []
        for (ns, src, ver, _new, _close), (status, payload) in zip(items, out):
            if _text(status) == "old":
                batches.append(None)
                continue
            rows = json.loads(payload)
            rows = rows if isinstance(rows, list) else []
            batches.append(DeltaBatch(id=f"{ns}:{src}:{ver}", deltas=[
                Delta(stat=s, period=p, points_micro=int(a), count=int(c)) for s, p, a, c in rows]))
        return batches

    async def settle(self, batches: list[DeltaBatch], now: float | None = None) -> int:
        """Sum each batch into the totals once, and its points into the hour it was settled in (the
        monitor's time series); returns how many were new."""
        args: list[str] = [time.strftime("%Y%m%d%H", time.gmtime(now))]
        for b in batches:
            rows = [[d.stat, d.period, d.points_micro, d.count] for d in b.deltas]
            args += [b.id, json.dumps(rows) if rows else "[]"]
        return int((await self._run(self._totals, [args]))[0]) if len(args) > 1 else 0

    async def worker_stats(self, service: str, worker: str, n: int, now: float) -> None:
        async with self.r.pipeline(transaction=False) as p:
            if n:
                p.hincrby("isf:{stats}:processed", service, n)
                p.hincrby("isf:{stats}:workers", worker, n)
            p.hset("isf:{stats}:beat", worker, f"{now:.3f}")
            await p.execute()


def read_totals(client) -> list[tuple[str, int, int]]:
    """Settled totals as (`stat|period`, micro-points, count) rows; synchronous, for reports and tests."""
    pts = {k.decode(): int(v) for k, v in client.hgetall("isf:{totals}:pts").items()}
    cnt = {k.decode(): int(v) for k, v in client.hgetall("isf:{totals}:cnt").items()}
    rows = [(k, pts.get(k, 0), cnt.get(k, 0)) for k in sorted(set(pts) | set(cnt))]
    return [r for r in rows if r[1] or r[2]]


def read_nki(client) -> dict[int, dict[str, tuple[int, int]]]:
    out: dict[int, dict[str, tuple[int, int]]] = {}
    for k, v in client.hgetall("isf:{totals}:nki").items():
        year, hf = k.decode().split("|")
        num, den = v.decode().split(",")
        out.setdefault(int(year), {})[hf] = (int(num), int(den))
    return out


def read_hf_counters(client) -> dict[str, dict[str, int]]:
    """Ingest counters per HF (`none` for input without a known HF): one pipelined read per known HF, no scans."""
    from isf.registry import hospitals
    names = [*hospitals(), "none"]
    p = client.pipeline(transaction=False)
    for hf in names:
        p.hgetall(f"isf:{{{hf}}}:counters")
    return {hf: {k.decode(): int(v) for k, v in got.items()} for hf, got in zip(names, p.execute()) if got}


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
        p.lrange(f"isf:{{{hf}}}:errors", 0, 19)
    return {hf: [json.loads(e) for e in got] for hf, got in zip(hfs, p.execute()) if got}
