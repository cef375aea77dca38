"""Each rule-year difference the seeds name, in the project's demo sets."""

from decimal import Decimal

import pytest

from .helpers import grouped


def test_car_t_412a_exists_from_2026():
    kw = dict(
        care_level="inpatient",
        main_condition="C833",
        procedures=["WBOC20"],
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-20T08:00:00",
    )
    assert grouped(2026, **kw).drg == "412A"
    assert grouped(2025, **kw).drg != "412A"


def test_proton_therapy_853x_from_2026():
    kw = dict(main_condition="Z510", procedures=["WEOC00"])
    assert grouped(2026, **kw).drg == "853X"
    assert grouped(2025, **kw).drg != "853X"


def test_subcutaneous_wbgm10_gets_the_drug_property_in_2026():
    kw = dict(main_condition="G35", procedures=["WBGM10"])
    assert grouped(2026, **kw).drg == "801H"
    assert grouped(2025, **kw).drg != "801H"
    assert grouped(2025, main_condition="G35", procedures=["WBGM20"]).drg == "801H"


def test_relatives_consultation_wpba25_groups_to_td96_in_phv_tsb_2026():
    assert grouped(2026, sector="phv", main_condition="F900", procedures=["WPBA25"]).drg == "TD96A"
    assert grouped(2026, sector="tsb", main_condition="F100", procedures=["WPBA25"]).drg == "TD96B"
    assert grouped(2025, sector="phv", main_condition="F900", procedures=["WPBA25"]).drg == "TP10A"
    assert grouped(2026, main_condition="M545", procedures=["WPBA25"]).drg not in ("TD96A", "TD96B")


@pytest.mark.parametrize(
    "day,inpatient,proc,main",
    [
        ("60O", "60N", "EMB10", "J350"),
        ("112P", "112B", "FPB32", "I480"),
        ("530O", "530", "QBJ10", "E660"),
        ("361O", "361", "LAF11", "N812"),
    ],
)
def test_day_surgery_pairs_pay_the_same_in_2026(day, inpatient, proc, main):
    d = dict(care_level="day", main_condition=main, procedures=[proc], birth_date="2015-01-01")
    i = dict(
        care_level="inpatient",
        main_condition=main,
        procedures=[proc],
        birth_date="2015-01-01",
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-03T08:00:00",
    )
    g26d, g26i, g25d, g25i = grouped(2026, **d), grouped(2026, **i), grouped(2025, **d), grouped(2025, **i)
    assert (g26d.drg, g26i.drg) == (day, inpatient)
    assert g26d.drg_points == g26i.drg_points
    assert g25d.drg_points < g25i.drg_points


def test_980_emergency_deduction_in_2025_removed_in_2026():
    """A case the 2025 deduction names (acute, under five hours, listed main condition; see test_stg_tfg_rules)."""
    kw = dict(
        care_level="inpatient",
        urgency="acute",
        main_condition="G439",
        contact_mode=None,
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-01T12:00:00",
    )
    g25, g26 = grouped(2025, **kw), grouped(2026, **kw)
    assert g25.drg == g26.drg == "980A"
    from isf.rules import rule_year

    assert g25.drg_points == (rule_year(2025).weights["980A"].weight * Decimal("0.85")).quantize(Decimal("0.000001"))
    assert g26.drg_points == rule_year(2026).weights["980A"].weight


def test_day_births_pay_as_uncomplicated_vaginal_births_from_2026():
    day = dict(
        care_level="inpatient",
        main_condition="O800",
        birth_date="1995-01-01",
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-01T20:00:00",
    )
    vag = {**day, "discharged_at": "2026-03-04T08:00:00"}
    assert grouped(2026, **day).drg == "373O" and grouped(2026, **vag).drg == "373"
    assert grouped(2026, **day).drg_points == grouped(2026, **vag).drg_points
    assert grouped(2025, **day).drg_points < grouped(2025, **vag).drg_points


def test_nipt_with_debtor_30_earns_nothing_and_phv_inpatient_is_block_financed():
    nipt = grouped(2026, main_condition="Z348", debtor="30")
    assert nipt.drg is not None and nipt.drg_points == 0
    assert grouped(2026, main_condition="Z348").drg_points > 0
    phv = grouped(
        2026,
        sector="phv",
        care_level="inpatient",
        main_condition="F200",
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-20T08:00:00",
    )
    assert phv.drg == "TP99I" and phv.drg_points == 0


def test_long_stays_earn_per_day_weight_beyond_the_trim_point():
    from isf.rules import rule_year

    kw = dict(care_level="inpatient", main_condition="J189", admitted_at="2026-03-01T08:00:00")
    short = grouped(2026, discharged_at="2026-03-05T08:00:00", **kw)
    long = grouped(2026, discharged_at="2026-04-10T08:00:00", **kw)
    w = rule_year(2026).weights[short.drg]
    assert short.drg == long.drg
    assert long.drg_points == short.drg_points + (40 - w.trim_days) * w.per_day_weight
