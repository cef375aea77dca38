"""The grouper at the edges the official 2016 tables have: a complication its principal excludes, and a stay
at the lower length-of-stay bound of a logic row."""

from functools import lru_cache

from hypothesis import example, given, settings
from hypothesis import strategies as st

from isf.grouping.engine import group_case
from isf.grouping.features import GroupingCase
from isf.grouping.tables import load_definitions

OFFICIAL_2016 = "DefinitionData_NOR_2016_PR1cN.zip"


@lru_cache(maxsize=None)
def _defs(norddrg):
    return load_definitions(norddrg / OFFICIAL_2016)


def _case(pairs, los=3, discharge="H"):
    return GroupingCase("M", 20000, discharge, los, tuple((c, "") for c in pairs), ())


# (principal, secondary, the secondary's complication that the principal excludes)
EXCLUDED = [("S621", "M8052", "08C09"), ("M8010", "T0270", "08C05"), ("E358", "E104", "10C02")]


def test_a_secondary_diagnosis_excluded_by_its_principal_groups_without_cc(norddrg):
    defs = _defs(norddrg)
    for principal, secondary, compl in EXCLUDED:
        assert (compl, principal) in defs.exclusions
        with_it = group_case(defs, _case((principal, secondary)))
        alone = group_case(defs, _case((principal, "")))
        assert with_it.explanation["cc_level"] == 0
        assert with_it.explanation["complications"][compl] == {"active": False, "level": 1}
        assert (with_it.drg, with_it.ord) == (alone.drg, alone.ord)


def test_the_same_complication_not_excluded_by_another_principal_raises_the_cc_level(norddrg):
    defs = _defs(norddrg)
    assert ("08C09", "I10") not in defs.exclusions
    assert group_case(defs, _case(("I10", "M8052"))).explanation["cc_level"] == 1


@settings(max_examples=30, deadline=None)
@given(los=st.integers(0, 90))
@example(los=0)
@example(los=1)
@example(los=2)
@example(los=3)
def test_a_rehabilitation_stay_ending_in_death_groups_to_462a_only_when_longer_than_one_day(norddrg, los):
    # row 423D01002 ("dur > 1") gives 462A; shorter stays fall through to 423D01003, 462B
    r = group_case(_defs(norddrg), _case(("Z5080", ""), los=los, discharge="E"))
    assert (r.drg, r.ord) == (("462A", "423D01002") if los > 1 else ("462B", "423D01003"))


def test_a_case_of_unknown_sex_groups_by_its_sex_neutral_properties():
    from isf.rules import rule_year

    defs = rule_year(2026).definitions
    unknown, woman = (group_case(defs, GroupingCase(sex, 20000, "H", 3, (("J189", ""), ("", "")), ())) for sex in "UF")
    assert unknown.drg is not None and (unknown.drg, unknown.ord) == (woman.drg, woman.ord)
