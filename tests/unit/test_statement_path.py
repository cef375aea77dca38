"""The one statement path (`isf.settlement.statements.Settled`): what the settlement service publishes and what
`isf statement` prints are computed through it, and `to_freeze` is the one freeze rule."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isf.events import NkiV1
from isf.replay import Pipeline
from isf.settlement.statements import (
    Settled,
    StatementError,
    every_statement,
    indicator_sums,
    rows_of_sums,
    statement_years,
    statements,
    to_freeze,
)
from isf.settlement.views import view_sums

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


@st.composite
def total_keys(draw) -> str:
    """A `stat|period` key of any kind: earned points (P) and indicators (I), which statements read, and the
    management points, coding feedback and codes that they must not."""
    year, hf = draw(st.sampled_from([2025, 2026])), draw(st.sampled_from(["ous", "ahus", "hbe", "unn"]))
    kind = draw(st.sampled_from(["P", "P", "P", "S", "R", "N", "H", "I", "I", "C"]))
    if kind == "I":
        name = draw(st.sampled_from(["1|num", "1|den", "3|num", "9|num", "9|den", "patients|somatic+indirect"]))
        return f"I|{year}|{hf}|{name}|{year}{draw(st.sampled_from(['', '-T1', '-T2']))}"
    if kind == "C":
        return f"C|{year}|{hf}|somatic|drg|{year}-03"
    sector = draw(st.sampled_from(["somatic", "phv", "tsb"]))
    system, code = draw(st.sampled_from(["DRG", "STG", "TFG", "SUPP"])), draw(st.sampled_from(["801A", "625B", "MT01"]))
    residence = draw(st.sampled_from(["sor-ost", "vest", "midt-norge", "nord"]))
    period = draw(st.sampled_from(["02", "05", "06", "10", "T1", "T2", "T3"]))
    return f"{kind}|{year}|{hf}|{sector}|{system}|{code}|{residence}|{year}-{period}"


@settings(max_examples=60, deadline=None)
@given(
    st.dictionaries(
        total_keys(),
        st.tuples(st.integers(-2, 4).map(lambda n: n * 750_000), st.integers(-1, 3)),  # zeros, and sums that cancel
        max_size=30,
    ),
    st.booleans(),
)
def test_the_statements_of_the_kept_sums_are_those_of_every_total(totals, with_nki):
    rows = sorted((k, p, c) for k, (p, c) in totals.items() if p or c)
    kept = rows_of_sums(view_sums(rows)[0], indicator_sums(rows))
    assert statement_years(kept) == statement_years(rows)
    nki = {2025: {"ous": (3, 4)}} if with_nki else {}
    assert every_statement(Settled(kept, nki)) == every_statement(Settled(rows, nki))
