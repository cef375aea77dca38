"""The STG criteria (`isf.rules.stg.STG_CRITERIA`) and the point-supplement criteria (`isf.rules.supplements`), one
declared rule per column or field, each tested on its own by the fact it states; the STG index derived from them."""

import dataclasses
from datetime import date
from decimal import Decimal

import pytest

from isf.rules import RuleError, rule_year
from isf.rules.stg import CRITERION, STG_CRITERIA, StgIndex, StgRule, parse_stg_rows, row_holds
from isf.rules.supplements import (
    EXCEPTION_CRITERIA,
    SUPPLEMENT_CRITERIA,
    Supplement,
    SupplementException,
    exception_covers,
    parse_supplements,
    supplement_holds,
)

from .helpers import activity, episode, prescription

DEFS = rule_year(2026).definitions
EMPTY = StgRule("X", "x", "month", Decimal(1), "episode", "", "", "", "", "", "")


def row(**cells) -> StgRule:
    """An STG row for episodes that fills only the given cells."""
    return dataclasses.replace(EMPTY, **cells)


def ep(**kw):
    return activity(episode(**kw))


def holds(column: str, value, a) -> bool:
    """The column's criterion on its own, and the row filling only that column agree."""
    alone = CRITERION[column].holds(value, a, DEFS)
    assert row_holds(row(**{column: value}) if column != "source" else row(source=value), a, DEFS) == alone
    return alone


# --- STG: one criterion per column of stg.csv ---------------------------------------------------------------


def test_every_column_of_an_stg_row_that_can_exclude_an_activity_has_exactly_one_criterion():
    descriptive = {"stg", "name", "period", "weight", "basis"}
    columns = [c.column for c in STG_CRITERIA]
    assert sorted(columns) == sorted(f.name for f in dataclasses.fields(StgRule) if f.name not in descriptive)
    assert all(c.fact for c in STG_CRITERIA)


def test_a_row_with_only_its_source_filled_holds_for_every_activity_of_that_kind():
    assert row_holds(EMPTY, ep(), DEFS)


def test_stg_row_procedure_the_activity_carries_the_rows_procedure():
    assert holds("procedure", "WMAA30", ep(procedures=["WMAA30", "ZXX00"]))
    assert not holds("procedure", "WMAA30", ep(procedures=["WMAA31"]))


def test_stg_row_special_code_the_activity_carries_it_or_dispenses_it_as_its_drug_code():
    assert holds("special_code", "B0044", ep(special_codes=["B0044"]))
    assert not holds("special_code", "B0044", ep(special_codes=["B0045"]))
    drug = activity(prescription(drug_code="L04AB02", atc="L04AB02"))
    assert CRITERION["special_code"].holds("L04AB02", drug, DEFS)
    assert not CRITERION["special_code"].holds("L04AB04", drug, DEFS)


def test_stg_row_source_a_row_is_for_episodes_or_for_prescriptions_never_both():
    assert holds("source", "episode", ep())
    assert not holds("source", "prescription", ep())
    assert CRITERION["source"].holds("prescription", activity(prescription()), DEFS)


def test_stg_row_valid_from_the_activity_ends_on_or_after_the_first_day_in_force():
    a = ep(admitted_at="2026-05-01T08:00:00", discharged_at="2026-05-01T09:00:00")
    assert holds("valid_from", date(2026, 5, 1), a)
    assert not holds("valid_from", date(2026, 5, 2), a)
    assert not holds("valid_from", date(2026, 1, 1), a.model_copy(update={"end": None}))


def test_stg_row_valid_to_the_activity_ends_on_or_before_the_last_day_in_force():
    a = ep(admitted_at="2026-08-31T08:00:00", discharged_at="2026-08-31T09:00:00")
    assert holds("valid_to", date(2026, 8, 31), a)
    assert not holds("valid_to", date(2026, 8, 30), a)


def test_stg_row_sector_an_episode_must_be_of_the_rows_sector_and_a_prescription_is_of_any():
    assert holds("sector", "phv", ep(sector="phv", main_condition="F322"))
    assert not holds("sector", "phv", ep(sector="tsb", main_condition="F100"))
    assert CRITERION["sector"].holds("phv", activity(prescription()), DEFS)


def test_stg_row_care_level_the_activity_is_of_one_of_the_care_levels_joined_by_a_bar():
    assert holds("care_level", "outpatient|indirect", ep(care_level="indirect", contact_mode=None))
    assert holds("care_level", "outpatient", ep())
    assert not holds("care_level", "outpatient|day", ep(care_level="indirect", contact_mode=None))


def test_stg_row_atc_prefix_the_activity_carries_an_atc_code_starting_with_it():
    assert holds("atc_prefix", "N07BC", ep(atc_codes=["N07BC02"]))
    assert not holds("atc_prefix", "N07BC", ep(atc_codes=["N07BB01"]))


def test_stg_row_atc_the_activity_carries_one_of_the_exact_codes_not_a_code_they_start():
    assert holds("atc", frozenset({"N04BA02", "N04BA03"}), ep(atc_codes=["N04BA03"]))
    assert not holds("atc", frozenset({"N04BA0"}), ep(atc_codes=["N04BA03"]))


def test_stg_row_indication_prefix_the_main_condition_starts_with_it_dot_or_not():
    assert holds("indication_prefix", "G35", ep(main_condition="G35.9"))
    assert not holds("indication_prefix", "G35", ep(main_condition="G36"))


def test_stg_row_hdg_the_main_condition_is_in_the_rows_main_diagnostic_group_from_the_definition_data():
    assert holds("hdg", "09", ep(main_condition="C509"))  # breast cancer: HDG 9, though C is not its letter
    assert not holds("hdg", "03", ep(main_condition="C509"))


def test_a_row_holds_only_when_every_cell_it_fills_holds():
    r = row(procedure="WMAA30", hdg="05")
    assert row_holds(r, ep(main_condition="I509", procedures=["WMAA30"]), DEFS)
    assert not row_holds(r, ep(main_condition="H669", procedures=["WMAA30"]), DEFS)
    assert not row_holds(r, ep(main_condition="I509"), DEFS)


# --- the index, derived from the declarations --------------------------------------------------------------


def test_the_index_files_each_row_once_under_the_first_keyed_column_it_fills():
    rows = (
        row(procedure="P1", special_code="S1"),
        row(special_code="S1"),
        row(source="prescription", indication_prefix="G35"),
        row(atc_prefix="N07BC"),
    )
    ix = StgIndex(rows)
    assert ix.filed == {
        "procedure": {"P1": [0]},
        "special_code": {"S1": [1]},
        "source": {"prescription": [2], "episode": [3]},
    }
    assert ix.always == []
    assert ix.candidates(ep(procedures=["P1"], special_codes=["S1"])) == [0, 1, 3]
    assert ix.candidates(ep()) == [3]


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_index_of_each_rule_year_files_every_row(year):
    ix = rule_year(year).stg_index
    filed = sorted([*ix.always, *(i for by in ix.filed.values() for rows in by.values() for i in rows)])
    assert filed == list(range(len(rule_year(year).stg_rules)))


def test_an_stg_row_for_no_known_kind_of_activity_is_refused():
    head = "stg,name,period,weight,source,sector,care_level,special_code,procedure,atc_prefix,indication_prefix"
    rows = [dict(zip(head.split(","), "AS01,x,year,1,prescriptions,,,,,,G35".split(",")))]
    with pytest.raises(RuleError, match="source 'prescriptions'"):
        parse_stg_rows(rows, 2026)


# --- point supplements: one criterion per field -----------------------------------------------------------

BASE = Supplement("T", "t", Decimal("0.1"), frozenset({"somatic", "phv", "tsb"}))
SUPP = {c.field: c for c in SUPPLEMENT_CRITERIA}


def earns(a, **fields) -> bool:
    """A supplement giving only this field (beside every sector) and the field's criterion on its own agree."""
    s = dataclasses.replace(BASE, **fields)
    for field, value in fields.items():
        assert SUPP[field].holds(value, a) == supplement_holds(s, a)
    return supplement_holds(s, a)


def test_every_field_of_a_supplement_that_can_exclude_an_episode_has_exactly_one_criterion():
    descriptive = {"code", "name", "points", "per_day"}
    fields = [c.field for c in SUPPLEMENT_CRITERIA]
    assert sorted(fields) == sorted(f.name for f in dataclasses.fields(Supplement) if f.name not in descriptive)


def test_a_supplement_is_earned_by_an_episode_and_never_by_a_prescription():
    assert earns(ep())
    assert not supplement_holds(BASE, activity(prescription()))


def test_supplement_sectors_the_episode_is_of_one_of_them():
    assert earns(ep(sector="phv", main_condition="F322"), sectors=frozenset({"phv", "tsb"}))
    assert not earns(ep(), sectors=frozenset({"phv", "tsb"}))


def test_supplement_care_levels_the_episode_is_of_one_of_them():
    assert earns(ep(), care_levels=frozenset({"outpatient"}))
    assert not earns(ep(), care_levels=frozenset({"inpatient"}))


def test_supplement_conditions_a_main_or_a_secondary_condition_starts_with_one_of_them():
    assert earns(ep(main_condition="Z51.5"), conditions=("Z515",))
    assert earns(ep(secondary_conditions=["Z501"]), conditions=("Z50",))
    assert not earns(ep(main_condition="M545"), conditions=("Z515", "Z50"))


def test_supplement_age_limit_the_patient_turns_less_than_it_in_the_activitys_year():
    assert earns(ep(birth_date="2001-12-31"), age_in_year_below=26)  # turns 25 in 2026
    assert not earns(ep(birth_date="2000-01-01"), age_in_year_below=26)  # turns 26


def test_supplement_exceptions_none_of_them_covers_the_episode():
    lar = SupplementException("LAR", atc=("N07BC",))
    assert earns(ep(), exceptions=(lar,))
    assert not earns(ep(atc_codes=["N07BC02"]), exceptions=(lar,))


def test_a_supplement_holds_only_when_every_field_it_gives_holds():
    s = dataclasses.replace(BASE, sectors=frozenset({"phv"}), age_in_year_below=26)
    young_phv = ep(sector="phv", main_condition="F322", birth_date="2005-01-01")
    assert supplement_holds(s, young_phv)
    assert not supplement_holds(s, ep(birth_date="2005-01-01"))
    assert not supplement_holds(s, ep(sector="phv", main_condition="F322"))


EXC = {c.field: c for c in EXCEPTION_CRITERIA}


def test_supplement_exception_codes_the_activity_carries_one_of_its_atc_prefixes_special_codes_or_procedures():
    x = SupplementException("X", atc=("N07BC",), special_codes=frozenset({"PUT"}), procedures=frozenset({"P1"}))
    for a in (ep(atc_codes=["N07BC02"]), ep(special_codes=["PUT"]), ep(procedures=["P1"])):
        assert EXC["codes"].holds(x.codes, a) and exception_covers(x, a)
    assert not EXC["codes"].holds(x.codes, ep(atc_codes=["N07BB01"], special_codes=["B0044"]))
    assert not exception_covers(x, ep())


def test_supplement_exception_age_limit_covers_only_patients_who_turn_less_than_it():
    put = SupplementException("PUT", special_codes=frozenset({"PUT"}), age_in_year_below=30)
    assert EXC["age_in_year_below"].holds(30, ep(birth_date="1997-01-01"))  # turns 29
    assert exception_covers(put, ep(special_codes=["PUT"], birth_date="1997-01-01"))
    assert not exception_covers(put, ep(special_codes=["PUT"], birth_date="1996-01-01"))  # turns 30


def test_a_supplement_per_day_earns_its_points_per_day_of_stay_and_at_least_once():
    s = dataclasses.replace(BASE, per_day=True)
    assert (s.points_for(7), s.points_for(0)) == (Decimal("0.7"), Decimal("0.1"))
    assert BASE.points_for(7) == Decimal("0.1")


def test_secondary_rehabilitation_in_2025_earns_its_supplement_per_day_of_stay():
    from isf.grouping.activity import group_activity
    from isf.periods.points import point_contributions

    stay = dict(
        care_level="inpatient",
        contact_mode=None,
        main_condition="Z501",
        admitted_at="2025-03-01T08:00:00",
        discharged_at="2025-03-08T08:00:00",
    )
    items = point_contributions(group_activity(ep(**stay))).items
    supp = [d for d in items if "|SUPP|REHAB|" in d.stat]
    rehab = next(s for s in rule_year(2025).supplements if s.code == "REHAB")
    assert [d.points_micro for d in supp] == [int(rehab.points * 7 * 1_000_000)]


@pytest.mark.parametrize(
    "bad,problem",
    [
        ({"sectors": []}, "names no sector"),
        ({"exceptions": [{"name": "X", "age_in_year_below": 30}]}, "names no ATC code"),
    ],
)
def test_a_supplement_that_would_mean_any_sector_or_an_exception_of_no_code_is_refused(bad, problem):
    s = {"code": "T", "name": "t", "points": "0.1", "sectors": ["phv"], **bad}
    with pytest.raises(RuleError, match=problem):
        parse_supplements({"supplements": [s]})
