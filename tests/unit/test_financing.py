"""Who ISF pays, and for what: block-funded PHV/TSB stays, activity outside ISF, ISF-counting RBF denominators,
and H-resept prescriptions of providers without drug financing responsibility."""

import csv
import json
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isf.feed import Feed, FeedConfig
from isf.grouping.activity import group_activity
from isf.replay import Pipeline
from isf.rules import DATA, rule_year, use_sources
from isf.settlement.statements import indicator_figures

from .helpers import KEY, activity, episode, prescription, raw


def replay(events: list[dict]) -> Pipeline:
    return Pipeline(KEY).run([raw(e) for e in events])


def rows(events: list[dict]) -> list[tuple[str, int, int]]:
    return list(replay(events).totals.rows())


def money(p: Pipeline) -> tuple[dict, dict]:
    r = p.result()
    return r["points_micro_by_hf"], r["nok"]


def phv_stay(**kw) -> dict:
    return episode(
        sector="phv",
        care_level="inpatient",
        main_condition="F200",
        contact_mode=None,
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-09T10:00:00",
        **kw,
    )


@pytest.fixture
def weighted_phv_stays(tmp_path):
    """A 2026 weight list that weights every DRG a PHV/TSB inpatient stay of the feed groups to (the demo list
    gives them 0), as an official list would."""
    feed = [json.loads(r) for _k, r in Feed(FeedConfig(seed=3, invalid=0)).events(3000)]
    grouped = [group_activity(activity(e)) for e in feed if e.get("action") == "upsert"] + [
        group_activity(activity(phv_stay()))
    ]
    # the inpatient DRGs: those that only block-funded stays group to (an outpatient DRG is paid as such)
    drgs = {g.drg for g in grouped if g.block_funded} - {g.drg for g in grouped if g.isf_financed} - {None}
    with (DATA / "2026" / "weights.csv").open(encoding="utf-8") as fh:
        table = list(csv.DictReader(fh))
    for r in table:
        if r["drg"] in drgs:
            r["weight"] = "2.500"
    path = tmp_path / "weights-2026.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows(table)
    use_sources(weights={2026: path})
    yield [raw for _k, raw in Feed(FeedConfig(seed=3)).events(3000)], drgs
    use_sources()


def test_a_phv_inpatient_stay_is_block_funded_and_earns_no_isf_money_whatever_the_weight_list_says(
    weighted_phv_stays,
):
    feed, drgs = weighted_phv_stays
    stay = phv_stay()
    g = group_activity(activity(stay))
    assert g.drg in drgs and g.drg_points == Decimal("2.500")  # the weight stays visible on the DRG
    assert g.block_funded and g.isf_liable and not g.isf_financed
    weighted = Pipeline(KEY).run(feed)
    totals = list(replay([stay]).totals.rows())
    assert [k for k, _p, _c in totals if k.startswith("P|")] == []
    assert [(k.split("|")[0], p, c) for k, p, c in totals if not k.startswith(("I|", "C|"))] == [("R", 2_500_000, 1)]
    use_sources()
    unweighted = Pipeline(KEY).run(feed)
    assert money(weighted) == money(unweighted)


def test_a_tsb_outpatient_contact_is_still_isf_financed():
    g = group_activity(activity(episode(sector="tsb", main_condition="F100")))
    assert g.isf_financed and not g.block_funded


def test_indicator_2_with_one_qualifying_phv_outpatient_and_one_phv_inpatient_is_one_of_one():
    collab = episode(sector="phv", main_condition="F322", procedures=["WPBA15"], patient_id="SYN-a")
    inpatient = phv_stay(patient_id="SYN-b")
    figures = indicator_figures(rows([collab, inpatient]), 2026, "2026")["ous"]
    assert figures["2"] == (1, 1)
    assert figures["4"] == (0, 1)  # the same ISF-counting outpatient, no team follow-up


def test_an_indirect_collaboration_meeting_counts_for_indicator_2_but_not_in_the_other_denominators():
    meeting = episode(sector="phv", care_level="indirect", main_condition="F322", procedures=["WPBA15"])
    figures = indicator_figures(rows([meeting]), 2026, "2026")["ous"]
    assert figures == {"2": (1, 1)}


def test_h_resept_dispensings_and_debtor_30_activity_are_in_no_rbf_denominator():
    drug = prescription(patient_id="SYN-a")
    nipt = episode(debtor="30", patient_id="SYN-b")
    counted = episode(patient_id="SYN-c", procedures=["WMGA28"])
    figures = indicator_figures(rows([drug, nipt, counted]), 2026, "2026")["ous"]
    assert figures["6"] == (1, 1) and figures["3"] == (0, 1)


def dialysis(day: str, debtor: str = "11", **kw) -> dict:
    return episode(
        main_condition="N185",
        procedures=["KAS15"],
        admitted_at=f"{day}T08:00:00",
        discharged_at=f"{day}T12:00:00",
        debtor=debtor,
        **kw,
    )


def test_a_debtor_30_home_dialysis_first_in_the_month_leaves_the_mt01_month_at_its_weight():
    isf = dialysis("2026-01-12")
    alone = money(replay([isf]))
    with_nipt = replay([dialysis("2026-01-05", debtor="30"), isf])
    assert money(with_nipt) == alone
    pts = {k: p for k, p, _c in with_nipt.totals.rows() if k.startswith("P|2026|ous|somatic|TFG|MT01")}
    assert pts == {"P|2026|ous|somatic|TFG|MT01|sor-ost|2026-01": 1_500_000}


def test_a_prescription_of_a_private_non_profit_hospital_is_the_money_of_the_hf_that_finances_its_drugs():
    drug = prescription(hf="diak", indication="M05", drug_code="L04AB01", atc="L04AB01")
    totals = {k: (p, c) for k, p, c in rows([drug]) if not k.startswith("I|")}
    weight = int(rule_year(2026).tfg_of_member[("STG", "HS01")].weight * 1_000_000)
    assert totals["P|2026|ous|somatic|TFG|HT01|sor-ost|2026-T1"] == (weight, 1)
    assert not any(k.split("|")[2] == "diak" for k in totals if k.startswith("P|"))
    # what was moved away from the provider is shown, never paid
    moved = {k: v for k, v in totals.items() if k.startswith("H|")}
    assert moved == {"H|2026|diak|somatic|STG|HS01|sor-ost|2026-T1": (3_100_000, 1)}


def test_a_prescription_of_a_hospital_trust_stays_its_own_money():
    drug = prescription(hf="ahus", indication="M05", drug_code="L04AB01", atc="L04AB01")
    keys = [k for k, _p, _c in rows([drug]) if k.startswith(("P|", "H|"))]
    assert keys and all(k.startswith("P|2026|ahus|") for k in keys)


NON_ISF = {"debtor": "30"}


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), picks=st.lists(st.integers(0, 10_000), min_size=1, max_size=25))
def test_adding_any_non_isf_activity_to_any_history_leaves_every_hf_and_region_money_unchanged(seed, picks):
    history = [raw for _k, raw in Feed(FeedConfig(seed=seed)).events(300)]
    episodes = [json.loads(r) for r in history if b'"episode/v1"' in r and b'"upsert"' in r]
    # copies of the history's own episodes, for the same patients and periods, outside ISF
    extra = [
        raw({**episodes[i % len(episodes)], **NON_ISF, "episode_id": f"nisf-{n}", "event_id": f"nisf-{n}"})
        for n, i in enumerate(picks)
    ]
    assert money(Pipeline(KEY).run(history + extra)) == money(Pipeline(KEY).run(history))
    assert money(Pipeline(KEY).run(extra + history)) == money(Pipeline(KEY).run(history))
