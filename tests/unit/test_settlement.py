"""Settlement: RBF invariants and seed 000's 2026 achievements, statements that equal the point events exactly."""

import json
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from isf.feed import Feed, FeedConfig
from isf.registry import RHFS, hospitals
from isf.replay import Pipeline
from isf.rules import rule_year
from isf.settlement.money import MICRO
from isf.settlement.rbf import distribute, step
from isf.settlement.statements import difference, indicator_figures, statement, statements, table

from .helpers import KEY, episode, raw

ACH = st.decimals(min_value=0, max_value=100, places=1)
INDS = [str(i) for i in range(1, 10)]


@settings(max_examples=150, deadline=None)
@given(
    year=st.sampled_from([2025, 2026]),
    ach=st.fixed_dictionaries({r: st.fixed_dictionaries({i: ACH for i in INDS}) for r in RHFS}),
    budget=st.integers(1, 10**10),
)
def test_incomes_always_sum_to_the_budget_to_the_ore(year, ach, budget):
    out = distribute(year, ach, Decimal(budget))
    if any(Decimal(v["raw_points"]) for v in out["rhf"].values()):
        assert sum(Decimal(v["nok"]) for v in out["rhf"].values()) == Decimal(budget)


@settings(max_examples=150, deadline=None)
@given(
    year=st.sampled_from([2025, 2026]),
    other=st.fixed_dictionaries({i: ACH for i in INDS}),
    rhf=st.sampled_from(RHFS),
    ind=st.sampled_from(INDS),
    rest=ACH,
)
def test_reaching_every_target_never_pays_less_than_reaching_fewer_at_equal_key(year, other, rhf, ind, rest):
    targets = rule_year(year).rbf.targets
    everything = {i: targets[i] for i in INDS}
    ach = {r: dict(everything) for r in RHFS}
    ach[rhf] = other
    key = {r: Decimal("0.25") for r in RHFS}
    out = distribute(year, ach, key=key)
    full = next(r for r in RHFS if r != rhf)
    assert Decimal(out["rhf"][full]["nok"]) >= Decimal(out["rhf"][rhf]["nok"])


@settings(max_examples=150, deadline=None)
@given(
    year=st.sampled_from([2025, 2026]),
    ach=st.fixed_dictionaries({r: st.fixed_dictionaries({i: ACH for i in INDS}) for r in RHFS}),
    rhf=st.sampled_from(RHFS),
    ind=st.sampled_from(INDS),
)
def test_raising_an_achievement_across_a_step_never_lowers_income(year, ach, rhf, ind):
    steps = rule_year(year).rbf.steps[ind]
    before = distribute(year, ach)
    current = step(ach[rhf][ind], steps)
    higher = next((t for t, _m in steps if step(t, steps) > current), None)
    if higher is None:
        return
    after = distribute(year, {**ach, rhf: {**ach[rhf], ind: higher}})
    assert Decimal(after["rhf"][rhf]["nok"]) >= Decimal(before["rhf"][rhf]["nok"])


# Seed 000, "Måloppnåelse ved foreløpig fordeling" (2026): indicators 1, 2 and 9 per RHF, in percent
SEED_000_2026 = {
    "midt-norge": {"1": "13.3", "2": "28.4", "9": "70.5"},
    "nord": {"1": "17.4", "2": "25.3", "9": "62.1"},
    "sor-ost": {"1": "13.3", "2": "28.6", "9": "68.4"},
    "vest": {"1": "12.1", "2": "28.2", "9": "71.4"},
}


def test_seed_000_2026_achievements_put_every_rhf_in_the_top_step_of_the_three_large_indicators():
    ach = {r: {i: Decimal(v) for i, v in inds.items()} for r, inds in SEED_000_2026.items()}
    out = distribute(2026, ach)
    for r in RHFS:
        for i in ("1", "2", "9"):
            assert out["rhf"][r]["indicators"][i]["step"] == 5, (r, i)
    # every RHF in the top step of the same indicators: the money follows the distribution key alone
    key = rule_year(2026).rbf.key
    for r in RHFS:
        assert abs(Decimal(out["rhf"][r]["nok"]) - key[r] * rule_year(2026).rbf.budget_nok) <= Decimal("0.01")


def _replay(n=4000, seed=31):
    batches = []
    pipe = Pipeline(b"k", on_batch=batches.append)
    pipe.run([raw for _k, raw in Feed(FeedConfig(seed=seed)).events(n)])
    return pipe, batches


def test_settlement_equals_the_sum_of_point_events_times_price_and_share_exactly():
    pipe, batches = _replay()
    rows = list(pipe.totals.rows())
    year = 2026
    ry = rule_year(year)
    by_hf: dict[str, Decimal] = {}
    for b in batches:  # every point delta the settlement service received, independently summed
        for d in b.deltas:
            f = d.stat.split("|")
            if f[0] == "P" and f[1] == str(year):
                s = ry.sectors[f[3]]
                by_hf[f[2]] = (
                    by_hf.get(f[2], Decimal(0)) + Decimal(d.points_micro) / MICRO * s.unit_price_nok * s.isf_share
                )
    st_final = statement(rows, year, "final")
    assert {hf: Decimal(v["nok"]) for hf, v in st_final["hf"].items()} == {
        hf: v.quantize(Decimal("0.01")) for hf, v in by_hf.items() if v or hf in st_final["hf"]
    }
    by_rhf: dict[str, Decimal] = {}
    for hf, v in by_hf.items():
        by_rhf[hospitals()[hf].rhf] = by_rhf.get(hospitals()[hf].rhf, Decimal(0)) + v
    assert {r: Decimal(v["nok"]) for r, v in st_final["rhf"].items()} == {
        r: v.quantize(Decimal("0.01")) for r, v in by_rhf.items()
    }


def test_provisional_final_difference_and_nki_precedence():
    pipe, _ = _replay(3000, seed=32)
    rows = list(pipe.totals.rows())
    prov, final = statement(rows, 2026, "provisional"), statement(rows, 2026, "final")
    assert prov["periods"] == ["2026-T1"] and len(final["periods"]) == 3
    assert (prov["rbf"]["npr_data"], final["rbf"]["npr_data"]) == ("2026-T1", "2026")
    assert all(Decimal(final["hf"][hf]["nok"]) >= Decimal(v["nok"]) - Decimal("0.01") for hf, v in prov["hf"].items())
    diff = difference(final, prov)
    for hf in final["hf"]:
        assert Decimal(diff["hf"][hf]["nok"]) == Decimal(final["hf"][hf]["nok"]) - Decimal(
            prov["hf"].get(hf, {"nok": "0"})["nok"]
        )
    assert diff["rbf_budget_year"] == 2027
    assert sum(Decimal(v) for v in diff["rbf_nok"].values()) == 0  # the same budget, redistributed
    # indicator 9 of RBF 2027 is NKI 2025: an external value for the HF wins; the stream's 2026 count is not used
    hf = next(h for h, figs in indicator_figures(rows, 2026, "2026").items() if "9" in figs)
    assert "9" not in final["indicators"][hf]
    with_nki = statement(rows, 2026, "final", nki={2025: {hf: (9, 10)}, 2026: {hf: (1, 10)}})
    assert with_nki["indicators"][hf]["9"] == {"numerator": 9, "denominator": 10}
    assert with_nki["nki_hfs"] == [hf]
    t = table(final)
    assert t[0][:4] == ["level", "name", "rhf", "nok"] and any(r and r[0] == "RBF" for r in t)
    years = ["RBF budget year", "2027", "NPR data", "2026", "NKI year", "2025", "parameters of", "2026", "final"]
    assert any(r[:9] == years and r[9].startswith("the seeds'") for r in t)


def _visit(hf, patient, day, mode="in_person"):
    """One somatic outpatient consultation (DRG weight 0.08 in 2025)."""
    return raw(
        episode(
            hf=hf, patient_id=patient, admitted_at=f"{day}T08:00:00", discharged_at=f"{day}T09:00:00", contact_mode=mode
        )
    )


# 2025: OUS (Sør-Øst) one video consultation in T1, four in-person in T2, five in T3; Haukeland (Vest) one video
# consultation in T1 and one in-person in T3. Indicator 1 (video share of consultations): after T1 both at 100 %;
# over the year OUS 1/10 = 10 % (step 4 of 5: 9 <= a < 12) and Haukeland 1/2 (step 5).
TERTIAL_HISTORY = [
    _visit("ous", "SYN-a", "2025-02-03", "video"),
    _visit("hbe", "SYN-v1", "2025-03-03", "video"),
    *[_visit("ous", f"SYN-b{i}", f"2025-06-0{i + 2}") for i in range(4)],
    *[_visit("ous", f"SYN-c{i}", f"2025-10-0{i + 1}") for i in range(5)],
    _visit("hbe", "SYN-v2", "2025-10-06"),
]


def _nok(doc, level="hf"):
    return {k: Decimal(v["nok"]) for k, v in doc[level].items()}


def test_statements_after_each_tertial_are_cumulative_and_each_shows_its_change_from_the_one_before():
    # 2025: 52 248 NOK a point, ISF share 30 %: a consultation of 0.08 points is 0.08 x 52 248 x 0.30 = 1 253.952 NOK
    docs = statements(Pipeline(KEY).run(TERTIAL_HISTORY).totals.rows(), 2025)
    t1, t2, final = docs["t1"], docs["t2"], docs["final"]
    assert [(d["kind"], d["label"], d["previous"]) for d in (t1, t2, final)] == [
        ("t1", "after tertial 1", None),
        ("t2", "after tertial 2", "t1"),
        ("final", "final", "t2"),
    ]
    assert (t1["periods"], t2["periods"]) == (["2025-T1"], ["2025-T1", "2025-T2"])
    assert t1["schedule"]["isf"].startswith("ours") and t1["schedule"]["rbf"].startswith("the seeds'")
    assert _nok(t1) == {"ous": Decimal("1253.95"), "hbe": Decimal("1253.95")}
    assert _nok(t2) == {"ous": Decimal("6269.76"), "hbe": Decimal("1253.95")}  # 5 x 0.08 points
    assert _nok(final) == {"ous": Decimal("12539.52"), "hbe": Decimal("2507.90")}
    assert _nok(t1["change"]) == _nok(t1)  # the first of the year changes from nothing
    assert _nok(t2["change"]) == {"ous": Decimal("5015.81"), "hbe": Decimal("0.00")}
    assert _nok(final["change"]) == {"ous": Decimal("6269.76"), "hbe": Decimal("1253.95")}
    assert _nok(final["change"], "rhf") == {"sor-ost": Decimal("6269.76"), "vest": Decimal("1253.95")}
    assert final["change"]["hf"]["ous"]["points_total"] == "0.4"
    for hf in final["hf"]:  # the changes add up to the final statement
        assert sum(_nok(d["change"])[hf] for d in (t1, t2, final)) == _nok(final)[hf]
    assert _nok(docs["difference"]) == {"ous": Decimal("11285.57"), "hbe": Decimal("1253.95")}  # final - t1


def test_rbf_shows_the_difference_to_the_base_grant_and_the_change_from_provisional_to_final():
    # RBF 2026 (budget 693 100 000, key = seed 000's base grants 98.4 / 83.6 / 378.0 / 133.2 MNOK) from 2025's data.
    # Provisional (T1): Sør-Øst and Vest both 5x on indicator 1 (x = 0.20 x 100 000 / 20 = 1 000 points), so the
    # budget is shared 378.0 : 133.2; final: Sør-Øst 4x, so 378.0 x 4 : 133.2 x 5.
    docs = statements(Pipeline(KEY).run(TERTIAL_HISTORY).totals.rows(), 2025)
    prov, t2, final = docs["t1"]["rbf"], docs["t2"]["rbf"], docs["final"]["rbf"]
    assert (prov["kind"], prov["npr_data"], final["kind"], final["npr_data"]) == (
        "provisional",
        "2025-T1",
        "final",
        "2025",
    )
    assert t2 == prov  # the provisional distribution stands until the final one
    lines = {r: {f: v for f, v in line.items() if f != "indicators"} for r, line in final["rhf"].items()}
    assert lines["sor-ost"] == {
        "raw_points": "4000.000",
        "normalised_points": "69421.4876",
        "nok": "481160330.58",  # 693 100 000 x 1 512 / 2 178
        "base_grant_nok": "377945470.28",  # 693 100 000 x 378.0 / 693.2
        "difference_to_base_grant_nok": "103214860.30",
        "provisional_nok": "512503521.13",  # 693 100 000 x 378.0 / 511.2
        "change_from_provisional_nok": "-31343190.55",
        "change_from_provisional_pct": "-6.12",
    }
    assert lines["vest"] == {
        "raw_points": "5000.000",
        "normalised_points": "30578.5124",
        "nok": "211939669.42",  # 693 100 000 x 666 / 2 178
        "base_grant_nok": "133180784.77",
        "difference_to_base_grant_nok": "78758884.65",
        "provisional_nok": "180596478.87",
        "change_from_provisional_nok": "31343190.55",
        "change_from_provisional_pct": "17.36",
    }
    # regions without data earn nothing: their whole base-grant share is the difference; no percent from 0
    assert lines["nord"]["difference_to_base_grant_nok"] == "-83587939.99"
    assert lines["nord"]["change_from_provisional_pct"] is None
    assert prov["rhf"]["vest"]["difference_to_base_grant_nok"] == "47415694.10"
    assert sum(Decimal(v["base_grant_nok"]) for v in final["rhf"].values()) == Decimal("693100000")
    assert docs["difference"]["rbf_nok"] == {
        "midt-norge": "0.00",
        "nord": "0.00",
        "sor-ost": "-31343190.55",
        "vest": "31343190.55",
    }
    rows = table(docs["final"])
    header = next(r for r in rows if r[:2] == ["RBF", "rhf"])
    vest = next(r for r in rows if r[:2] == ["RBF", "vest"])
    assert dict(zip(header[3:10], vest[3:10]))["difference_to_base_grant_nok"] == "78758884.65"


def test_a_paid_statement_stands_for_its_kind_and_the_next_change_is_measured_from_what_was_paid():
    events = [*TERTIAL_HISTORY, _visit("ous", "SYN-late", "2025-04-28")]  # a T1 consultation reported late
    paid = {**statements(Pipeline(KEY).run(TERTIAL_HISTORY).totals.rows(), 2025)["t1"], "frozen_at": "x"}
    docs = statements(Pipeline(KEY).run(events).totals.rows(), 2025, paid={"t1": paid})
    assert docs["t1"] is paid and _nok(docs["t1"])["ous"] == Decimal("1253.95")
    assert _nok(docs["t2"])["ous"] == Decimal("7523.71")  # 6 x 0.08 points, the late one included
    assert _nok(docs["t2"]["change"])["ous"] == Decimal("6269.76")  # from what was paid
    assert _nok(docs["difference"])["ous"] == Decimal("13793.47") - Decimal("1253.95")
    assert docs["final"]["rbf"]["rhf"]["vest"]["provisional_nok"] == paid["rbf"]["rhf"]["vest"]["nok"]


def test_statement_cli_exports_csv_and_excel_and_refuses_bad_nki(tmp_path, capsys):
    from openpyxl import load_workbook

    from services.cli import main

    events = tmp_path / "ev.jsonl"
    events.write_bytes(b"\n".join(raw for _k, raw in Feed(FeedConfig(seed=34)).events(800)) + b"\n")
    assert main(["statement", "--year", "2026", "--format", "csv", str(events)]) == 0
    lines = capsys.readouterr().out.lstrip("\ufeff").splitlines()
    assert lines[0].startswith("level;name;rhf;nok") and any(line.startswith("HF;") for line in lines)
    assert (
        main(
            [
                "statement",
                "--year",
                "2026",
                "--kind",
                "difference",
                "--format",
                "xlsx",
                "--out",
                str(tmp_path / "d.xlsx"),
                str(events),
            ]
        )
        == 0
    )
    ws = load_workbook(tmp_path / "d.xlsx").active
    assert ws.cell(1, 1).value == "level" and ws.max_row > 5
    assert main(["statement", "--year", "2026", "--kind", "t2", str(events)]) == 0
    t2 = json.loads(capsys.readouterr().out)
    assert (t2["kind"], t2["previous"], t2["rbf"]["kind"]) == ("t2", "t1", "provisional") and t2["change"]["hf"]
    assert main(["statement", "--year", "2026", "--kind", "provisional", str(events)]) == 0
    assert json.loads(capsys.readouterr().out)["kind"] == "t1"  # the statement after tertial 1, by its RBF name
    bad = tmp_path / "nki.jsonl"
    bad.write_text('{"schema":"nki/v1","hf":"nowhere","year":2026,"numerator":1,"denominator":2}\n')
    assert main(["statement", "--year", "2026", "--nki", str(bad), str(events)]) == 2
    assert "unknown HF 'nowhere'" in capsys.readouterr().err


def test_exported_text_that_a_spreadsheet_would_run_as_a_formula_is_written_as_text():
    import csv
    from io import BytesIO, StringIO

    from openpyxl import load_workbook

    from isf.settlement.export import to_csv, to_xlsx

    hostile = ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)", "\tx", "\rx"]
    doc = {
        "kind": "final",
        "year": 2026,
        "hf": {h: {"rhf": "vest", "nok": "-12.50", "points_total": "1"} for h in hostile},
    }
    rows = list(csv.reader(StringIO(to_csv(doc).lstrip("\ufeff"), newline=""), delimiter=";"))[1:]
    assert [r[1] for r in rows] == ["'" + h for h in hostile]
    assert {r[3] for r in rows} == {"-12,50"}  # a negative number stays a number
    sheet = load_workbook(BytesIO(to_xlsx(doc))).active
    names = [sheet.cell(i, 2).value for i in range(2, 2 + len(hostile))]
    assert names[:5] == ["'" + h for h in hostile[:5]] and names[5].startswith("'") and sheet.cell(2, 4).value == -12.5
