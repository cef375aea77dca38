"""STG/TFG patient-periods: the seeds' worked cases, and convergence under any delivery history."""
import json
from decimal import Decimal
import random

from hypothesis import given, settings, strategies as st

from isf.replay import Pipeline

from .helpers import KEY, episode, prescription, raw


def run(events) -> dict:
    return Pipeline(KEY).run([raw(e) for e in events]).result()


def test_dialysis_in_hospital_and_at_home_in_one_month_is_one_mt01_patient_month():
    r = run([episode(main_condition="N185", procedures=["KAS00"]),
             episode(main_condition="N185", procedures=["KAS10"], care_level="indirect", contact_mode=None, admitted_at="2026-03-20T08:00:00",
                     discharged_at="2026-03-20T12:00:00")])
    assert r["counts"]["2026"]["TFG"] == {"MT01": 1}
    assert r["counts"]["2026"]["DRG"] == {"317O": 1} and r["counts"]["2026"]["STG"] == {"MS01": 1}
    assert r["points"]["2026"]["hf"]["ous"] == {"DRG": "0", "STG": "0", "TFG": "1.5"}


def amd(year, n=10):
    return [episode(main_condition="H353", procedures=["CKD05"], admitted_at=f"{year}-{m:02d}-03T08:00:00",
                    discharged_at=f"{year}-{m:02d}-03T09:00:00") for m in range(1, n + 1)]


def test_amd_patient_2026_is_one_bt01_year_and_the_episodes_earn_nothing():
    r = run(amd(2026))
    assert r["counts"]["2026"]["TFG"] == {"BT01": 1}
    assert r["counts"]["2026"]["DRG"] == {"802U": 10}
    assert r["points"]["2026"]["hf"]["ous"] == {"DRG": "0", "TFG": "1.65"}


def test_amd_patient_2025_earns_ten_802u_episodes():
    from isf.rules import rule_year
    r = run(amd(2025))
    assert "TFG" not in r["counts"]["2025"]
    w = rule_year(2025).weights["802U"].weight
    assert Decimal(r["points"]["2025"]["hf"]["ous"]["DRG"]) == 10 * w


def test_prescriptions_and_infusions_make_one_at01_patient_year():
    r = run([prescription(), prescription(dispensed_at="2026-06-01T10:00:00"),
             episode(main_condition="G35", procedures=["WBGM20"])])
    assert r["counts"]["2026"]["TFG"] == {"AT01": 1}
    assert r["points"]["2026"]["hf"]["ous"]["DRG"] == "0" and r["points"]["2026"]["hf"]["ous"]["STG"] == "0"


def test_stgs_without_financing_are_counted_with_weight_zero():
    r = run([prescription(atc="J04AB02", drug_code=None, indication="A150")])
    assert r["counts"]["2026"]["STG"] == {"DS03": 1}
    assert r["points"]["2026"]["hf"]["ous"] == {"STG": "0"}


# --- convergence: any history with duplicates, shuffles, versions, deletes ends where the final data does

TEMPLATES = [dict(main_condition="N185", procedures=["KAS00"]), dict(main_condition="N185", procedures=["KAS15"], care_level="indirect"),
             dict(main_condition="H353", procedures=["CKD05"]), dict(main_condition="M545", contact_mode="video"),
             dict(main_condition="G35", procedures=["WBGM20"]), dict(main_condition="J189", care_level="inpatient",
                                                                     admitted_at="2026-02-01T08:00:00")]


@st.composite
def histories(draw):
    n = draw(st.integers(1, 8))
    events, final = [], {}
    for i in range(n):
        versions = draw(st.integers(1, 3))
        for v in range(1, versions + 1):
            t = draw(st.sampled_from(TEMPLATES))
            month = draw(st.integers(1, 12))
            ev = episode(episode_id=f"h-{i}", version=v, patient_id=draw(st.sampled_from(["A", "B"])),
                         hf=draw(st.sampled_from(["ous", "hbe"])) if v == 1 else events[-1]["hf"],
                         admitted_at=f"2026-{month:02d}-05T08:00:00", discharged_at=f"2026-{month:02d}-06T08:00:00",
                         **{k: v2 for k, v2 in t.items() if k != "admitted_at"})
            if v > 1:
                ev["hf"] = events[-1]["hf"]
            if draw(st.booleans()) and v == versions and versions > 1:
                ev["action"] = "delete"
            events.append(ev)
            final[(ev["hf"], ev["episode_id"])] = ev
    dups = draw(st.lists(st.sampled_from(events), max_size=5))
    order = draw(st.permutations(events + dups))
    return order, [e for e in final.values() if e["action"] == "upsert"]


@settings(max_examples=150, deadline=None)
@given(histories())
def test_replaying_any_history_converges_to_the_final_data(h):
    history, final = h
    streamed = Pipeline(KEY).run([raw(e) for e in history])
    batch = Pipeline(KEY).run([raw({**e, "version": 1}) for e in final])
    assert list(streamed.totals.rows()) == list(batch.totals.rows())
