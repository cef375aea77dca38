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


# --- seed 000's DRG logic changes for 2026 ("DRG-, STG- og TFG-logikkendringer") -------------------


@pytest.mark.parametrize(
    "care,birth,drg_2025,drg_2026",
    [
        ("day", "1980-01-01", "55O", "60O"),
        ("inpatient", "1980-01-01", "55", "59N"),
        ("inpatient", "2015-01-01", "55", "60N"),
    ],
)
def test_tonsil_operations_group_to_59n_60n_60o_before_drg_55_from_2026_and_to_drg_55_in_2025(
    care, birth, drg_2025, drg_2026
):
    """Seed 000: the rules of 59N, 60N and 60O "flyttes over DRG 55/O Diverse operasjoner på øre/nese/hals": an
    operation with a tonsil procedure and another ENT procedure (illustrative DJD00) meets both rules."""

    def drg(year):
        kw = dict(care_level=care, main_condition="J350", procedures=["EMB10", "DJD00"], birth_date=birth)
        if care == "inpatient":
            kw.update(contact_mode=None, admitted_at=f"{year}-03-01T08:00:00", discharged_at=f"{year}-03-03T08:00:00")
        return grouped(year, **kw).drg

    assert (drg(2025), drg(2026)) == (drg_2025, drg_2026)
    assert grouped(2026, care_level="day", main_condition="J350", procedures=["DJD00"]).drg == "55O"


@pytest.mark.parametrize("code,hdg", [("T85.0", "01"), ("Z94.8", "23")])
def test_t85_0_shunt_complication_is_hdg_01_and_z94_8_transplant_status_is_hdg_23_from_2026(code, hdg):
    g25, g26 = grouped(2025, main_condition=code), grouped(2026, main_condition=code)
    assert g26.mdc == hdg and g26.drg is not None and g26.drg.startswith("9" + hdg)
    assert g25.mdc not in (hdg, None)  # another main diagnostic group in 2025 (illustrative)


def test_ustekinumab_l04ac05_has_the_biological_drug_property_procpr_90o10_from_2026():
    """The drug given reaches the grouper as a procedure code; 90O10 leads a Crohn's contact to 806H."""
    from isf.rules import rule_year

    assert rule_year(2026).definitions.proc["L04AC05"] == {"PROCPR": ["90O10"]}
    assert "L04AC05" not in rule_year(2025).definitions.proc
    kw = dict(main_condition="K509", atc_codes=["L04AC05"])
    assert grouped(2026, **kw).drg == "806H"
    assert grouped(2025, **kw).drg != "806H"
    assert grouped(2026, main_condition="K509", atc_codes=["L04AB02"]).drg != "806H"  # another drug: no property


def orthodontics(year, **kw):
    return dict(
        main_condition="Q37.9",
        procedures=["EWA00"],
        birth_date="2015-01-01",
        admitted_at=f"{year}-03-02T08:00:00",
        discharged_at=f"{year}-03-02T09:00:00",
        **kw,
    )


def test_orthodontic_treatment_of_cleft_lip_and_palate_earns_isf_points_in_2025_and_none_from_2026():
    """Seed 000: in ISF from 2025; 2026 "tilbakeføres ... til folketrygden ... inngår ... ikke lenger i ISF"."""
    g25, g26 = grouped(None, **orthodontics(2025)), grouped(None, **orthodontics(2026))
    assert g25.drg == g26.drg and g25.drg is not None
    assert g25.drg_points > 0 and g25.isf_liable
    assert g26.drg_points == 0 and not g26.isf_liable and g26.counts  # grouped and counted, outside ISF
    other = grouped(None, main_condition="Q37.9", birth_date="2015-01-01")  # a cleft patient's ENT consultation
    assert other.drg_points > 0 and other.isf_liable


def test_orthodontic_treatment_in_2026_is_counted_as_a_drg_and_earns_no_money_in_replay():
    from isf.replay import Pipeline

    from .helpers import KEY, episode, raw

    p = Pipeline(KEY).run([raw(episode(**orthodontics(2026)))])
    drg = grouped(None, **orthodontics(2026)).drg
    # counted as activity outside ISF (stat kind N), never as points
    points = {k: (pts, n) for k, pts, n in p.totals.rows() if not k.startswith("I|")}
    assert points == {f"N|2026|ous|somatic|DRG|{drg}|sor-ost|2026-T1": (0, 1)}
    assert p.result()["points"] == {}


# names as seed 000 writes them ("Flere DRG-er endrer navn grunnet logikkendring": old name, new name)
RENAMED = [
    ("361", "Gynekologisk laparoskopi og sterilisering via laparotomi", "Gynekologisk laparoskopi"),
    (
        "361O",
        "Gynekologisk laparoskopi og sterilisering via laparotomi, dagkirurgisk behandling",
        "Gynekologisk laparoskopi, dagkirurgisk behandling",
    ),
    ("362", "Sterilisering via laparoskopi eller annen endoskopisk sterilisering", "Sterilisering av kvinner"),
    (
        "362O",
        "Sterilisering via laparoskopi eller annen endoskopisk sterilisering, dagkirurgisk behandling",
        "Sterilisering av kvinner, dagkirurgisk behandling",
    ),
    ("389A", "Nyfødt, fødselsvekt 1500 g eller mer, med større operasjon", "Nyfødt, med større operasjon"),
    (
        "801H",
        "Poliklinisk behandling av nevrologiske lidelser med infusjon av særskilte legemidler",
        "Poliklinisk behandling av nevrologiske lidelser med særskilte legemidler",
    ),
    (
        "806H",
        "Poliklinisk behandling av mage-tarmlidelser med infusjon av særskilte legemidler",
        "Poliklinisk behandling av mage-tarmlidelser med særskilte legemidler",
    ),
    (
        "808H",
        "Polikl behandling av revmatologiske lidelser med infusjon av særskilte legemidler",
        "Poliklinisk behandling av revmatologiske lidelser med særskilte legemidler",
    ),
    (
        "809H",
        "Poliklinisk behandling av hudlidelser med infusjon av særskilte legemidler",
        "Poliklinisk behandling av hudlidelser med særskilte legemidler",
    ),
]


@pytest.mark.parametrize("drg,old,new", RENAMED, ids=[r[0] for r in RENAMED])
def test_drgs_renamed_in_2026_carry_seed_000s_old_name_in_2025_and_its_new_name_in_2026(drg, old, new):
    from isf.rules import rule_year

    assert (rule_year(2025).weights[drg].name, rule_year(2026).weights[drg].name) == (old, new)


@pytest.mark.parametrize(
    "drg,name",
    [
        ("412A", "Transfusjon av genmodifiserte autologe lymfocytter"),
        ("853X", "Poliklinisk strålebehandling med protoner"),
        ("59N", "Operasjoner på tonsiller eller adenoid vev >17 år"),
        ("60N", "Operasjoner på tonsiller eller adenoid vev 0-17 år"),
        ("60O", "Operasjoner på tonsiller og/eller adenoid vev, dagkirurgisk behandling"),
        ("112B", "Perkutan ablasjonsbehandling for hjertearytmi"),
        ("530", "Større plastikkirurgi etter stort vekttap (inkl postbariatrisk kirurgi)"),
        ("531", "Annen plastikkirurgi etter stort vekttap (inkl postbariatrisk kirurgi)"),
        ("802U", "Poliklinisk behandling av AMD og makulaødem med lokal medikasjon"),
    ],
)
def test_the_2026_drgs_seed_000_names_carry_its_names_exactly(drg, name):
    from isf.rules import rule_year

    assert rule_year(2026).weights[drg].name == name
