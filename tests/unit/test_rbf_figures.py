"""RBF to the point and the øre: each indicator's weight sets its x, and the leftover øre go by largest remainder.

Budget and key are given explicitly so the figures depend only on the 2026 weights and staircases:
x = weight x 100 000 points / (top multiple 5 x 4 RHFs), so x = 1 000 for indicators 1 and 9 (weight 0.20)
and 350 for indicator 3 (weight 0.07).
"""

from decimal import Decimal

import pytest

from isf.registry import RHFS
from isf.settlement.rbf import distribute

EQUAL_KEY = {r: Decimal("0.25") for r in RHFS}
# sor-ost tops indicator 1, vest tops indicator 3, midt-norge reaches step 2 of indicator 1, nord step 4 of 9
ACHIEVED = {
    "sor-ost": {"1": Decimal(12)},
    "vest": {"3": Decimal("0.8")},
    "midt-norge": {"1": Decimal(6)},
    "nord": {"9": Decimal(42)},
}


def _figures(budget: str) -> dict:
    out = distribute(2026, ACHIEVED, Decimal(budget), key=EQUAL_KEY)
    return {r: (Decimal(v["raw_points"]), Decimal(v["nok"])) for r, v in out["rhf"].items()}


def test_each_step_earns_its_multiple_of_the_indicators_weighted_x_in_points_and_kroner():
    # raw points 5 x 1000, 5 x 350, 2 x 1000 and 4 x 1000 (12 750 in all) share 1 MNOK at equal key
    assert _figures("1000000") == {
        "sor-ost": (Decimal(5000), Decimal("392156.86")),
        "vest": (Decimal(1750), Decimal("137254.90")),
        "midt-norge": (Decimal(2000), Decimal("156862.75")),
        "nord": (Decimal(4000), Decimal("313725.49")),
    }


def test_topping_a_heavy_indicator_earns_more_than_topping_a_light_one_at_equal_key():
    top = {"1": Decimal(12), "3": Decimal("0.8")}  # indicator 1 weighs 0.20, indicator 3 weighs 0.07
    ach = {r: {} for r in RHFS}
    ach["vest"], ach["nord"] = {"1": top["1"]}, {"3": top["3"]}
    out = distribute(2026, ach, Decimal("1000000"), key=EQUAL_KEY)["rhf"]
    assert Decimal(out["vest"]["raw_points"]) == 5000 and Decimal(out["nord"]["raw_points"]) == 1750
    assert Decimal(out["vest"]["nok"]) > Decimal(out["nord"]["nok"]) > 0


def test_the_leftover_ore_of_the_rbf_split_go_to_the_regions_with_the_largest_remainders():
    # exact shares of 100 NOK: 39.2157 (rem. .57 øre), 13.7255 (.55), 15.6863 (.63), 31.3725 (.25): two øre
    # are left after rounding down, and they go to midt-norge and sor-ost, not to vest or nord
    assert {r: nok for r, (_raw, nok) in _figures("100").items()} == {
        "sor-ost": Decimal("39.22"),
        "vest": Decimal("13.72"),
        "midt-norge": Decimal("15.69"),
        "nord": Decimal("31.37"),
    }


def test_a_region_without_a_distribution_key_is_refused_by_name():
    with pytest.raises(ValueError, match=r"no distribution key for \['atlantis'\]"):
        distribute(2026, {**ACHIEVED, "atlantis": {"1": Decimal(12)}}, Decimal("100"), key=EQUAL_KEY)


def test_the_rbf_lines_show_each_indicators_step_and_points_the_normalised_points_and_the_price_of_a_point():
    out = distribute(2026, ACHIEVED, Decimal("1000000"), key=EQUAL_KEY)
    assert Decimal(out["nok_per_point"]) == 10  # 1 MNOK over 100 000 points
    vest = out["rhf"]["vest"]
    assert {i: (d["step"], Decimal(d["points"])) for i, d in vest["indicators"].items()} == {"3": (5, 1750)}
    assert Decimal(vest["normalised_points"]) == Decimal("13725.4902")  # 100 000 x 1 750 / 12 750


def test_when_no_region_reaches_a_step_every_region_has_no_points_and_no_kroner():
    out = distribute(2026, {r: {"1": Decimal(0)} for r in RHFS}, Decimal("100"), key=EQUAL_KEY)
    assert {(Decimal(v["normalised_points"]), v["nok"]) for v in out["rhf"].values()} == {(0, "0.00")}
