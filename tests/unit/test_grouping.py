"""The NordDRG engine: conformance with the reference grouper, table validation, properties."""

from functools import lru_cache

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from isf.grouping.casestring import read_golden
from isf.grouping.conformance import run_conformance
from isf.grouping.engine import group_case
from isf.grouping.features import GroupingCase
from isf.grouping.tables import DefinitionError, compile_definitions, load_definitions, read_raw
from isf.rules import definitions_path, rule_year

from .norddrg_oracle import Oracle


def test_all_golden_cases_agree_with_the_reference(norddrg):
    summary, disagreements = run_conformance(norddrg / "DefinitionData_NOR_2016_PR1cN.zip", norddrg / "TestData.csv")
    assert disagreements == []
    assert summary == {"cases": 67, "drg_agree": 67, "logic_agree": 67, "rtc_agree": 67}


def test_golden_example_b_explains_its_cc_split(norddrg):
    defs = load_definitions(norddrg / "DefinitionData_NOR_2016_PR1cN.zip")
    case = next(g for g in read_golden(norddrg / "TestData.csv") if g.number == "37")
    r = group_case(defs, case.case)
    assert (r.drg, r.ord) == ("10", "401D10")
    assert r.explanation["cc_level"] == 2
    assert r.explanation["properties"]["COMPL:08G01"] == "M726"


def test_broken_definition_data_names_table_row_and_field():
    data = read_raw(definitions_path(2026))
    data["drglogic"][3]["compl"] = "x1"
    with pytest.raises(DefinitionError, match=r"drglogic row 4 field 'compl'"):
        compile_definitions(data)
    data = read_raw(definitions_path(2026))
    data["dg"][0]["vartype"] = "NOPE"
    with pytest.raises(DefinitionError, match=r"dg row 1 field 'vartype'"):
        compile_definitions(data)


def test_demo_sets_are_large_enough_and_illustrative():
    for year in (2025, 2026):
        ry = rule_year(year)
        assert len(ry.weights) >= 150
        mdcs = {ry.definitions.drg_mdc[d] for d in ry.weights if ry.definitions.drg_mdc.get(d)}
        assert len(mdcs) >= 24


def test_the_illustrative_rule_data_is_what_tools_demo_definitions_writes():
    """The definition sets and weight lists are generated: a change made to the CSVs alone would be lost."""
    import csv
    import importlib.util

    from isf.rules import DATA

    spec = importlib.util.spec_from_file_location("demo_definitions", DATA.parents[3] / "tools" / "demo_definitions.py")
    assert spec is not None and spec.loader is not None
    demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(demo)

    def read(path):
        with path.open(encoding="utf-8", newline="") as fh:
            return list(csv.DictReader(fh))

    for year in (2025, 2026):
        tables, weights = demo.build(year)
        assert read(DATA / str(year) / "weights.csv") == weights
        for name, rows in tables.items():
            assert read(DATA / str(year) / "definitions" / f"{name}.csv") == rows, (year, name)


codes = st.sampled_from(["E119", "I509", "E870", "N179", "J969", "A418", "I10", "C509", "Z099", "M545"])
procs = st.sampled_from(["NFB40", "JEA01", "KAS00", "WMGA28", "ZZCO", "ZZHA", "CKD05", "EMB10"])


@settings(max_examples=200, deadline=None)
@given(
    main=codes,
    secondary=st.lists(codes, max_size=5),
    procedures=st.lists(procs, max_size=5),
    age=st.integers(0, 40000),
    los=st.integers(0, 60),
    sex=st.sampled_from("MFU"),
    data=st.data(),
)
def test_result_does_not_depend_on_code_order(main, secondary, procedures, age, los, sex, data):
    defs = rule_year(2026).definitions

    def case(sec, pr):
        return GroupingCase(
            sex,
            age,
            "H",
            los,
            ((main, ""),) + tuple((c, "") for c in sec) + ((("", ""),) if not sec else ()),
            tuple(pr),
        )

    a = group_case(defs, case(secondary, procedures), explain=False)
    b = group_case(
        defs, case(data.draw(st.permutations(secondary)), data.draw(st.permutations(procedures))), explain=False
    )
    assert (a.drg, a.ord, a.rtc) == (b.drg, b.ord, b.rtc)
    assert a.drg is not None  # the demo set's catch-all row groups every case
    if a.is_error:
        assert a.rtc not in ("0", "A") and a.rtc is not None


activity_codes = st.sampled_from(
    [
        "E119",
        "I509",
        "J189",
        "M161",
        "S720",
        "O800",
        "F322",
        "F100",
        "H269",
        "K802",
        "Z348",
        "XX999",
        "",
        "C509",
        "N185",
        "I219",
    ]
)
activity_procs = st.sampled_from(["NFB40", "JEA01", "CJE20", "EMB10", "WMAA30", "WPBA25", "IEAD00", "NOPE1", "LCD10"])


@settings(max_examples=300, deadline=None)
@given(
    year=st.sampled_from([2025, 2026]),
    main=activity_codes,
    secondary=st.lists(activity_codes, max_size=4),
    procedures=st.lists(activity_procs, max_size=4),
    days=st.integers(0, 120),
    hours=st.integers(1, 23),
    care=st.sampled_from(["inpatient", "day", "outpatient"]),
    sector=st.sampled_from(["somatic", "phv", "tsb"]),
    urgency=st.sampled_from(["planned", "acute"]),
    debtor=st.sampled_from(["11", "30", "22"]),
    age=st.integers(0, 110 * 365),
)
def test_every_activity_groups_with_non_negative_points_and_errors_explain_themselves(
    year, main, secondary, procedures, days, hours, care, sector, urgency, debtor, age
):
    from datetime import datetime, timedelta

    from isf.events import Activity
    from isf.grouping.activity import group_activity
    from isf.grouping.mapping import to_case

    start = datetime(year, 3, 1, 8)
    a = Activity(
        source_id="E:ous:p",
        kind="episode",
        version=1,
        hf="ous",
        rhf="sor-ost",
        patient="x",
        age_days=age,
        sex="F",
        sector=sector,
        care_level=care,
        start=start,
        end=start + timedelta(days=days, hours=hours),
        main_condition=main,
        secondary_conditions=tuple(secondary),
        procedures=tuple(procedures),
        urgency=urgency,
        debtor=debtor,
    )
    g = group_activity(a, explain=True)
    assert g.rule_year == year and g.drg is not None
    assert (g.drg, g.ord, g.rtc) == _oracle(year).group(to_case(a))
    assert g.drg_points >= 0
    assert g.drg in rule_year(year).weights  # every DRG the logic gives has a weight-list row
    if g.rtc not in ("0", "A"):
        assert g.explanation["rule"]["rtc"] and g.explanation["reason"]
    if debtor not in rule_year(year).isf_debtors:
        assert g.drg_points == 0


def test_every_grouped_activity_is_what_validating_its_fields_makes():
    """`Grouped.of_drg` does not validate the values the grouper made itself: the result must be the very model
    that validation makes of them, on the wire too."""
    from isf.feed import Feed, FeedConfig
    from isf.grouping.activity import Grouped, group_activity
    from isf.ingest import Rejected, parse, to_activity

    drgs = 0
    for _key, raw in Feed(FeedConfig(seed=3, invalid=0)).events(400):
        e = parse(raw, b"test")
        if isinstance(e, Rejected):
            continue
        for explain in (False, True):
            g = group_activity(to_activity(e, b"test"), explain=explain)
            validated = Grouped(**{k: getattr(g, k) for k in g.model_fields_set})
            assert g == validated and vars(g) == vars(validated) and list(vars(g)) == list(vars(validated))
            assert g.model_fields_set == validated.model_fields_set
            assert g.model_dump_json() == validated.model_dump_json()
            assert Grouped.model_validate_json(g.model_dump_json()).model_dump_json() == g.model_dump_json()
            drgs += g.drg is not None
    assert drgs > 200


# --- the compiled engine against a literal scan of every row (tests/unit/norddrg_oracle.py) ---


def _cases(defs):
    """Cases made of the tables' own codes, unknown codes, (dagger, asterisk) pairs and any two codes."""
    dagger_pairs = sorted(
        {(d, code) for code, by_vt in defs.dg.items() for rows in by_vt.values() for d, _ in rows if d}
    )
    code = st.one_of(st.sampled_from(sorted(defs.dg)), st.sampled_from(["", "XX999"]))
    pair = st.one_of(
        st.tuples(code, st.just("")), st.tuples(code, code), *([st.sampled_from(dagger_pairs)] if dagger_pairs else [])
    )
    # a principal and a secondary whose complication that principal excludes (none in the demo sets)
    gives: dict[str, list] = {}
    for c, props in defs.diagnoses.items():
        for comp in props.complications:
            gives.setdefault(comp.value, []).append((c, comp.category))
    excluded = sorted(
        (p, s)
        for value, p in defs.exclusions
        if p in defs.diagnoses
        for s, category in gives.get(value, ())
        if category not in defs.diagnoses[p].categories  # else the same-category rule drops it first
    )
    first_two = st.tuples(pair, pair)
    if excluded:
        first_two = st.one_of(first_two, st.sampled_from(excluded).map(lambda ps: ((ps[0], ""), (ps[1], ""))))
    # ages and stays on both sides of every limit a rule sets, and anywhere else
    ages = sorted({n + d for r in defs.rules for n in r.age if abs(n) < 10**9 for d in (-1, 0, 1) if n + d >= 0})
    stays = sorted({n + d for r in defs.rules for n in r.los if abs(n) < 10**9 for d in (-1, 0, 1) if n + d >= 0})
    return st.builds(
        GroupingCase,
        sex=st.sampled_from("MFU"),
        age_days=st.one_of(st.sampled_from(ages or [0]), st.integers(0, 45000)),
        discharge=st.sampled_from(["H", "N", "E", "R", ""]),
        los_days=st.one_of(st.sampled_from(stays or [0]), st.integers(0, 90)),
        pairs=first_two.flatmap(lambda two: st.lists(pair, max_size=6).map(lambda more: two + tuple(more))),
        procedures=st.lists(st.sampled_from(sorted(defs.proc) + ["NOPE1"]), max_size=6).map(tuple),
    )


def _agrees_with_the_oracle(defs, oracle, case):
    fast = group_case(defs, case, explain=False)
    explained = group_case(defs, case, explain=True)
    assert (fast.drg, fast.ord, fast.rtc) == oracle.group(case)
    assert (explained.drg, explained.ord, explained.rtc, explained.mdc) == (fast.drg, fast.ord, fast.rtc, fast.mdc)
    if fast.ord is not None:
        assert explained.explanation["rule"]["ord"] == fast.ord


@lru_cache(maxsize=None)
def _oracle(year: int) -> Oracle:
    return Oracle(read_raw(definitions_path(year)))


@pytest.mark.parametrize("year", [2025, 2026])
def test_indexed_rules_pick_the_row_a_scan_of_every_row_picks_under_each_rule_year(year):
    defs, oracle = rule_year(year).definitions, _oracle(year)

    @settings(max_examples=400, deadline=None)
    @given(case=_cases(defs))
    def check(case):
        _agrees_with_the_oracle(defs, oracle, case)

    check()


def test_indexed_rules_pick_the_row_a_scan_of_every_row_picks_with_the_official_2016_tables(norddrg):
    source = norddrg / "DefinitionData_NOR_2016_PR1cN.zip"
    defs, oracle = load_definitions(source), Oracle(read_raw(source))

    @settings(max_examples=300, deadline=None)
    @given(case=_cases(defs))
    def check(case):
        _agrees_with_the_oracle(defs, oracle, case)

    check()
    for g in read_golden(norddrg / "TestData.csv"):
        _agrees_with_the_oracle(defs, oracle, g.case)
