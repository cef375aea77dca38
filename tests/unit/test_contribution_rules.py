"""What one grouped activity contributes, at the edges of each rule: debtor, contact mode, length of stay and
the time a discharge summary was sent."""

import pytest

from isf.periods.indicators import indicator_contributions
from isf.periods.points import point_contributions

from .helpers import grouped


def _counted(g) -> set[str]:
    """The indicator statistics an activity counts in, for its year."""
    return {d.stat for d in indicator_contributions(g).items if d.period == "2026"}


def _amd(debtor: str):
    """An injection for wet AMD in 2026: a member of the TFG BT01 patient-year (weight 1.65)."""
    return grouped(main_condition="H353", procedures=["CKD05"], debtor=debtor)


def test_a_tfg_patient_period_earns_its_weight_only_for_an_isf_debtor_and_a_non_isf_one_is_no_member():
    tfg = {
        g: [u.points_micro for u, _ in point_contributions(_amd(g)).units if u.group.startswith("TFG|")]
        for g in ("11", "30")
    }
    assert tfg == {"11": [1_650_000], "30": []}


@pytest.mark.parametrize("mode", ["video", "phone"])
def test_a_remote_consultation_counts_in_indicator_1s_numerator_and_denominator(mode):
    g = grouped(contact_mode=mode)
    assert {"I|2026|ous|1|num", "I|2026|ous|1|den"} <= _counted(g)
    assert all(d.points_micro == 0 and d.count == 1 for d in indicator_contributions(g).items)  # counts, no points


def test_a_procedure_of_indicator_6_counts_the_patient_in_its_numerator_for_the_tertial_and_the_year():
    units = {(u.stat, u.period) for u, _ in indicator_contributions(grouped(procedures=["WMGA28"])).units}
    assert {("I|2026|ous|6|num", "2026-T1"), ("I|2026|ous|6|num", "2026")} <= units


@pytest.mark.parametrize("mode", ["in_person", None])
def test_a_consultation_in_person_or_without_contact_mode_is_not_remote_for_indicator_1(mode):
    counted = _counted(grouped(contact_mode=mode))
    assert "I|2026|ous|1|den" in counted and "I|2026|ous|1|num" not in counted


def _rehab(admitted: str, discharged: str):
    """A somatic inpatient stay with secondary rehabilitation (Z50.8): the REHAB supplement, 0.050 points a day."""
    g = grouped(
        care_level="inpatient",
        main_condition="J189",
        secondary_conditions=["Z508"],
        contact_mode=None,
        admitted_at=admitted,
        discharged_at=discharged,
    )
    return [(d.points_micro, d.count) for d in point_contributions(g).items if "|SUPP|REHAB|" in d.stat]


def test_the_rehabilitation_supplement_is_paid_per_day_of_stay():
    assert _rehab("2026-03-02T08:00:00", "2026-03-06T10:00:00") == [(200_000, 1)]  # 4 days x 0.050, one item


def test_a_same_day_rehabilitation_stay_earns_one_days_supplement():
    assert _rehab("2026-03-02T08:00:00", "2026-03-02T20:00:00") == [(50_000, 1)]


def _summary_sent(at: str) -> bool:
    g = grouped(
        care_level="inpatient",
        main_condition="J189",
        contact_mode=None,
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-04T10:00:00",
        discharge_summary_sent_at=at,
    )
    counted = _counted(g)
    assert "I|2026|ous|9|den" in counted
    return "I|2026|ous|9|num" in counted


def test_indicator_9_fallback_counts_a_summary_sent_by_the_end_of_the_next_calendar_day():
    assert _summary_sent("2026-03-04T10:00:00")  # at discharge
    assert _summary_sent("2026-03-05T10:00:01")  # a second past 24 hours: still the next day
    assert _summary_sent("2026-03-05T23:59:59")


def test_indicator_9_fallback_does_not_count_a_summary_sent_two_calendar_days_after_discharge():
    assert not _summary_sent("2026-03-06T00:00:00")


def _u26(birth_date: str, sector: str = "phv"):
    """An outpatient contact in March 2026: the U26 supplement (0.102 points) for PHV and TSB, up to the year the
    patient turns 26."""
    g = grouped(sector=sector, main_condition="F200" if sector == "phv" else "M545", birth_date=birth_date)
    return [d.points_micro for d in point_contributions(g).items if "|SUPP|U26|" in d.stat]


def test_the_under_26_supplement_is_paid_until_the_calendar_year_the_patient_turns_26():
    assert _u26("2001-01-01") == [102_000]  # turns 25 in 2026
    assert _u26("2000-12-31") == []  # 25 on the day of the contact, but turns 26 in 2026


def test_the_under_26_supplement_is_not_paid_for_a_somatic_contact():
    assert _u26("2010-01-01", sector="somatic") == []


def _supplements(**kw) -> dict[str, int]:
    g = grouped(care_level="inpatient", contact_mode=None, **kw)
    return {d.stat.split("|")[5]: d.points_micro for d in point_contributions(g).items if "|SUPP|" in d.stat}


def test_the_palliative_supplement_reads_the_condition_with_or_without_its_dot():
    for code in ("Z51.5", "Z515"):
        assert _supplements(main_condition="J189", secondary_conditions=[code]) == {"PALL": 200_000}


def test_no_supplement_is_paid_for_a_stay_whose_debtor_is_not_isf():
    assert _supplements(main_condition="J189", secondary_conditions=["Z515", "Z508"], debtor="30") == {}
    assert _supplements(main_condition="J189", secondary_conditions=["Z515", "Z508"]) == {
        "PALL": 200_000,
        "REHAB": 50_000,
    }


def test_a_phv_contacts_points_are_credited_to_the_phv_sector_whose_unit_price_applies():
    sectors = {d.stat.split("|")[3] for d in point_contributions(grouped(sector="phv", main_condition="F200")).items}
    assert sectors == {"phv"}


@pytest.mark.parametrize("sector, condition", [("phv", "F200"), ("tsb", "F100")])
def test_a_phv_or_tsb_contact_counts_its_patient_in_the_phv_and_tsb_population_of_the_indicators(sector, condition):
    g = grouped(sector=sector, main_condition=condition)
    stats = {(u.stat, u.period) for u, _ in indicator_contributions(g).units}
    pops = ("all", "phv_tsb", "phv_tsb+indirect")  # the last: the collaboration indicator's denominator
    assert stats == {(f"I|2026|ous|patients|{pop}", p) for pop in pops for p in ("2026-T1", "2026")}


def _fields(g) -> list[tuple]:
    return [(u.group, u.patient, u.period, u.stat, u.points_micro, u.by_first) for u, _ in point_contributions(g).units]


def test_home_dialysis_is_an_ms01_patient_month_whose_weight_moves_to_the_mt01_tfg_and_is_kept_as_suppressed():
    g = grouped(main_condition="N185", procedures=["KAS10"], care_level="indirect", contact_mode=None, debtor="11")
    p = g.activity.patient
    assert _fields(g) == [
        ("P|2026|ous|STG|MS01", p, "2026-03", "P|2026|ous|somatic|STG|MS01|sor-ost", 0, False),
        ("S|2026|ous|STG|MS01", p, "2026-03", "S|2026|ous|somatic|STG|MS01|sor-ost", 900_000, False),
        ("TFG|2026|MT01", p, "2026-03", "P|2026|ous|somatic|TFG|MT01|sor-ost", 1_500_000, False),
    ]


def test_home_dialysis_outside_isf_is_counted_and_in_no_patient_period():
    g = grouped(main_condition="N185", procedures=["KAS10"], care_level="indirect", contact_mode=None, debtor="30")
    c = point_contributions(g)
    assert _fields(g) == []
    assert [(d.stat, d.period, d.points_micro, d.count) for d in c.items] == [
        ("N|2026|ous|somatic|STG|MS01|sor-ost", "2026-T1", 0, 1)
    ]


def test_an_amd_injection_in_2026_earns_the_bt01_patient_year_and_keeps_its_drg_points_as_suppressed():
    g = _amd("11")
    c = point_contributions(g)
    assert [(d.stat, d.period, d.points_micro, d.count) for d in c.items] == [
        ("P|2026|ous|somatic|DRG|802U|sor-ost", "2026-T1", 0, 1),
        ("S|2026|ous|somatic|DRG|802U|sor-ost", "2026-T1", 181_000, 1),
    ]
    assert _fields(g) == [
        ("TFG|2026|BT01", g.activity.patient, "2026", "P|2026|ous|somatic|TFG|BT01|sor-ost", 1_650_000, True)
    ]
