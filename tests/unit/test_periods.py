"""STG/TFG patient-periods: the seeds' worked cases (convergence under any delivery history is in
tests/store_contract.py, run against both store twins)."""

from decimal import Decimal

from isf.replay import Pipeline

from .helpers import KEY, episode, prescription, raw


def run(events) -> dict:
    return Pipeline(KEY).run([raw(e) for e in events]).result()


def test_dialysis_in_hospital_and_at_home_in_one_month_is_one_mt01_patient_month():
    r = run(
        [
            episode(main_condition="N185", procedures=["KAS00"]),
            episode(
                main_condition="N185",
                procedures=["KAS10"],
                care_level="indirect",
                contact_mode=None,
                admitted_at="2026-03-20T08:00:00",
                discharged_at="2026-03-20T12:00:00",
            ),
        ]
    )
    assert r["counts"]["2026"]["TFG"] == {"MT01": 1}
    assert r["counts"]["2026"]["DRG"] == {"317O": 1} and r["counts"]["2026"]["STG"] == {"MS01": 1}
    assert r["points"]["2026"]["hf"]["ous"] == {"DRG": "0", "STG": "0", "TFG": "1.5"}


def amd(year, n=10):
    return [
        episode(
            main_condition="H353",
            procedures=["CKD05"],
            admitted_at=f"{year}-{m:02d}-03T08:00:00",
            discharged_at=f"{year}-{m:02d}-03T09:00:00",
        )
        for m in range(1, n + 1)
    ]


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
    r = run(
        [
            prescription(),
            prescription(dispensed_at="2026-06-01T10:00:00"),
            episode(main_condition="G35", procedures=["WBGM20"]),
        ]
    )
    assert r["counts"]["2026"]["TFG"] == {"AT01": 1}
    assert r["points"]["2026"]["hf"]["ous"]["DRG"] == "0" and r["points"]["2026"]["hf"]["ous"]["STG"] == "0"


def test_stgs_without_financing_are_counted_with_weight_zero():
    r = run([prescription(atc="J04AB02", drug_code=None, indication="A150")])
    assert r["counts"]["2026"]["STG"] == {"DS03": 1}
    assert r["points"]["2026"]["hf"]["ous"] == {"STG": "0"}
