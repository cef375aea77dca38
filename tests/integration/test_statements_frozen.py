"""A frozen provisional statement stays as paid; late first-tertial corrections land in the difference."""

import asyncio
import json
from decimal import Decimal

import pytest
import redis
import redis.asyncio as aredis

from isf.feed import Feed, FeedConfig
from isf.replay import Pipeline
from services.cli import main
from services.common.infra import LocalInfra
from services.common.redis_store import RedisStore
from services.settlement.statements import compute_statements

pytestmark = pytest.mark.integration


def settle(url, batches):
    async def go():
        await RedisStore(aredis.from_url(url)).settle(batches)

    asyncio.run(go())


def test_frozen_provisional_and_the_difference_against_what_was_paid(capsys):
    early, late = [], []
    events = [raw for _k, raw in Feed(FeedConfig(seed=71)).events(3000)]
    pipe = Pipeline(b"k", on_batch=early.append)
    pipe.run(events[:2000])
    pipe.on_batch = late.append
    pipe.run(events[2000:])  # corrections and new activity, some of it in the first tertial
    with LocalInfra() as infra:
        client = redis.Redis.from_url(infra.redis_url)
        settle(infra.redis_url, early)
        before = compute_statements(client)["2026|provisional"]
        assert main(["statement", "--year", "2026", "--freeze", "--redis", infra.redis_url]) == 0
        assert main(["statement", "--year", "2026", "--freeze", "--redis", infra.redis_url]) == 2
        assert "frozen already" in capsys.readouterr().err
        settle(infra.redis_url, late)
        docs = compute_statements(client)
        prov, final, diff = docs["2026|provisional"], docs["2026|final"], docs["2026|difference"]
        assert prov["hf"] == before["hf"] and "frozen_at" in prov  # the provisional stays as it was paid
        live = Pipeline(b"k").run(events).totals.rows()
        from isf.settlement.statements import statement

        assert statement(list(live), 2026, "provisional")["hf"] != prov["hf"]  # the first tertial did move
        for hf, v in final["hf"].items():
            paid = Decimal(prov["hf"].get(hf, {"nok": "0"})["nok"])
            assert Decimal(diff["hf"][hf]["nok"]) == Decimal(v["nok"]) - paid
        assert main(["statement", "--year", "2026", "--kind", "provisional", "--redis", infra.redis_url]) == 0
        assert json.loads(capsys.readouterr().out)["frozen_at"] == prov["frozen_at"]
