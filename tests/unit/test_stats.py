"""The stat key codec (`isf.stats`): every kind round-trips, a key it cannot read raises naming the key, and the
monitor's view refuses such a key instead of leaving its totals out."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from isf.settlement.views import view_fields, view_sums
from isf.stats import (
    POINT_KINDS,
    CodingStat,
    IndicatorStat,
    PointStat,
    StatError,
    decode_stat,
    decode_total,
    encode_stat,
    year_of,
)

field = st.text(alphabet=st.characters(blacklist_characters="|", blacklist_categories=("Cs",)), max_size=8)
years = st.integers(0, 9999)
points = st.builds(PointStat, st.sampled_from(POINT_KINDS), years, field, field, field, field, field)
indicators = st.builds(IndicatorStat, years, field, st.builds(lambda a, b: f"{a}|{b}", field, field))
# an error's source id is its last detail and may itself hold `|`
errors = st.builds(lambda r, c, s: f"{r}|{c}|{s}", field, field, st.text(max_size=12))
coding = st.one_of(
    st.builds(CodingStat, years, field, field, field.filter(lambda m: m != "err")),
    st.builds(CodingStat, years, field, field, st.just("err"), errors),
)


@given(st.one_of(points, indicators, coding), field)
def test_every_kind_of_stat_round_trips_alone_and_as_a_total_key(stat, period):
    key = encode_stat(stat)
    assert str(stat) == key
    assert decode_stat(key) == stat
    assert decode_total(f"{key}|{period}") == (stat, period)
    assert year_of(key) == stat.year


@pytest.mark.parametrize(
    "key, says",
    [
        ("X|2026|ous|somatic|DRG|801A|sor-ost", "unknown kind 'X'"),
        ("", "unknown kind ''"),
        ("P|2026|ous|somatic|DRG|801A", "6 fields where a P stat has 7"),  # no residence
        ("R|2026|ous|somatic|DRG|801A|sor-ost|extra", "8 fields where a R stat has 7"),
        ("I|2026|ous|9", "4 fields where an indicator stat has 5"),
        ("C|2026|ous|somatic", "4 fields where a coding stat has 5"),
        ("C|2026|ous|somatic|err|7|ABC10", "7 fields where a coding stat has 8 or more"),
        ("C|2026|ous|somatic|drg|extra", "6 fields where a coding stat has 5"),
        ("P|twenty|ous|somatic|DRG|801A|sor-ost", "year 'twenty' is not a number"),
    ],
)
def test_a_key_of_an_unknown_kind_or_with_a_missing_or_extra_field_raises_naming_the_key(key, says):
    with pytest.raises(StatError, match="stat key") as caught:
        decode_stat(key)
    assert says in str(caught.value) and repr(key) in str(caught.value)


def test_a_total_key_that_cannot_be_read_raises_naming_the_whole_key():
    with pytest.raises(StatError) as caught:
        decode_total("P|2026|ous|somatic|DRG|801A|2026-T1")
    assert "'P|2026|ous|somatic|DRG|801A|2026-T1'" in str(caught.value)
    with pytest.raises(StatError, match="no period"):
        decode_total("P")
    with pytest.raises(StatError, match="no year"):
        year_of("P")


@pytest.mark.parametrize(
    "stat",
    [
        PointStat("P", 2026, "ous", "somatic", "DRG", "80|1A", "sor-ost"),  # would read as another stat
        PointStat("Q", 2026, "ous", "somatic", "DRG", "801A", "sor-ost"),
        IndicatorStat(2026, "ous", "9"),
        IndicatorStat(2026, "o|us", "9|num"),
        CodingStat(2026, "ous", "somatic", "err", "7|ABC10"),
        CodingStat(2026, "ous", "somatic", "drg", "detail"),
    ],
)
def test_a_stat_whose_key_would_not_read_back_is_refused_when_written(stat):
    with pytest.raises(StatError, match="cannot be written"):
        encode_stat(stat)


def test_the_view_refuses_a_key_it_cannot_read_instead_of_leaving_its_totals_out():
    good = ("P|2026|ous|somatic|DRG|801A|sor-ost|2026-T1", 5_000_000, 1)
    assert view_sums([good]) == (
        {"2026|ous|somatic|DRG|sor-ost|2026-T1": 5_000_000},
        {"2026|ous|DRG|801A": 1},
    )
    # a layout with one more field (a new dimension) must not vanish from the dashboard without a word
    newer = ("P|2026|ous|somatic|DRG|801A|sor-ost|adult|2026-T1", 5_000_000, 1)
    with pytest.raises(StatError, match="8 fields where a P stat has 7"):
        view_sums([good, newer])
    with pytest.raises(StatError, match="unknown kind"):
        view_fields("Z|2026|ous", "2026")
    # what the view does not show is left out by kind, not by failing to read it
    assert view_fields("I|2026|ous|9|num", "2026") is None
    assert view_fields("S|2026|ous|somatic|DRG|801A|sor-ost", "2026-T1") is None
