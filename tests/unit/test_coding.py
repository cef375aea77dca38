"""Coding feedback: error DRGs with their reasons, case mix and complication share per HF, and their drift."""

import random

from isf.coding import MIN_HISTORY, Month, document, drift, error_groups
from isf.periods.coding import coding_items
from isf.replay import Pipeline
from isf.stats import CodingStat, decode_stat, decode_total

from .helpers import KEY, episode, grouped, raw

STAY = {"care_level": "inpatient", "admitted_at": "2026-03-02T08:00:00", "discharged_at": "2026-03-04T09:00:00"}


def _doc(events: list[dict], year: int = 2026) -> dict:
    return document(list(Pipeline(KEY).run([raw(e) for e in events]).totals.rows()), year)


def test_an_hf_with_one_in_ten_unknown_main_conditions_has_an_error_drg_share_of_one_tenth():
    events = [
        episode(**STAY, hf="ous", patient_id=f"P{i}", main_condition="X999" if i % 10 == 0 else "J189")
        for i in range(60)
    ] + [episode(**STAY, hf="ahus", patient_id=f"Q{i}", main_condition="J189") for i in range(20)]
    doc = _doc(events)
    ous = doc["hf"]["ous"]
    assert ous["episodes"] == 60
    assert ous["error_drg"] == {"count": 6, "share": 0.1, "by_reason": {"9:X999": 6}, "by_month": {"2026-03": 6}}
    assert sorted(e["source"] for e in ous["error_episodes"]) == sorted(
        f"E:ous:{e['episode_id']}" for e in events if e["main_condition"] == "X999"
    )
    assert doc["hf"]["ahus"]["error_drg"]["count"] == 0
    assert doc["error_groups"]["470"]  # the definitions' own error group, with what its return code means


def test_a_corrected_episode_leaves_the_error_list_and_stays_one_episode():
    bad = episode(**STAY, main_condition="X999")
    fixed = {**bad, "event_id": "fix-1", "version": 2, "main_condition": "J189"}
    assert _doc([bad])["hf"]["ous"]["error_drg"]["count"] == 1
    after = _doc([bad, fixed])["hf"]["ous"]
    assert after["episodes"] == 1 and after["error_drg"]["count"] == 0 and after["error_episodes"] == []
    assert _doc([fixed, bad])["hf"]["ous"] == after  # the older version arriving late changes nothing


def test_an_or_procedure_unrelated_to_the_main_condition_names_the_procedure():
    g = grouped(**STAY, main_condition="J189", procedures=["ABC10"])
    assert g.rtc == "7" and g.drg in error_groups(2026)
    err = [d for d in coding_items(g) if "|err|" in d.stat]
    assert [decode_stat(d.stat).error[:2] for d in err] == [("7", "ABC10")]  # type: ignore[union-attr]


def test_a_secondary_condition_that_is_a_complication_sets_the_cc_level_and_counts_in_the_cc_share():
    with_cc = grouped(**STAY, main_condition="J189", secondary_conditions=["E870"])
    without = grouped(**STAY, main_condition="J189")
    assert (with_cc.cc, without.cc) == (1, 0) and with_cc.drg != without.drg
    doc = _doc(
        [
            episode(**STAY, patient_id="A", main_condition="J189", secondary_conditions=["E870"]),
            episode(**STAY, patient_id="B", main_condition="J189"),
        ]
    )["hf"]["ous"]
    assert doc["cc_share"] == {"2026-03": 0.5}
    assert doc["cmi"] == {"2026-03": float((with_cc.drg_points + without.drg_points) / 2)}
    assert doc["sectors"]["somatic"]["cmi"] == doc["cmi"]


def test_outside_isf_and_indirect_activity_is_no_drg_episode_of_the_coding_feedback():
    assert coding_items(grouped(**STAY, debtor="22")) == []
    assert coding_items(grouped(care_level="indirect", procedures=["KAS10"])) == []


def test_a_coding_stat_keeps_a_source_id_that_contains_bars():
    st = CodingStat(2026, "ous", "somatic", "err", "9|X999|E:ous:a|b|c")
    assert decode_stat(str(st)) == st and st.error == ("9", "X999", "E:ous:a|b|c")
    assert decode_total(f"{st}|2026-03") == (st, "2026-03")
    assert decode_stat("C|2026|ous|somatic|cc") == CodingStat(2026, "ous", "somatic", "cc")


# --- drift: months drawn at random, as a hospital's coding would vary from month to month ---

LOW, HIGH = 0.844, 1.327  # the points of DRG 625B and of 625A, its complication level


def _month(rng: random.Random, n: int, p_cc: float) -> Month:
    m = Month()
    for _ in range(n):
        cc = rng.random() < p_cc
        pts = int((HIGH if cc else LOW) * 1_000_000)
        m.n, m.points, m.sq, m.cc = m.n + 1, m.points + pts, m.sq + (pts * pts + 500_000) // 1_000_000, m.cc + cc
    return m


def _year(seed: int, shares: list[float], n: int = 300) -> dict[str, Month]:
    rng = random.Random(seed)
    return {f"2026-{i + 1:02d}": _month(rng, n, p) for i, p in enumerate(shares)}


def test_an_hf_whose_complication_coding_rises_from_one_tertial_to_the_next_is_flagged_in_those_months_only():
    for seed in range(5):
        signals = drift(_year(seed, [0.15] * 4 + [0.35] * 4))
        flagged = {s.month for s in signals if s.measure == "cc_share"}
        assert flagged == {"2026-05", "2026-06", "2026-07", "2026-08"}, seed
        assert {s.month for s in signals if s.measure == "cmi"} <= flagged  # complications carry more points
        s = next(s for s in signals if s.measure == "cc_share")
        assert s.band[0] < s.expected < s.band[1] < s.value


def test_a_steady_hf_is_not_flagged_over_a_year():
    for seed in range(5):
        assert drift(_year(seed, [0.2] * 12)) == [], seed


def test_no_signal_before_three_months_of_history_nor_in_a_month_too_small_to_judge():
    months = _year(1, [0.1] * MIN_HISTORY + [0.9])
    assert [s.month for s in drift(dict(list(months.items())[:MIN_HISTORY]))] == []
    assert {s.month for s in drift(months)} == {"2026-04"}
    months["2026-04"] = _month(random.Random(2), 10, 0.9)  # ten episodes: not judged
    assert drift(months) == []


def test_explain_names_the_rows_tried_the_complication_that_gave_the_cc_level_and_the_drg_without_it():
    from isf.grouping.explain import explain

    from .helpers import activity

    got = explain(activity(episode(**STAY, main_condition="J189", secondary_conditions=["E870"])), 2026)
    assert got["drg"] == "625A" and got["cc_level"] == 1 and got["cc_from"] == {"10C01": "E870"}
    assert [p["holds"] for p in got["logic_path"]] == [False] * (len(got["logic_path"]) - 1) + [True]
    assert all(p["failed"] for p in got["logic_path"][:-1]) and got["logic_path"][-1]["drg"] == "625A"
    assert got["other_cc_level"] == {"cc_level": 0, "drg": "625B", "weight": "0.844"}
    without = explain(activity(episode(**STAY, main_condition="J189")), 2026)
    assert without["drg"] == "625B" and without["other_cc_level"]["drg"] == "625A"


def test_the_csv_export_has_a_line_per_hf_and_month_and_lists_error_episodes_only_to_roles_that_see_them():
    from isf.access import Role, scope
    from isf.coding import table
    from isf.settlement.export import csv_of

    bad = episode(**STAY, patient_id="A", main_condition="X999")
    doc = _doc([bad, episode(**STAY, patient_id="B", main_condition="J189")])

    def csv_for(role: str) -> list[str]:
        return csv_of(table(scope(doc, "coding", Role.parse(role)))).lstrip("\ufeff").splitlines()

    own, region = csv_for("hf:ous"), csv_for("rhf:sor-ost")
    cmi = str(doc["hf"]["ous"]["cmi"]["2026-03"]).replace(".", ",")
    assert region == ["hf;month;episodes;error_drg;cmi;cc_share;drift", f"ous;2026-03;2;1;{cmi};0,0;"]
    assert own[:2] == region and own[-1] == f"ous;E:ous:{bad['episode_id']};2026-03;somatic;9;X999"
