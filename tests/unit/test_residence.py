""" "Sørge for": regions are paid for their residents; TFG patient-periods are unique nationally."""

import json
from decimal import Decimal

import pytest

from isf.feed import Feed, FeedConfig
from isf.ingest import Rejected, parse
from isf.registry import RHFS, residence_rhf
from isf.replay import Pipeline

from .helpers import KEY, activity, episode, prescription, raw


def test_municipality_gives_the_region_by_county_with_bindal_as_the_listed_exception():
    assert residence_rhf("0301", "unn") == "sor-ost"
    assert residence_rhf("4601", "ous") == "vest"
    assert residence_rhf("5001", "ous") == "midt-norge"
    assert residence_rhf("1804", "ous") == "nord"
    assert residence_rhf("1811", "unn") == "midt-norge"  # Bindal, Nordland: served by Helse Nord-Trøndelag


def test_an_event_without_municipality_is_attributed_to_the_producing_hfs_region():
    a = activity(episode(hf="unn"))
    assert a.municipality is None and a.residence == "nord"


def test_an_unknown_county_is_rejected_with_a_readable_error():
    r = parse(raw(episode(patient_municipality="9901")), KEY)
    assert isinstance(r, Rejected) and any("patient_municipality" in e for e in r.errors)
    assert isinstance(parse(raw(prescription(patient_municipality="12")), KEY), Rejected)


def test_the_pseudonymised_activity_keeps_the_municipality():
    a = activity(prescription(patient_municipality="4601"))
    assert a.municipality == "4601" and a.residence == "vest"


@pytest.mark.parametrize("region", RHFS)
def test_a_feed_whose_patients_all_live_in_one_region_puts_all_residence_money_there(region):
    r = Pipeline(KEY).run(raw for _k, raw in Feed(FeedConfig(seed=21, region=region)).events(3000)).result()
    by_residence = r["nok"]["2026"]["rhf_sorge_for"]
    assert set(by_residence) == {region}
    owners = r["nok"]["2026"]["rhf"]
    assert len(owners) == 4  # produced everywhere
    assert Decimal(by_residence[region]) == sum(Decimal(v) for v in owners.values())


def test_residence_and_owner_views_hold_the_same_national_total_and_differ_by_guest_patients():
    r = Pipeline(KEY).run(raw for _k, raw in Feed(FeedConfig(seed=22)).events(6000)).result()
    res, own = r["nok"]["2026"]["rhf_sorge_for"], r["nok"]["2026"]["rhf"]
    assert abs(sum(map(Decimal, res.values())) - sum(map(Decimal, own.values()))) <= Decimal("0.04")
    assert res != own


def _tfg_members(events: list[bytes]) -> list[dict]:
    """Feed events whose activity is a TFG member in 2026: AMD injections (802U), biologics, dialysis."""
    out = []
    for e in events:
        ev = json.loads(e) if e.startswith(b'{"') else None
        if (
            ev
            and ev.get("hf")
            and (
                ev.get("schema") == "prescription/v1"
                or set(ev.get("procedures", [])) & {"CKD05", "WBGM20", "WBGM10", "KAS00", "KAS10", "KAS15"}
            )
        ):
            out.append(ev)
    return out


def test_cloning_tfg_member_activity_at_a_second_hf_adds_drg_episodes_but_no_tfg_patient_periods():
    events = [
        raw
        for _k, raw in Feed(FeedConfig(seed=23, corrections=0, deletes=0, duplicates=0, late=0, invalid=0)).events(8000)
    ]
    members = _tfg_members(events)
    assert len(members) > 50
    clones = []
    for ev in members:
        other = "hbe" if ev["hf"] != "hbe" else "ous"
        ident = "episode_id" if "episode_id" in ev else "prescription_id"
        clones.append(raw({**ev, "hf": other, ident: "clone-" + ev[ident], "event_id": "clone-" + ev["event_id"]}))
    base = Pipeline(KEY).run(events).result()["counts"]["2026"]
    both = Pipeline(KEY).run(events + clones).result()["counts"]["2026"]
    assert both["TFG"] == base["TFG"]
    assert sum(both["DRG"].values()) > sum(base["DRG"].values())


def test_a_tfg_patient_year_moves_its_credit_when_the_first_activity_is_withdrawn():
    first = episode(
        hf="ous",
        main_condition="H353",
        procedures=["CKD05"],
        admitted_at="2026-02-03T08:00:00",
        discharged_at="2026-02-03T09:00:00",
        patient_municipality="0301",
    )
    later = episode(
        hf="hbe",
        main_condition="H353",
        procedures=["CKD05"],
        admitted_at="2026-05-03T08:00:00",
        discharged_at="2026-05-03T09:00:00",
        patient_municipality="0301",
    )
    r = Pipeline(KEY).run([raw(first), raw(later)]).result()
    assert r["counts"]["2026"]["TFG"] == {"BT01": 1}
    assert "TFG" in r["points"]["2026"]["hf"]["ous"] and "TFG" not in r["points"]["2026"]["hf"]["hbe"]
    gone = {**first, "version": 2, "event_id": "w", "action": "delete"}
    r = Pipeline(KEY).run([raw(first), raw(later), raw(gone)]).result()
    assert r["counts"]["2026"]["TFG"] == {"BT01": 1}
    assert "ous" not in r["points"]["2026"]["hf"] and "TFG" in r["points"]["2026"]["hf"]["hbe"]
    assert set(r["nok"]["2026"]["rhf_sorge_for"]) == {"sor-ost"}


def test_the_dashboards_view_pays_each_hf_and_region_of_residence_what_the_replay_summary_pays():
    """The view sums points per HF, sector, system, residence and period before pricing them; the summary
    prices every DRG, STG and TFG code's total on its own: the two must give the same NOK to the øre."""
    from isf.settlement.money import summary
    from isf.settlement.views import summary_view

    raws = [raw for _k, raw in Feed(FeedConfig(seed=7, year=2026)).events(3000)]
    rows = list(Pipeline(KEY).run(raws).totals.rows())
    money, view = summary(rows)["nok"]["2026"], summary_view(rows)["years"]["2026"]
    assert len(money["rhf_sorge_for"]) == len(RHFS)
    for scope in ("hf", "rhf", "rhf_sorge_for"):
        assert {name: e["periods"]["2026"]["nok"] for name, e in view[scope].items()} == money[scope]
