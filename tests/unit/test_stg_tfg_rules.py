"""STG, TFG, deduction and supplement rules as rule-year data (seeds 000, 001, 002, 004): each test names the fact."""

import dataclasses
import json
from datetime import date
from decimal import Decimal

import pytest

from isf.feed import Feed, FeedConfig
from isf.grouping.activity import group_activity, stg_of, stg_of_by_scan
from isf.ingest import Rejected, parse, to_activity
from isf.replay import Pipeline
from isf.rules import RuleError, rule_year
from isf.settlement.redistribution import compare, replay

from .helpers import KEY, activity, episode, grouped, prescription, raw


def run(events) -> dict:
    return Pipeline(KEY).run([raw(e) for e in events]).result()


# --- STG definitions ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "main,hdg,stg",
    [("H669", "03", "CS11"), ("I509", "05", "ES11"), ("M059", "08", "HS11"), ("L409", "09", "JS11")],
)
@pytest.mark.parametrize("year", [2025, 2026])
def test_remote_monitoring_with_a_main_condition_in_hdg_3_5_8_or_9_gives_that_hdgs_stg(year, main, hdg, stg):
    g = grouped(year, main_condition=main, procedures=["WMAA30"])
    assert g.stg == stg
    assert rule_year(year).stgs[stg].hdg == hdg


@pytest.mark.parametrize("main", ["E109", "J441", "N185"])
def test_remote_monitoring_of_other_somatic_conditions_gives_xs11(main):
    assert grouped(main_condition=main, procedures=["WMAA30"]).stg == "XS11"


def test_remote_monitoring_is_grouped_by_hdg_not_by_the_first_letter_of_the_code():
    """C509 (breast cancer) is HDG 9 in the definition data: JS11, although CS11 is ear-nose-throat's (HDG 3)."""
    assert grouped(main_condition="C509", procedures=["WMAA30"]).stg == "JS11"


@pytest.mark.parametrize(
    "sector,main,stg", [("somatic", "I509", "XS08"), ("phv", "F322", "TS08A"), ("tsb", "F100", "TS08B")]
)
@pytest.mark.parametrize("proc", ["WPBA10", "WPBA15", "WPBA20"])
def test_a_direct_consultation_with_the_collaboration_procedure_gives_both_its_drg_and_the_collaboration_stg(
    sector, main, stg, proc
):
    g = grouped(sector=sector, main_condition=main, procedures=[proc])
    assert g.drg is not None and g.drg_points > 0
    assert g.stg == stg


def test_the_direct_consultation_earns_the_drg_points_and_the_collaboration_stg_points_together():
    r = run([episode(main_condition="I509", procedures=["WPBA15"])])
    assert r["counts"]["2026"]["DRG"] == {"905X": 1} and r["counts"]["2026"]["STG"] == {"XS08": 1}
    ry = rule_year(2026)
    points = {k: Decimal(v) for k, v in r["points"]["2026"]["hf"]["ous"].items()}
    assert points == {"DRG": ry.weights["905X"].weight, "STG": ry.stgs["XS08"].weight}


def test_an_indirect_collaboration_meeting_gives_the_stg_alone():
    g = grouped(main_condition="I509", care_level="indirect", contact_mode=None, procedures=["WPBA10"])
    assert (g.drg, g.stg) == (None, "XS08")


def test_collaboration_during_an_inpatient_stay_gives_no_collaboration_stg():
    g = grouped(
        main_condition="I509",
        care_level="inpatient",
        contact_mode=None,
        procedures=["WPBA10"],
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-04T08:00:00",
    )
    assert g.drg is not None and g.stg is None


def test_somatic_team_follow_up_xs09_is_not_triggered_by_iead00():
    assert grouped(main_condition="I509", procedures=["IEAD00"]).stg is None


def test_somatic_team_follow_up_xs09_comes_from_special_code_b0044_and_act_teams_iead00_gives_ts01():
    assert grouped(main_condition="I509", special_codes=["B0044"]).stg == "XS09"
    assert grouped(sector="phv", main_condition="F200", procedures=["IEAD00"]).stg == "TS01"
    assert grouped(sector="tsb", main_condition="F100", procedures=["IEAD00"]).stg == "TS01"


def test_the_online_treatment_programme_in_somatic_care_weighs_0_178_in_2026_up_from_2025():
    assert grouped(main_condition="I509", procedures=["IEAB20"]).stg == "XSEB"
    assert rule_year(2026).stgs["XSEB"].weight == Decimal("0.178")
    assert rule_year(2025).stgs["XSEB"].weight < Decimal("0.178")
    assert grouped(sector="phv", main_condition="F322", procedures=["IEAB20"]).stg != "XSEB"  # somatic care only


@pytest.mark.parametrize("year", [2025, 2026])
@pytest.mark.parametrize("sector,main", [("phv", "F322"), ("tsb", "F100")])
def test_a_phv_tsb_online_treatment_programme_gives_the_phv_tsb_online_stg_beside_its_drg(year, sector, main):
    """Seed 003 sec. 1.4: PHV/TSB outpatient care has STGs for periods of "nettbasert behandlingsprogram"."""
    kw = dict(sector=sector, main_condition=main, procedures=["IEAB20"])
    kw.update(admitted_at=f"{year}-03-02T08:00:00", discharged_at=f"{year}-03-02T09:00:00")
    g = grouped(None, **kw)
    assert (g.stg, g.drg is not None) == ("TSEB", True)
    assert rule_year(year).stgs["TSEB"].weight > 0 and rule_year(year).stgs["TSEB"].period == "month"


@pytest.mark.parametrize("year", [2025, 2026])
def test_continuous_drug_treatment_in_lar_gives_the_lar_stg_once_per_patient_and_month(year):
    """Seed 003 sec. 1.4: an STG for "kontinuerlig legemiddelbehandling som ledd i LAR" (TSB outpatient care);
    a contact giving an opioid-substitution drug (ATC N07BC, our trigger) is LAR activity."""

    def lar(day, **kw):
        ev = dict(
            sector="tsb",
            main_condition="F112",
            atc_codes=["N07BC02"],
            admitted_at=f"{year}-03-{day:02d}T08:00:00",
            discharged_at=f"{year}-03-{day:02d}T08:30:00",
        )
        return episode(**{**ev, **kw})

    r = run([lar(2), lar(9), lar(16)])
    assert r["counts"][str(year)]["STG"] == {"TSLAR": 1}
    assert Decimal(r["points"][str(year)]["hf"]["ous"]["STG"]) == rule_year(year).stgs["TSLAR"].weight
    assert group_activity(activity(lar(2, sector="phv", main_condition="F322"))).stg is None  # TSB only


@pytest.mark.parametrize("year", [2025, 2026])
def test_b0045_structured_follow_up_by_an_integrated_team_gives_the_somatic_team_stg_xs09(year):
    """Seed 004: "B0045 – Strukturert oppfølging fra tverrfaglige integrerte team" (which STG: our inference)."""
    day = dict(admitted_at=f"{year}-03-02T08:00:00", discharged_at=f"{year}-03-02T09:00:00")
    assert grouped(None, main_condition="I509", special_codes=["B0045"], **day).stg == "XS09"
    assert grouped(None, sector="phv", main_condition="F200", special_codes=["B0045"], **day).stg is None


@pytest.mark.parametrize("year", [2025, 2026])
def test_wrba24_palliative_centre_collaboration_with_the_municipality_gives_the_somatic_collaboration_stg(year):
    """Seed 004 lists WRBA24 with WPBA10/15/20: a meeting gives XS08 alone, a consultation its DRG and XS08."""
    day = dict(admitted_at=f"{year}-03-02T08:00:00", discharged_at=f"{year}-03-02T09:00:00")
    meeting = grouped(
        None, main_condition="Z515", care_level="indirect", contact_mode=None, procedures=["WRBA24"], **day
    )
    assert (meeting.drg, meeting.stg) == (None, "XS08")
    consultation = grouped(None, main_condition="C509", procedures=["WRBA24"], **day)
    assert consultation.drg is not None and consultation.stg == "XS08"


@pytest.mark.parametrize(
    "atc,stg",
    [
        ("N04BA02", "AS04"),
        ("N04BA03", "AS04"),
        ("N04BA07", "AS04"),
        ("N04BC07", "AS04"),
        ("J06BD01", "DS04"),
        ("J06BD08", "DS04"),
        ("N04BA01", None),
        ("N04BC05", None),
        ("J06BD02", None),
    ],
)
def test_as04_and_ds04_are_seed_000s_exact_atc_codes_not_their_prefixes(atc, stg):
    def stg_of_drug(year):
        e = prescription(atc=atc, drug_code=None, indication="G20", dispensed_at=f"{year}-03-05T10:00:00")
        return group_activity(activity(e)).stg

    assert stg_of_drug(2026) == stg
    assert stg_of_drug(2025) is None  # new in 2026
    if stg is not None:
        assert rule_year(2026).stgs[stg].weight == 0  # STG without financing in 2026


def test_as04_and_ds04_carry_the_names_seed_000_gives_them():
    stgs = rule_year(2026).stgs
    assert stgs["AS04"].name == "Pasientadministrert legemiddelbehandling ved Parkinsons sykdom"
    assert stgs["DS04"].name == (
        "Pasientadministrert legemiddelbehandling for forebygging av alvorlig nedre luftveisinfeksjoner"
    )


@pytest.mark.parametrize("year", [2025, 2026])
def test_every_stg_row_names_the_seed_it_rests_on_and_our_own_codes_say_they_are_inferences(year):
    for r in rule_year(year).stg_rules:
        assert "seed 00" in r.basis, r
        if r.stg in ("XSEB", "TSEB", "TSLAR"):  # codes the seeds do not give
            assert f"the code {r.stg}" in r.basis and "inference" in r.basis, r


def test_an_stg_row_of_the_2026_drug_logic_applies_from_the_tertial_it_enters_force():
    """Illustrative tertial update: indication M07 joins HS01 from 1 May 2026 (the second tertial)."""

    def stg(day):
        e = prescription(indication="M073", dispensed_at=f"{day}T10:00:00")
        return group_activity(activity(e)).stg

    assert stg("2026-04-30") is None
    assert stg("2026-05-01") == "HS01"


def test_an_stg_row_ending_within_the_year_no_longer_applies_after_its_last_day():
    ry = rule_year(2026)
    rows = tuple(
        dataclasses.replace(r, valid_to=date(2026, 8, 31)) if (r.stg, r.indication_prefix) == ("AS01", "G35") else r
        for r in ry.stg_rules
    )
    changed = dataclasses.replace(ry, stg_rules=rows)

    def stg(day):
        return stg_of(changed, activity(prescription(dispensed_at=f"{day}T10:00:00")))

    assert stg("2026-08-31") == "AS01"
    assert stg("2026-09-01") is None


def test_stg_rows_of_one_stg_must_agree_on_weight_and_dates_must_be_in_the_rule_year(tmp_path):
    from isf.rules import _stg_rows

    head = (
        "stg,name,period,weight,source,sector,care_level,special_code,procedure,atc_prefix,indication_prefix,valid_from"
    )
    (tmp_path / "a.csv").write_text(
        f"{head}\nAS01,x,year,1,prescription,,,,,,G35,\nAS01,x,year,2,prescription,,,,,,G36,\n", encoding="utf-8"
    )
    with pytest.raises(RuleError, match="weight"):
        _stg_rows(tmp_path / "a.csv", 2026)
    (tmp_path / "b.csv").write_text(f"{head}\nAS01,x,year,1,prescription,,,,,,G35,2025-05-01\n", encoding="utf-8")
    with pytest.raises(RuleError, match="outside rule year 2026"):
        _stg_rows(tmp_path / "b.csv", 2026)


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_stg_index_gives_the_same_stg_as_a_scan_of_every_row(year):
    rules = rule_year(year)
    seen = set()
    for _k, line in Feed(FeedConfig(seed=7, year=year)).events(4000):
        e = parse(line, KEY)
        if isinstance(e, Rejected):
            continue
        a = to_activity(e, KEY)
        if a.deleted or a.end is None:
            continue
        got = stg_of(rules, a)
        assert got == stg_of_by_scan(rules, a)
        seen.add(got)
    assert len(seen) > 8  # the feed reaches many STGs, not only None


# --- TFG: birth pathways and radiotherapy series, without financing ------------------------------


def birth(**kw):
    return episode(
        care_level="inpatient",
        contact_mode=None,
        main_condition="O800",
        birth_date="1995-01-01",
        admitted_at="2026-03-01T08:00:00",
        discharged_at="2026-03-04T08:00:00",
        **kw,
    )


@pytest.mark.parametrize(
    "event,drg,tfg",
    [
        (birth(secondary_conditions=["E870"]), "372", "PT11"),
        (birth(), "373", "PT12"),
        (birth(procedures=["MCA10"], secondary_conditions=["E870"]), "370", "PT13"),
        (birth(procedures=["MCA10"]), "371", "PT14"),
        (episode(main_condition="O200", birth_date="1995-01-01"), "914X", "PT99"),
    ],
)
@pytest.mark.parametrize("year", [2025, 2026])
def test_birth_pathways_pt11_to_pt14_and_pt99_are_counted_without_financing(event, drg, tfg, year):
    event = json.loads(json.dumps(event).replace("2026-03-0", f"{year}-03-0"))
    r = run([event])
    assert r["counts"][str(year)]["DRG"] == {drg: 1}
    assert r["counts"][str(year)]["TFG"] == {tfg: 1}
    t = rule_year(year).tfgs[tfg]
    assert t.weight == 0 and not t.finances
    points = r["points"][str(year)]["hf"]["ous"]
    assert Decimal(points["DRG"]) == rule_year(year).weights[drg].weight  # the member keeps its DRG points
    assert Decimal(points.get("TFG", "0")) == 0


def test_pt11_is_with_and_pt12_without_complicating_factors_as_seed_001_names_them():
    ry = rule_year(2026)
    assert "med kompliserende" in ry.tfgs["PT11"].name and "uten kompliserende" in ry.tfgs["PT12"].name
    assert "ressurskrevende" in ry.tfgs["PT13"].name and "med kompliserende" in ry.tfgs["PT13"].name
    assert "ressurskrevende" in ry.tfgs["PT14"].name and "uten kompliserende" in ry.tfgs["PT14"].name


def test_a_radiotherapy_series_is_one_pathway_per_patient_and_year_without_financing_and_each_fraction_keeps_its_drg():
    fractions = [
        episode(
            main_condition="C509",
            procedures=["WEOA10"],
            admitted_at=f"2026-04-{d:02d}T08:00:00",
            discharged_at=f"2026-04-{d:02d}T08:30:00",
        )
        for d in range(1, 16)
    ]
    r = run(fractions)
    assert r["counts"]["2026"]["DRG"] == {"409X": 15}
    assert r["counts"]["2026"]["TFG"] == {"RT01": 1}
    assert Decimal(r["points"]["2026"]["hf"]["ous"]["DRG"]) == 15 * rule_year(2026).weights["409X"].weight
    assert rule_year(2026).tfg_of_member[("DRG", "853X")].tfg == "RT01"  # proton therapy too, from 2026


# --- 2025's 980-DRG deduction: only the cases its rule names ------------------------------------


def acute_short(hours, main="G439", year=2025, urgency="acute"):
    return grouped(
        year,
        care_level="inpatient",
        urgency=urgency,
        main_condition=main,
        contact_mode=None,
        admitted_at=f"{year}-03-01T08:00:00",
        discharged_at=f"{year}-03-01T{8 + hours:02d}:00:00",
    )


def test_the_2025_980_deduction_applies_to_an_acute_stay_under_five_hours_with_a_listed_main_condition():
    g = acute_short(4)
    assert g.drg == "980A"
    assert g.drg_points == (rule_year(2025).weights["980A"].weight * Decimal("0.85")).quantize(Decimal("0.000001"))


@pytest.mark.parametrize(
    "hours,main,urgency",
    [(5, "G439", "acute"), (9, "G439", "acute"), (4, "J459", "acute")],
    ids=["five_hours", "nine_hours", "unlisted_main_condition"],
)
def test_the_2025_980_deduction_spares_stays_of_five_hours_or_more_and_unlisted_main_conditions(hours, main, urgency):
    g = acute_short(hours, main, urgency=urgency)
    assert g.drg is not None and g.drg.startswith("980")
    assert g.drg_points == rule_year(2025).weights[g.drg].weight


def test_2026_removes_the_980_deduction():
    g = acute_short(4, year=2026)
    assert g.drg == "980A" and g.drg_points == rule_year(2026).weights["980A"].weight
    assert rule_year(2026).drg_deductions == ()


# --- point supplements: their own stat, through the same ledger ---------------------------------


def phv(birth_date, year=2026, **kw):
    ev = dict(
        sector="phv",
        main_condition="F322",
        birth_date=birth_date,
        admitted_at=f"{year}-03-02T08:00:00",
        discharged_at=f"{year}-03-02T09:00:00",
    )
    return episode(**{**ev, **kw})


def test_phv_tsb_outpatients_until_the_year_they_turn_26_earn_the_point_supplement_as_its_own_stat():
    r = run([phv("2001-12-31"), phv("2000-01-01", patient_id="SYN-2")])  # turn 25 and 26 in 2026
    assert r["counts"]["2026"]["SUPP"] == {"U26": 1}
    u26 = next(s for s in rule_year(2026).supplements if s.code == "U26")
    assert Decimal(r["points"]["2026"]["hf"]["ous"]["SUPP"]) == u26.points
    assert Decimal(r["points"]["2026"]["hf"]["ous"]["DRG"]) == 2 * rule_year(2026).weights["TP10A"].weight


def test_the_under_26_supplement_is_seed_000s_2026_rule_and_absent_in_2025():
    r = run([phv("2010-01-01", year=2025), phv("2010-01-01", year=2026, patient_id="SYN-2")])
    assert "SUPP" not in r["counts"]["2025"]
    assert r["counts"]["2026"]["SUPP"] == {"U26": 1}
    assert "U26" not in {s.code for s in rule_year(2025).supplements}


@pytest.mark.parametrize(
    "kw",
    [
        dict(sector="tsb", main_condition="F112", atc_codes=["N07BC02"]),
        dict(sector="tsb", main_condition="F112", special_codes=["PUT"]),
        dict(sector="phv", main_condition="F322", special_codes=["PUT"]),
    ],
    ids=["lar", "put_tsb", "put_phv"],
)
def test_no_under_26_supplement_for_lar_and_put_patients_whose_unit_refund_covers_it(kw):
    """Seed 000: "Unntak er pasienter i LAR samt PUT opp til 30 år, hvor refusjonen ligger inne i
    enhetsrefusjonen"."""
    r = run([phv("2005-06-01", **kw), phv("2005-06-01", patient_id="SYN-2", sector=kw["sector"])])
    assert r["counts"]["2026"]["SUPP"] == {"U26": 1}  # only the contact outside the exception


def test_the_put_exception_covers_patients_up_to_30_and_a_supplement_for_older_patients_keeps_the_rest():
    """The exceptions are data: a supplement with a higher age limit still pays a PUT patient turning 30 or more."""
    from isf.rules.supplements import supplement_holds

    u26 = next(s for s in rule_year(2026).supplements if s.code == "U26")
    assert [x.name for x in u26.exceptions] == ["LAR", "PUT"]
    wide = dataclasses.replace(u26, age_in_year_below=40)

    def holds(birth_date):
        e = phv(birth_date, special_codes=["PUT"])
        return supplement_holds(wide, activity(e))

    assert not holds("1997-01-01")  # turns 29 in 2026: PUT, no supplement
    assert holds("1996-01-01")  # turns 30: outside PUT's age, the supplement holds


def test_the_under_26_supplement_is_for_phv_tsb_outpatient_contacts_only():
    young = "2005-06-01"
    r = run(
        [
            episode(main_condition="M545", birth_date=young),
            phv(
                young,
                patient_id="SYN-3",
                care_level="inpatient",
                contact_mode=None,
                admitted_at="2026-03-01T08:00:00",
                discharged_at="2026-03-09T08:00:00",
            ),
            phv(young, patient_id="SYN-4", debtor="30"),
        ]
    )
    assert "SUPP" not in r["counts"]["2026"]


def test_supplements_are_money_in_the_statement_at_the_sectors_price():
    from isf.settlement.statements import statement

    rows = list(Pipeline(KEY).run([raw(phv("2010-01-01"))]).totals.rows())
    doc = statement(rows, 2026, "final", {})
    ous = doc["hf"]["ous"] if "hf" in doc else doc["isf"]["hf"]["ous"]
    assert "SUPP|phv" in json.dumps(ous)


def test_palliative_care_earns_its_supplement_as_data():
    r = run([episode(main_condition="Z515")])
    assert r["counts"]["2026"]["SUPP"] == {"PALL": 1}


def test_redistribution_leaves_point_supplements_out_by_default_and_regrouping_keeps_them():
    events = [raw(phv("2010-01-01")), raw(phv("2010-01-01", year=2025, patient_id="SYN-5"))]
    rows = replay(events, KEY, 2025, 2026)
    assert not [k for k, _p, _c in rows if "|SUPP|" in k]
    out = compare(rows, 2025, 2026)
    assert out["point_supplements"] is False
    regrouped = replay(events, KEY, 2025, 2026, regroup=True)
    assert [k for k, _p, _c in regrouped if "|SUPP|" in k]


# --- money against the seeds' frames ---------------------------------------------------------------


def test_seed_000s_somatic_points_at_2024_prices_meet_the_2024_frames_and_phv_tsb_leaves_the_supplements_factor():
    from isf.calibration import money

    m = money([], 1)["seed_000_points_priced"]
    for rhf, line in m["somatic"].items():
        assert abs(Decimal(line["frame_over_priced"]) - 1) < Decimal("0.01"), rhf
    assert Decimal("1.15") < Decimal(m["phv_tsb"]["national"]["frame_over_priced"]) < Decimal("1.25")
