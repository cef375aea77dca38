"""The replay summary to the øre: points per HF and both RHF views, NOK = points x unit price x ISF share summed
per HF before rounding, patient-period and indicator counts."""

from isf.replay import Pipeline
from isf.settlement.totals import Totals

from .helpers import KEY, episode, raw


def _amd(month: int) -> dict:
    day = f"2026-{month:02d}-03"
    return episode(
        main_condition="H353", procedures=["CKD05"], admitted_at=f"{day}T08:00:00", discharged_at=f"{day}T09:00:00"
    )


def test_summary_prices_points_at_the_somatic_unit_price_and_isf_share_and_rounds_each_hfs_sum_to_the_ore():
    # two consultations at hbe in different tertials: two totals rows, priced apart and summed before rounding
    consultations = [
        episode(
            hf="hbe",
            patient_id=f"SYN-{n}",
            contact_mode=m,
            admitted_at=f"{day}T08:00:00",
            discharged_at=f"{day}T09:00:00",
        )
        for n, m, day in ((2, "video", "2026-03-02"), (3, "in_person", "2026-06-01"))
    ]
    r = Pipeline(KEY).run([raw(e) for e in [_amd(1), _amd(2), *consultations]]).result()
    # ous: one BT01 patient-year, 1.65 x 56 180 x 0.30 = 27 809.10; hbe: two 908X at 0.078, 2 x 1 314.612
    nok = {"hbe": "2629.22", "ous": "27809.10"}
    assert r["nok"] == {
        "2026": {
            "hf": nok,
            "rhf": {"vest": nok["hbe"], "sor-ost": nok["ous"]},
            "rhf_sorge_for": {"vest": nok["hbe"], "sor-ost": nok["ous"]},
        }
    }
    assert r["points"]["2026"]["hf"] == {"hbe": {"DRG": "0.156"}, "ous": {"DRG": "0", "TFG": "1.65"}}
    assert r["points_micro_by_hf"] == {"2026|hbe": 156_000, "2026|ous": 1_650_000}
    assert r["counts"] == {"2026": {"DRG": {"802U": 2, "908X": 2}, "TFG": {"BT01": 1}}}
    assert r["indicators"]["2026"]["hbe"]["2026"] == {
        "1|den": 2,
        "1|num": 1,
        "patients|all": 2,
        "patients|somatic": 2,
        "patients|somatic+indirect": 2,
    }


def test_a_shards_rows_add_to_the_totals_of_a_sharded_replay():
    totals = Totals()
    totals.add_rows([("P|a|2026", 100, 1), ("P|b|2026", 5, 2)])
    totals.add_rows([("P|a|2026", 50, 1)])
    assert list(totals.rows()) == [("P|a|2026", 150, 2), ("P|b|2026", 5, 2)]


def test_the_summary_counts_each_distinct_dead_lettered_payload_once():
    r = Pipeline(KEY).run([b"{not json", b"{not json", b"[1,2]"]).result()
    assert r["events"]["dead_lettered"] == 2


def test_the_summary_counts_accepted_versions_by_what_they_are_grouped_or_withdrawn():
    up = episode(episode_id="x", version=1, event_id="e1")
    down = {**up, "version": 2, "event_id": "e2", "action": "delete"}
    events = Pipeline(KEY).run([raw(up), raw(down)]).result()["events"]
    assert (events["accepted"], events["grouped"], events["deleted"]) == (2, 1, 1)
