"""The statements from Redis are those of a replay, read from the kept sums and not the totals; a statement frozen
when paid stays as paid; late first-tertial corrections land in the difference and in the next statement's change."""

import asyncio
import json
from decimal import Decimal

import pytest
import redis
import redis.asyncio as aredis

from isf.feed import Feed, FeedConfig
from isf.replay import Pipeline
from isf.settlement.statements import Settled, every_statement
from services.cli import main
from services.common import names
from services.common.infra import LocalInfra
from services.common.redis import SettledTotals
from services.settlement.statements import compute_statements
from tests.integration.store_values import store_values

pytestmark = pytest.mark.integration


def settle(url, batches):
    async def go():
        await SettledTotals(aredis.from_url(url), **store_values()).settle(batches)

    asyncio.run(go())


def test_the_statements_from_redis_are_the_replays_and_read_no_totals():
    batches = []
    events = [raw for _k, raw in Feed(FeedConfig(seed=72)).events(3000)]
    replayed = list(Pipeline(b"k", on_batch=batches.append).run(events).totals.rows())
    with LocalInfra() as infra:
        client = redis.Redis.from_url(infra.redis_url)
        settle(infra.redis_url, batches)
        docs = compute_statements(client)
        assert docs == every_statement(Settled(replayed)) and {"2026|final", "2026|difference"} <= set(docs)
        client.delete(names.POINTS_TOTALS, names.COUNT_TOTALS)
        assert compute_statements(client) == docs


def test_frozen_statements_and_the_changes_against_what_was_paid(capsys):
    early, late, later = [], [], []
    events = [raw for _k, raw in Feed(FeedConfig(seed=71)).events(3600)]
    pipe = Pipeline(b"k", on_batch=early.append)
    pipe.run(events[:2000])
    pipe.on_batch = late.append
    pipe.run(events[2000:3000])  # corrections and new activity, some of it in the first tertial
    pipe.on_batch = later.append
    pipe.run(events[3000:])
    with LocalInfra() as infra:
        client = redis.Redis.from_url(infra.redis_url)
        settle(infra.redis_url, early)
        before = compute_statements(client)["2026|t1"]
        assert main(["statement", "--year", "2026", "--freeze", "--redis", infra.redis_url]) == 0  # t1 by default
        assert main(["statement", "--year", "2026", "--kind", "t1", "--freeze", "--redis", infra.redis_url]) == 2
        assert "frozen already" in capsys.readouterr().err
        assert main(["statement", "--year", "2026", "--kind", "final", "--freeze", "--redis", infra.redis_url]) == 2
        settle(infra.redis_url, late)
        docs = compute_statements(client)
        t1, t2, final, diff = (docs[f"2026|{k}"] for k in ("t1", "t2", "final", "difference"))
        assert t1["hf"] == before["hf"] and "frozen_at" in t1  # the statement after tertial 1 stays as it was paid
        live = Pipeline(b"k").run(events[:3000]).totals.rows()
        from isf.settlement.statements import statement

        assert statement(list(live), 2026, "t1")["hf"] != t1["hf"]  # the first tertial did move
        for hf, v in final["hf"].items():
            paid = Decimal(t1["hf"].get(hf, {"nok": "0"})["nok"])
            assert Decimal(diff["hf"][hf]["nok"]) == Decimal(v["nok"]) - paid
        for hf, v in t2["hf"].items():
            paid = Decimal(t1["hf"].get(hf, {"nok": "0"})["nok"])
            assert Decimal(t2["change"]["hf"][hf]["nok"]) == Decimal(v["nok"]) - paid
        assert main(["statement", "--year", "2026", "--kind", "provisional", "--redis", infra.redis_url]) == 0
        assert json.loads(capsys.readouterr().out)["frozen_at"] == t1["frozen_at"]
        # the statement after tertial 2, once paid, is what the final statement's change is measured from
        assert main(["statement", "--year", "2026", "--kind", "t2", "--freeze", "--redis", infra.redis_url]) == 0
        settle(infra.redis_url, later)
        docs = compute_statements(client)
        paid_t2, final = docs["2026|t2"], docs["2026|final"]
        assert paid_t2["frozen_at"] and paid_t2["hf"] == t2["hf"]
        for hf, v in final["hf"].items():
            paid = Decimal(paid_t2["hf"].get(hf, {"nok": "0"})["nok"])
            assert Decimal(final["change"]["hf"][hf]["nok"]) == Decimal(v["nok"]) - paid
        moved = statement(list(Pipeline(b"k").run(events).totals.rows()), 2026, "t2")
        assert moved["hf"] != paid_t2["hf"]  # the later activity did move the first two tertials
