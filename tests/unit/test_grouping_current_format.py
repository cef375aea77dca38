"""Today's NordDRG table format: the 2016 tables converted to it group like the old format; synthetic tables
for what only today's format has; unreadable tables named by table, row and column."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

from isf.grouping.casestring import read_golden
from isf.grouping.engine import group_case
from isf.grouping.features import GroupingCase
from isf.grouping.tables import DefinitionError, load_definitions, read_raw

from .norddrg_convert import NORDIC, convert, subset, write_csvs, write_workbook
from .test_grouping import _cases

OLD_2016 = "DefinitionData_NOR_2016_PR1cN.zip"


@pytest.fixture(scope="module")
def converted(norddrg, tmp_path_factory):
    return convert(read_raw(norddrg / OLD_2016))


def _same_as_old(old, new, case):
    a, b = group_case(old, case, explain=False), group_case(new, case, explain=False)
    assert (b.drg, b.ord, b.rtc, b.mdc, b.is_error) == (a.drg, a.ord, a.rtc, a.mdc, a.is_error)


def test_converted_2016_csv_tables_group_every_golden_case_and_random_cases_as_the_old_format(
    norddrg, converted, tmp_path
):
    old = load_definitions(norddrg / OLD_2016)
    new = load_definitions(write_csvs(converted, tmp_path / "csv"))
    assert new.report["format"] == "current" and new.report["rules"] == len(old.logic) == 2195
    assert new.report["disabled_rules"] == ["#NOR1"]  # the disabled catch-all is skipped, and counted
    assert new.report["other_national_versions"] == {"drg_logic": 1, "dg_feat": 1}  # the Finnish rows
    golden = read_golden(norddrg / "TestData.csv")
    for g in golden:
        r = group_case(new, g.case, explain=False)
        assert (r.drg, r.ord, r.rtc) == (g.drg, g.ord, g.rtc), g.number
        _same_as_old(old, new, g.case)

    @settings(max_examples=150, deadline=None)
    @given(case=_cases(old))
    def check(case):
        _same_as_old(old, new, case)

    check()


def test_converted_2016_workbook_groups_every_golden_case_as_the_old_format(norddrg, converted, tmp_path):
    """The workbook holds every rule but only the code rows the golden cases use (openpyxl reads a full set slowly);
    the damaged numbers are real numbers in its cells."""
    golden = read_golden(norddrg / "TestData.csv")
    diagnoses = {c for g in golden for pair in g.case.pairs for c in pair if c}
    procedures = {p for g in golden for p in g.case.procedures}
    new = load_definitions(write_workbook(subset(converted, diagnoses, procedures), tmp_path / "NOR2016.xlsx"))
    old = load_definitions(norddrg / OLD_2016)
    assert new.report["rules"] == 2195 and new.report["disabled_rules"] == ["#NOR1"]
    for g in golden:
        r = group_case(new, g.case, explain=False)
        assert (r.drg, r.ord, r.rtc) == (g.drg, g.ord, g.rtc), g.number
        _same_as_old(old, new, g.case)


# --- synthetic tables: what the 2016 tables never use ------------------------------------------------

LOGIC = ["ord", "id", "drg_nat", "rtc", "icd", "mdc", "dgcat", "compl", "agelim", "sex", "nat_ver"]


def _rule(ord_, id_, drg, rtc="0", icd="", mdc="", dgcat="", compl="", agelim="", sex="", nat_ver="nor"):
    return [ord_, id_, drg, rtc, icd, mdc, dgcat, compl, agelim, sex, nat_ver]


def _tables(rules, dg_feat, dg_map, drg_names=(), rtc=(("0", "OK"),)):
    """Today's tables with only the columns these cases need; every code maps to itself unless `dg_map` says."""
    return {
        "drg_logic": (LOGIC, rules),
        "dg_feat": (["code_plus", "d_code_plus", "vartype", "varval", "nat_ver"], dg_feat),
        "proc_feat": (["code_plus", "vartype", "varval", "nat_ver"], []),
        "compl_excl": (["vartype", "varval", "code_plus", "d_code_plus", "nat_ver"], []),
        "compl_name": (["compl", "act_prop", "text", "nat_ver"], []),
        "dg": (["code_nat", "code_plus", "country"], [[n, p, "nor"] for n, p in dg_map]),
        "proc": (["code_nat", "code_plus", "country"], []),
        "drg_name": (["drg_nat", "mdc", "country"], [list(r) for r in drg_names]),
        "rtc": (["rtc_code", "rtc_text_nat", "country"], [[c, t, "nor"] for c, t in rtc]),
    }


def _case(*pairs, age=20000, sex="F"):
    return GroupingCase(sex, age, "H", 3, tuple(pairs) + ((("", ""),) if len(pairs) < 2 else ()), ())


def _load(tables, tmp_path, **options):
    return load_definitions(write_csvs(tables, tmp_path / "tables", prefix=""), **options)


def _dg(code, *props):
    return [[code, "", vt, v, NORDIC] for vt, v in props]


def test_a_major_complication_gives_cc_level_2_and_meets_a_level_2_rule_before_the_level_1_rule(tmp_path):
    rules = [
        _rule("1.0", "R2", "100A", mdc="1.0", compl="2.0"),  # compl 2: a major complication
        _rule("2.0", "R1", "100B", mdc="1.0", compl="1.0"),
        _rule("3.0", "R0", "100C", mdc="1.0"),
    ]
    dg_feat = (
        _dg("P01", ("DGCAT", "01M01"), ("MDC", "1.0"))
        + _dg("S02", ("DGCAT", "02M01"), ("COMPL", "02G01"))  # G: active, level 2
        + _dg("S03", ("DGCAT", "03M01"), ("COMPL", "03C01"))  # C: active, level 1
    )
    defs = _load(_tables(rules, dg_feat, [(c, c) for c in ("P01", "S02", "S03")]), tmp_path)
    major = group_case(defs, _case(("P01", ""), ("S02", "")))
    assert (major.drg, major.ord, major.explanation["cc_level"]) == ("100A", "R2", 2)
    assert group_case(defs, _case(("P01", ""), ("S03", ""))).drg == "100B"  # level 1 fails `compl 2`
    assert group_case(defs, _case(("P01", ""), ("", ""))).drg == "100C"


def test_letter_return_codes_take_their_meaning_from_the_rtc_table(tmp_path):
    rules = [
        _rule("1", "AGE", "470", rtc="B", agelim="<365"),
        _rule("2", "EXTRA", "200", rtc="A", mdc="01", sex="1.0"),  # sex 1: male
        _rule("3", "ALL", "201"),
    ]
    rtc = (("0", "OK"), ("A", "OK, with an extra code"), ("B", "Principal diagnosis not valid at this age"))
    defs = _load(_tables(rules, _dg("P01", ("DGCAT", "01M01")), [("P01", "P01")], rtc=rtc), tmp_path)
    assert defs.fine_rtcs == {"0", "A"}
    infant = group_case(defs, _case(("P01", ""), age=100))
    assert (infant.drg, infant.rtc, infant.is_error) == ("470", "B", True)
    assert infant.explanation["reason"] == "Principal diagnosis not valid at this age"
    man = group_case(defs, _case(("P01", ""), sex="M"))
    assert (man.drg, man.rtc, man.is_error) == ("200", "A", False)
    assert (group_case(defs, _case(("P01", ""))).drg) == "201"  # a woman: the sex test fails


def test_rules_are_scanned_by_numeric_ord_reported_by_id_disabled_and_foreign_rows_left_out(tmp_path):
    rules = [
        _rule("10", "A1", "300"),
        _rule("9.0", "Z9", "301", mdc="01"),  # scanned first: 9 < 10 although "10" < "9.0" as text and A1 < Z9
        _rule("1", "#Z0", "302"),  # disabled
        _rule("2", "F1", "303", nat_ver="den/fin"),  # not Norway's
        _rule("3", "N1", "304", mdc="02", nat_ver="den/fin/nor"),
    ]
    defs = _load(_tables(rules, _dg("P01", ("DGCAT", "01M01")), [("P01", "P01")]), tmp_path)
    assert [r.ord for r in defs.logic] == ["N1", "Z9", "A1"]
    assert defs.report["disabled_rules"] == ["#Z0"]
    assert defs.report["other_national_versions"] == {"drg_logic": 1}
    assert group_case(defs, _case(("P01", ""))).ord == "Z9"
    assert group_case(defs, _case(("Q99", ""))).ord == "A1"


def test_a_norwegian_code_with_an_extension_gets_the_properties_of_its_plus_code(tmp_path):
    rules = [_rule("1", "K", "400", mdc="06"), _rule("2", "ANY", "470", rtc="1")]
    dg_feat = _dg("K290", ("DGCAT", "06M01"))
    # K2901 (a Norwegian extension) and K290 both map to the plus code K290; K29 maps to nothing
    defs = _load(_tables(rules, dg_feat, [("K2901", "K290"), ("K290", "K290")]), tmp_path)
    assert group_case(defs, _case(("K2901", ""))).drg == "400"
    assert group_case(defs, _case(("K290", ""))).drg == "400"
    assert group_case(defs, _case(("K29", ""))).drg == "470"


def test_a_drg_that_lost_its_leading_zeros_takes_its_spelling_from_drg_name(tmp_path):
    rules = [_rule("1", "R", "4.0")]
    defs = _load(_tables(rules, [], [], drg_names=[("004", "1.0", "nor")]), tmp_path)
    r = group_case(defs, _case(("", "")))
    assert (r.drg, r.mdc) == ("004", "01")


def test_the_category_of_a_principal_pair_comes_from_the_second_code_unless_told_the_first(tmp_path):
    rules = [_rule("1", "MDC01", "101", mdc="01"), _rule("2", "MDC23", "123", mdc="23")]
    dg_feat = _dg("A521", ("DGCAT", "01M03")) + _dg("Z017", ("DGCAT", "23M99"))
    tables = _tables(rules, dg_feat, [("A521", "A521"), ("Z017", "Z017")])
    pair = _case(("A521", "Z017"))
    assert group_case(_load(tables, tmp_path), pair).drg == "123"  # the 2016 reference's rule
    first = load_definitions(tmp_path / "tables", pair_category="first")
    assert first.report["pair_category"] == "first"
    assert group_case(first, pair).drg == "101"


# --- what cannot be read -----------------------------------------------------------------------------


def _good():
    return _tables([_rule("1", "R1", "100", mdc="01")], _dg("P01", ("DGCAT", "01M01")), [("P01", "P01")])


@pytest.mark.parametrize(
    ("table", "row", "column", "value", "message"),
    [
        ("drg_logic", 0, 0, "first", r"drg_logic row 2 field 'ord': expected a number, got 'first'"),
        ("drg_logic", 0, 5, "1.5", r"drg_logic row 2 field 'mdc': expected a whole number, got '1.5'"),
        ("drg_logic", 0, 7, ">two", r"drg_logic row 2 field 'compl': expected a whole number, got 'two'"),
        ("drg_logic", 0, 9, "3.0", r"drg_logic row 2 field 'sex': unknown sex '3.0'"),
        ("drg_logic", 0, 2, "", r"drg_logic row 2 field 'drg_nat': empty DRG"),
        ("dg_feat", 0, 3, "", r"dg_feat row 2 field 'varval': empty DGCAT value"),
        ("dg", 0, 1, "", r"dg row 2 field 'code_plus': no plus code for P01"),
    ],
)
def test_an_unreadable_cell_fails_naming_table_row_and_column(tmp_path, table, row, column, value, message):
    tables = _good()
    tables[table][1][row][column] = value
    with pytest.raises(DefinitionError, match=message):
        _load(tables, tmp_path)


def test_a_missing_table_a_missing_column_and_a_repeated_rule_id_are_named(tmp_path):
    tables = _good()
    del tables["rtc"]
    with pytest.raises(DefinitionError, match=r"^rtc: table missing"):
        _load(tables, tmp_path / "a")
    tables = _good()
    tables["drg_logic"] = ([c for c in LOGIC if c != "id"], [r[:1] + r[2:] for r in tables["drg_logic"][1]])
    with pytest.raises(DefinitionError, match=r"drg_logic row 1 field 'id': column missing"):
        _load(tables, tmp_path / "b")
    tables = _good()
    tables["drg_logic"][1].append(_rule("2", "R1", "101"))
    with pytest.raises(DefinitionError, match=r"drg_logic row 3 field 'id': rule id 'R1' also on row 2"):
        _load(tables, tmp_path / "c")
    tables = _good()
    tables["dg"][1].append(["P01", "P02", "nor"])
    with pytest.raises(DefinitionError, match=r"dg row 3 field 'code_plus': P01 maps to both P01 and P02"):
        _load(tables, tmp_path / "d")


# --- the command and the configuration ------------------------------------------------------------------


def test_definitions_check_reports_what_a_set_holds_and_names_what_it_cannot_read(tmp_path, capsys):
    from services.cli import main

    folder = write_csvs(_good(), tmp_path / "good", prefix="NOR2025PR1a_")
    assert main(["definitions", "check", str(folder)]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["version"] == "NOR2025PR1a" and report["format"] == "current" and report["national_version"] == "nor"
    assert report["rules"] == 1 and report["codes"] == {"dg": 1, "proc": 0}
    assert main(["definitions", "check", str(folder), "--format", "old"]) == 2  # told the wrong format
    assert "drglogic: missing file" in capsys.readouterr().err
    tables = _good()
    tables["drg_logic"][1][0][5] = "1.5"
    bad = write_csvs(tables, tmp_path / "bad", prefix="")
    assert main(["definitions", "check", str(bad)]) == 2
    assert "drg_logic row 2 field 'mdc'" in capsys.readouterr().err


def test_a_rule_year_configured_to_a_set_in_todays_format_groups_with_it(tmp_path):
    from isf.rules import rule_year, use_sources
    from services.common.bootstrap import configure_rules

    folder = write_csvs(_good(), tmp_path / "year", prefix="")
    try:
        configure_rules({"ISF_DEFINITIONS_2026": str(folder), "ISF_DEFINITIONS_PAIR_CATEGORY_2026": "first"})
        defs = rule_year(2026).definitions
        assert defs.report["format"] == "current" and defs.pair_category == "first"
        assert group_case(defs, _case(("P01", ""))).drg == "100"
        assert rule_year(2025).definitions.report["format"] == "old"
    finally:
        use_sources()


def test_an_unknown_definition_format_stops_at_start_naming_the_variable(capsys):
    from services.common.bootstrap import configure_rules
    from services.common.config import EX_CONFIG

    with pytest.raises(SystemExit) as stop:
        configure_rules({"ISF_DEFINITIONS_FORMAT_2025": "excel"})
    assert stop.value.code == EX_CONFIG
    assert (
        capsys.readouterr().err.strip() == "isf: ISF_DEFINITIONS_FORMAT_2025: 'excel' is not one of auto, old, current"
    )


def test_the_illustrative_sets_still_load_as_the_old_format():
    from isf.rules import DATA

    for year in (2025, 2026):
        defs = load_definitions(Path(DATA / str(year) / "definitions"))
        assert defs.report["format"] == "old" and defs.fine_rtcs == {"0", "A"}
