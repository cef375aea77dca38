"""The one statement path (`isf.settlement.statements.Settled`): what the settlement service publishes and what
`isf statement` prints are computed through it, and `to_freeze` is the one freeze rule."""

from decimal import Decimal

import pytest

from isf.events import NkiV1
from isf.replay import Pipeline
from isf.settlement.statements import (
    Settled,
    StatementError,
    every_statement,
    statement_years,
    statements,
    to_freeze,
)

from .helpers import KEY, episode, raw


def _visit(patient: str, day: str) -> bytes:
    return raw(episode(patient_id=patient, admitted_at=f"{day}T08:00:00", discharged_at=f"{day}T09:00:00"))


ROWS = list(Pipeline(KEY).run([_visit("SYN-a", "2025-02-03"), _visit("SYN-b", "2026-06-03")]).totals.rows())


def test_every_statement_is_each_years_statements_keyed_by_year_and_kind():
    assert statement_years(ROWS) == [2025, 2026]
    docs = every_statement(Settled(ROWS))
    assert sorted(docs) == [f"{y}|{k}" for y in (2025, 2026) for k in ("difference", "final", "t1", "t2")]
    assert docs["2026|final"] == statements(ROWS, 2026)["final"]


def test_a_frozen_statement_stands_for_its_kind_of_its_year_only():
    paid = {**statements(ROWS, 2025)["t1"], "frozen_at": "then", "hf": {}}
    settled = Settled(ROWS, paid={2025: {"t1": paid}})
    assert settled.statements(2025)["t1"] is paid
    assert settled.statements(2026)["t1"] == statements(ROWS, 2026)["t1"]


def test_freezing_stamps_the_live_statement_and_refuses_other_kinds_and_a_second_freeze():
    live = Settled(ROWS)
    doc = to_freeze(live, 2025, "t1", "2025-05-02T00:00:00Z")
    assert doc == {**statements(ROWS, 2025)["t1"], "frozen_at": "2025-05-02T00:00:00Z"}
    for kind in ("final", "difference"):
        with pytest.raises(StatementError, match="only the statements after tertial 1 and 2"):
            to_freeze(live, 2025, kind, "now")
    with pytest.raises(StatementError, match=r"frozen already \(at 2025-05-02T00:00:00Z\)"):
        to_freeze(Settled(ROWS, paid={2025: {"t1": doc}}), 2025, "t1", "later")
    assert to_freeze(Settled(ROWS, paid={2025: {"t1": doc}}), 2025, "t2", "later")["frozen_at"] == "later"


def test_nki_values_given_replace_those_of_their_year_and_hf_and_reach_the_rbf():
    def nki(hf: str, num: int) -> NkiV1:
        return NkiV1.model_validate({"schema": "nki/v1", "hf": hf, "year": 2025, "numerator": num, "denominator": 10})

    base = Settled(ROWS, nki={2025: {"ous": (1, 10), "hbe": (2, 10)}})
    given = base.with_nki([nki("ous", 9)])
    assert given.nki == {2025: {"ous": (9, 10), "hbe": (2, 10)}}
    assert base.nki == {2025: {"ous": (1, 10), "hbe": (2, 10)}}  # the state it came from is left as it was
    ach = given.statements(2026)["final"]["rbf"]["achievements"]["sor-ost"]["9"]
    assert Decimal(ach) == Decimal(90)
