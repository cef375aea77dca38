"""The directorate's weight-list formats (CSV with Norwegian headings and decimal commas, Excel) -> rules."""

from decimal import Decimal

import pytest

from isf.rules import RuleError, load_weights
from isf.rules.weightlist import WeightListError, import_weight_list, write_weights_csv

DIRECTORATE_CSV = """Kostnadsvekter 2026;;;;
Illustrativ liste laget for testen;;;;
DRG;DRG-navn;Kostnadsvekt;Øvre trimpunkt;Vekt per liggedøgn over trimpunkt
001A;Kraniotomi, alder > 17 år, m/kompl;4,123;30;0,123
010;Svulster i nervesystemet;1.234,5;12;0,05
;Fotnote: vektene er illustrative;;;
103o;Hjertetransplantasjon;30,000;;
"""


def test_a_directorate_csv_with_title_rows_and_decimal_commas_imports(tmp_path):
    path = tmp_path / "vekter.csv"
    path.write_text(DIRECTORATE_CSV, encoding="utf-8")
    rows = import_weight_list(path)
    assert [r["drg"] for r in rows] == ["001A", "010", "103O"]
    assert rows[0] == {
        "drg": "001A",
        "name": "Kraniotomi, alder > 17 år, m/kompl",
        "weight": "4.123",
        "trim_days": "30",
        "per_day_weight": "0.123",
        "acute_factor": "1",
    }
    assert rows[1]["weight"] == "1234.5" and rows[2]["trim_days"] == "0"
    out = tmp_path / "weights.csv"
    with out.open("w", encoding="utf-8", newline="") as fh:
        write_weights_csv(rows, fh)
    loaded = load_weights(out)
    assert str(loaded["001A"].weight) == "4.123" and loaded["001A"].trim_days == 30
    # the rules also read the directorate's file directly
    assert load_weights(path).keys() == loaded.keys()


def test_an_excel_weight_list_imports(tmp_path):
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(["Vektliste"])
    ws.append(["DRG", "Navn", "Vekt", "Trimpunkt", "Overliggedøgnsvekt"])
    ws.append(["801H", "Biologiske legemidler", 0.25, None, None])
    ws.append(["317O", "Dialyse", 0.12, 0, 0])
    wb.save(tmp_path / "vekter.xlsx")
    rows = import_weight_list(tmp_path / "vekter.xlsx")
    assert [(r["drg"], r["weight"]) for r in rows] == [("801H", "0.25"), ("317O", "0.12")]


@pytest.mark.parametrize(
    "text, message",
    [
        ("Tittel\nKode;Beskrivelse\n001;x\n", "no heading row with a DRG and a weight column"),
        ("DRG;Vekt\n001;abc\n", "row 2, column weight: not a number"),
        ("DRG;Vekt\n001;1\n001;2\n", "row 3: DRG 001 listed twice"),
        ("DRG;Vekt;Trimpunkt\n001;1;2,5\n", "not a whole number of days"),
        ("DRG;Vekt\n001;-1\n", "negative"),
    ],
)
def test_broken_weight_lists_fail_naming_row_and_column(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(WeightListError, match=message):
        import_weight_list(path)
    with pytest.raises(RuleError, match=message):
        load_weights(path)


def test_the_cli_converts_a_list(tmp_path, capsys):
    from services.cli import main

    path = tmp_path / "vekter.csv"
    path.write_text(DIRECTORATE_CSV, encoding="utf-8")
    assert main(["weights", str(path)]) == 0
    assert capsys.readouterr().out.splitlines()[:2] == [
        "drg,name,weight,trim_days,per_day_weight,acute_factor",
        '001A,"Kraniotomi, alder > 17 år, m/kompl",4.123,30,0.123,1',
    ]
    assert main(["weights", str(tmp_path / "missing.csv")]) == 2


def test_isf_weights_of_a_year_points_that_year_at_an_official_list_and_leaves_the_other(tmp_path):
    from isf.rules import rule_year, use_sources
    from services.common.bootstrap import configure_rules

    path = tmp_path / "vekter.csv"
    path.write_text(DIRECTORATE_CSV, encoding="utf-8")
    try:
        configure_rules({"ISF_WEIGHTS_2026": str(path)})
        assert rule_year(2026).weights["001A"].weight == Decimal("4.123")
        assert len(rule_year(2026).weights) == 3
        assert len(rule_year(2025).weights) > 3
    finally:
        use_sources()
    assert len(rule_year(2026).weights) > 3


def test_a_rule_source_that_does_not_exist_stops_at_start_naming_the_variable(capsys):
    from services.common.bootstrap import configure_rules
    from services.common.config import EX_CONFIG

    with pytest.raises(SystemExit) as stop:
        configure_rules({"ISF_DEFINITIONS": "/nowhere/defs.zip"})
    assert stop.value.code == EX_CONFIG
    assert capsys.readouterr().err.strip() == "isf: ISF_DEFINITIONS: /nowhere/defs.zip does not exist"
