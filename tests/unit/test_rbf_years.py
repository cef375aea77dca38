"""RBF from the right years (seed 002 sec. 1.2, 4.1.2) and from the rule year's data: budgets, key, steps."""

from decimal import Decimal

from isf.grouping.activity import group_activity
from isf.registry import RHFS, hospitals
from isf.replay import Pipeline
from isf.rules import YEARS, rule_year
from isf.settlement.rbf import distribute, step
from isf.settlement.statements import indicator_figures, statement

from .helpers import KEY, activity, episode, raw

HF_OF = {r: next(hf for hf, h in hospitals().items() if h.rhf == r) for r in RHFS}  # one HF per region


def _rows(events):
    return list(Pipeline(KEY).run(raw(e) for e in events).totals.rows())


def _consultation(hf, day, mode, n):
    """An outpatient somatic consultation (M545 groups to a DRG of the service type 'poliklinisk konsultasjon')."""
    return episode(
        hf=hf,
        patient_id=f"SYN-{hf}-{n}",
        admitted_at=f"{day}T08:00:00",
        discharged_at=f"{day}T09:00:00",
        contact_mode=mode,
    )


def _two_tertials_of_2025_and_some_2026():
    """Per region: 2025-T1 one video and one in-person consultation, 2025-T2 three in person; 2026 video only."""
    evs = []
    for hf in HF_OF.values():
        evs += [_consultation(hf, "2025-02-03", "video", 1), _consultation(hf, "2025-03-03", "in_person", 2)]
        evs += [_consultation(hf, "2025-06-02", "in_person", k) for k in (3, 4, 5)]
        evs += [_consultation(hf, "2026-02-02", "video", k) for k in (6, 7)]
    return evs


NKI = {2024: {hf: (7, 10) for hf in HF_OF.values()}, 2025: {hf: (1, 10) for hf in HF_OF.values()}}


def test_rbf_2026_provisional_comes_from_2025_first_tertial_data_and_nki_2024():
    rows = _rows(_two_tertials_of_2025_and_some_2026())
    doc = statement(rows, 2025, "provisional", NKI)
    rb = doc["rbf"]
    assert (rb["budget_year"], rb["npr_data"], rb["nki_year"], rb["params_year"]) == (2026, "2025-T1", 2024, 2026)
    assert rb["budget_nok"] == "693100000"
    for hf in HF_OF.values():  # 1 video of 2 consultations in 2025-T1; NKI of 2024, not of 2025
        assert doc["indicators"][hf]["1"] == {"numerator": 1, "denominator": 2}
        assert doc["indicators"][hf]["9"] == {"numerator": 7, "denominator": 10}
    assert doc["periods"] == ["2025-T1"]
    assert rb["achievements"]["vest"]["1"] == "50.00"


def test_final_rbf_comes_from_the_whole_npr_year_with_the_same_nki_as_the_provisional():
    rows = _rows(_two_tertials_of_2025_and_some_2026())
    prov, final = statement(rows, 2025, "provisional", NKI), statement(rows, 2025, "final", NKI)
    assert (final["rbf"]["budget_year"], final["rbf"]["npr_data"], final["rbf"]["nki_year"]) == (2026, "2025", 2024)
    for hf in HF_OF.values():  # 2026's video consultations belong to RBF 2027, not here
        assert final["indicators"][hf]["1"] == {"numerator": 1, "denominator": 5}
        assert final["indicators"][hf]["9"] == prov["indicators"][hf]["9"] == {"numerator": 7, "denominator": 10}


def test_rbf_2027_from_2026_data_has_no_parameters_of_its_own_and_says_whose_it_uses():
    rows = _rows(_two_tertials_of_2025_and_some_2026())
    rb = statement(rows, 2026, "final", NKI)["rbf"]
    assert max(YEARS) == 2026
    assert (rb["budget_year"], rb["npr_data"], rb["nki_year"], rb["params_year"]) == (2027, "2026", 2025, 2026)
    assert rb["achievements"]["nord"]["1"] == "100.00" and rb["achievements"]["nord"]["9"] == "10.00"


def test_budgets_are_the_seeds_exact_figures_and_incomes_add_up_to_them_to_the_ore():
    assert rule_year(2025).rbf.budget_nok == Decimal("671631000")  # seed 002 sec. 4.1.1
    assert rule_year(2026).rbf.budget_nok == Decimal("693100000")  # seed 000: "693,1 millioner kroner"
    for year in (2025, 2026):
        ach = {r: {"1": Decimal(3 + 3 * k), "9": Decimal(50)} for k, r in enumerate(RHFS)}
        out = distribute(year, ach)
        assert sum(Decimal(v["nok"]) for v in out["rhf"].values()) == rule_year(year).rbf.budget_nok


BASE_GRANT_2026 = {
    "midt-norge": Decimal("98.4"),
    "nord": Decimal("83.6"),
    "sor-ost": Decimal("378.0"),
    "vest": Decimal("133.2"),
}


def test_the_2026_key_is_the_unrounded_ratio_of_the_four_base_grant_figures_and_sums_to_one():
    key = rule_year(2026).rbf.key
    total = sum(BASE_GRANT_2026.values())
    assert total == Decimal("693.2")
    assert key == {r: b / total for r, b in BASE_GRANT_2026.items()}
    assert key["midt-norge"] != Decimal("0.141950")  # not the six-decimal rounding it replaces
    assert abs(sum(key.values()) - 1) < Decimal("1e-26")
    # every region in the top step of every indicator: the budget splits exactly as the base grant
    top = {r: {i: Decimal(100) for i in rule_year(2026).rbf.weights} for r in RHFS}
    out = distribute(2026, top)
    for r, b in BASE_GRANT_2026.items():
        assert abs(Decimal(out["rhf"][r]["nok"]) - Decimal(693_100_000) * b / total) <= Decimal("0.01")


def test_staircase_steps_are_read_per_indicator_from_the_rule_years_data():
    for year in (2025, 2026):
        steps = rule_year(year).rbf.steps
        assert set(steps) == set(rule_year(year).rbf.weights)
        assert [(t, m) for t, m in steps["1"]] == [(Decimal(3), 1), (Decimal(6), 2), (Decimal(9), 4), (Decimal(12), 5)]
        # the other indicators' steps: 0.2T multiples of their own target (an inference from table 4)
        assert [step(Decimal(a), steps["9"]) for a in ("13.9", "14", "28", "41.9", "42", "56", "99")] == [
            0,
            1,
            2,
            2,
            4,
            5,
            5,
        ]


def test_indicator_1_counts_only_outpatient_consultations_not_other_outpatient_contacts():
    hf = HF_OF["vest"]
    consult = _consultation(hf, "2026-02-02", "video", 1)
    dialysis = episode(
        hf=hf,
        patient_id="SYN-d",
        main_condition="N185",
        procedures=["KAS00"],
        contact_mode="video",
        admitted_at="2026-02-03T08:00:00",
        discharged_at="2026-02-03T12:00:00",
    )
    amd = episode(
        hf=hf,
        patient_id="SYN-a",
        main_condition="H353",
        procedures=["CKD05"],
        contact_mode="phone",
        admitted_at="2026-02-04T08:00:00",
        discharged_at="2026-02-04T09:00:00",
    )
    rows = _rows([consult, dialysis, amd])
    drgs = [group_activity(activity(e)).drg for e in (consult, dialysis, amd)]
    types = rule_year(2026).service_types
    assert types.get(drgs[0]) == "outpatient_consultation" and drgs[1] == "317O" and types.get(drgs[1]) is None
    assert indicator_figures(rows, 2026, "2026")[hf]["1"] == (1, 1)


def test_every_consultation_drg_of_the_service_type_table_is_in_that_years_weight_list():
    for year in YEARS:
        ry = rule_year(year)
        assert ry.service_types and set(ry.service_types) <= set(ry.weights), year
        assert {"TP10A", "TT10A", "908X"} <= set(ry.service_types)


def test_indicator_9_fallback_counts_phv_and_tsb_discharges_and_serves_the_rbf_two_years_on():
    hf = HF_OF["midt-norge"]

    def stay(sector, n, hours):
        return episode(
            hf=hf,
            patient_id=f"SYN-{sector}-{n}",
            sector=sector,
            care_level="inpatient",
            main_condition="F200" if sector == "phv" else "F100",
            contact_mode=None,
            admitted_at="2025-03-01T08:00:00",
            discharged_at="2025-03-04T10:00:00",
            discharge_summary_sent_at=f"2025-03-0{4 + hours // 24}T{10 + hours % 24:02d}:00:00",
        )

    somatic = episode(
        hf=hf,
        patient_id="SYN-s",
        care_level="inpatient",
        main_condition="J189",
        contact_mode=None,
        admitted_at="2025-03-01T08:00:00",
        discharged_at="2025-03-03T10:00:00",
        discharge_summary_sent_at="2025-03-03T12:00:00",
    )
    rows = _rows(
        [
            stay("phv", 1, 2),
            stay("tsb", 2, 30),
            stay("phv", 3, 48),
            somatic,
            _consultation(hf, "2026-02-02", "video", 9),
        ]
    )
    # PHV and TSB stays count with the somatic one; sent the next calendar day (30 h) is in time, two days later not
    assert indicator_figures(rows, 2025, "2025")[hf]["9"] == (3, 4)
    # no NKI value for 2025: RBF 2027 (NPR 2026) takes the stream's own count over 2025
    final = statement(rows, 2026, "final")
    assert final["rbf"]["nki_year"] == 2025 and final["nki_hfs"] == []
    assert final["indicators"][hf]["9"] == {"numerator": 3, "denominator": 4}
