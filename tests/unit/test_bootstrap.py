"""The composition root hands each part its values: the store its TTL and retention, ingest's input its batch
settings, the ops server a readiness probe that names each dependency that does not answer."""

import asyncio

from services.common import bootstrap, observability
from services.common.infra import free_port


class Assigned:
    """An input with a fixed assignment."""

    consumes = True

    def __init__(self, partitions: set):
        self.partitions = partitions

    def assignment(self) -> set:
        return self.partitions

    def end(self, tp) -> int | None:
        return None

    def next_offset(self, tp) -> int:
        return 0


def test_readiness_names_each_check_that_fails_and_an_input_without_partitions():
    async def answers():
        return None

    async def refuses():
        return "metadata request failed"

    async def raises():
        raise ConnectionError("down")

    ok, reasons = asyncio.run(observability.readiness(Assigned(set()), {"a": answers, "b": refuses, "c": raises}))
    assert not ok
    assert reasons == {
        "partitions": "no partitions assigned yet",
        "b": "metadata request failed",
        "c": "no answer: ConnectionError",
    }
    tp = ("isf.activity", 0)
    assert asyncio.run(observability.readiness(Assigned({tp}), {"a": answers})) == (True, {})


def test_the_bootstrap_hands_the_store_and_the_input_their_settings(monkeypatch):
    monkeypatch.setenv("ISF_EVENT_TTL", "99")
    monkeypatch.setenv("ISF_RETAIN_YEARS", "3")
    monkeypatch.setenv("ISF_BATCH", "7")
    monkeypatch.setenv("ISF_BATCH_WITHIN", "0.5")
    monkeypatch.setenv("ISF_FETCH_MAX_WAIT_MS", "30")
    monkeypatch.setenv("KAFKA_BOOTSTRAP", "10.1.2.3:9093")
    svc = bootstrap.service("ingest", plain_input=("isf.in.a", "isf.in.b"))
    assert (svc.store.ingest.event_ttl, svc.store.ledger.retain_years) == (99, 3)
    assert svc.app.conf.id == "isf-ingest" and svc.app.producer_only
    plain = svc.plain_input()
    assert (plain.group, plain.topics, plain.batch, plain.within, plain.fetch_max_wait_ms) == (
        "isf-ingest",
        ("isf.in.a", "isf.in.b"),
        7,
        0.5,
        30,
    )
    assert plain.client["bootstrap_servers"] == "10.1.2.3:9093"
    grouper = bootstrap.service("grouper")
    assert isinstance(grouper.source, observability.FaustInput) and not grouper.app.producer_only


def test_a_service_is_not_ready_while_its_redis_does_not_answer(monkeypatch):
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{free_port()}/0")  # nothing listens there
    svc = bootstrap.service("grouper")
    ok, reasons = asyncio.run(svc.ready())
    assert not ok and reasons["redis"].startswith("no answer: ")
