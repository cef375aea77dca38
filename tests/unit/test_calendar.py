"""Period labels: the tertial of a month is written once (`isf.periods.calendar.tertial_of`), every Python
place that turns a date, a score or a period label into a tertial goes through it."""

from datetime import date, datetime, timezone

import pytest

from isf.periods.calendar import label, score, tertial_of, tertial_of_label, tertial_of_score
from services.monitor import api


@pytest.mark.parametrize(
    "month,tertial", [(1, "T1"), (4, "T1"), (5, "T2"), (8, "T2"), (9, "T3"), (12, "T3")], ids=lambda v: str(v)
)
def test_tertial_1_is_january_to_april_tertial_2_may_to_august_tertial_3_september_to_december(month, tertial):
    assert tertial_of(2026, month) == f"2026-{tertial}"


@pytest.mark.parametrize("month", range(1, 13))
def test_a_date_its_score_and_its_month_label_fall_in_the_same_tertial(month):
    d = date(2026, month, 28)
    want = tertial_of(2026, month)
    assert label("tertial", d) == tertial_of_score(score(d)) == tertial_of_label(label("month", d)) == want
    assert tertial_of_label(want) == want


def test_a_whole_year_is_in_no_tertial():
    with pytest.raises(ValueError, match="whole year"):
        tertial_of_label("2026")


def test_the_monitors_current_tertial_is_todays_and_another_years_is_its_last():
    now = datetime.now(timezone.utc)
    assert api._period_label(str(now.year), "tertial") == tertial_of(now.year, now.month)
    assert api._period_label(str(now.year - 1), "tertial") == f"{now.year - 1}-T3"
