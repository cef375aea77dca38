"""The store contract (tests/store_contract.py) against the Lua scripts on a real Redis."""

import asyncio

import pytest
import redis
import redis.asyncio as aredis

from services.common.infra import LocalInfra
from services.common.redis_store import RedisStore, read_totals
from tests.store_contract import StoreContract

pytestmark = pytest.mark.integration


class TestRedisStores(StoreContract):
    @pytest.fixture(autouse=True, scope="class")
    def _redis(self, request):
        loop = asyncio.new_event_loop()
        with LocalInfra() as infra:
            request.cls.url = infra.redis_url
            request.cls.loop = loop
            yield
        loop.close()

    def fresh(self):
        redis.Redis.from_url(self.url).flushdb()
        store = RedisStore(aredis.from_url(self.url))
        return store, store, store

    def drive(self, coro):
        return self.loop.run_until_complete(coro)

    def rows(self) -> list:
        return read_totals(redis.Redis.from_url(self.url))
