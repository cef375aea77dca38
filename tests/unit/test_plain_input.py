"""Ingest's input batches: partitions interleaved in the order the records were sent."""

from collections import namedtuple

from services.common.plain_input import values_as_sent

Record = namedtuple("Record", "timestamp value")


def test_a_correction_on_another_partition_comes_after_the_version_it_corrects():
    batch = {  # the correction moved the source to a patient whose events go to another partition
        "p2": [Record(105, b"source-1 v2 (patient B)"), Record(107, b"other")],
        "p0": [Record(100, b"source-1 v1 (patient A)"), Record(106, b"more")],
    }
    assert values_as_sent(batch) == [b"source-1 v1 (patient A)", b"source-1 v2 (patient B)", b"more", b"other"]


def test_a_partition_keeps_its_own_order_even_when_its_clock_went_back():
    batch = {"p0": [Record(200, b"v1"), Record(150, b"v2")], "p1": [Record(170, b"x"), Record(0, b"y")]}
    got = values_as_sent(batch)
    assert got.index(b"v1") < got.index(b"v2") and got.index(b"x") < got.index(b"y")


def test_an_empty_value_is_handed_over_as_empty_bytes():
    assert values_as_sent({"p0": [Record(1, None)]}) == [b""]
