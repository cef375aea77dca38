"""Redistribution effects the directorate's way (seed 000): grouped once, priced with both years' weights, no TFG."""

import json
from decimal import Decimal

from isf.feed import Feed, FeedConfig
from isf.registry import RHFS, hospitals
from isf.replay import Pipeline
from isf.rules import rule_year
from isf.settlement.redistribution import compare, replay

from .helpers import KEY, episode, raw


def _feed(n=2500, seed=41, **changes):
    out = []
    for _k, line in Feed(FeedConfig(seed=seed)).events(n):
        try:
            ev = json.loads(line)
        except ValueError:
            out.append(line)  # the feed's invalid input stays invalid
            continue
        out.append(json.dumps({**ev, **changes}).encode() if isinstance(ev, dict) else line)
    return out


def _dialysis_month():
    """Three dialysis sessions of one patient in one month: DRG 317O, a member of TFG MT01 (monthly) in both years."""
    return [
        raw(
            episode(
                patient_id="SYN-dialysis",
                main_condition="N185",
                procedures=["KAS00"],
                admitted_at=f"2026-03-{d:02d}T08:00:00",
                discharged_at=f"2026-03-{d:02d}T12:00:00",
            )
        )
        for d in (2, 9, 16)
    ]


def test_without_tfg_the_members_of_a_tfg_are_priced_as_themselves_with_each_years_weight():
    events = _dialysis_month()
    for y in (2025, 2026):
        assert rule_year(y).tfg_of_member[("DRG", "317O")].tfg == "MT01"
    out = compare(replay(events, KEY, 2025, 2026), 2025, 2026, budget_neutral=False)
    line = out["hf"]["ous"]["somatic"]
    assert Decimal(line["before"]) == 3 * rule_year(2025).weights["317O"].weight
    assert Decimal(line["after"]) == 3 * rule_year(2026).weights["317O"].weight
    assert out["mode"] == "weights_only" and out["tfg"] is False and out["point_supplements"] is False
    # settled under the year's full rules, the same month is one TFG patient-period instead
    full = compare(replay(events, KEY, 2025, 2026, regroup=True), 2025, 2026, mode="regroup", budget_neutral=False)
    assert Decimal(full["hf"]["ous"]["somatic"]["after"]) == rule_year(2026).tfgs["MT01"].weight
    assert full["mode"] == "regroup" and full["tfg"] is True


def test_by_default_the_national_change_is_exactly_zero_per_sector_while_hfs_and_regions_still_move():
    """Seed 000: "Nytt vektsett er kalibrert for å sikre budsjettnøytralitet"; TOTALT ... 0 0,00 % per sector."""
    rows = replay(_feed(), KEY, 2025, 2026)
    raw_, neutral = compare(rows, 2025, 2026, budget_neutral=False), compare(rows, 2025, 2026)
    assert neutral["budget_neutral"] is True and raw_["budget_neutral"] is False and raw_["scale"] is None
    assert set(neutral["national"]) == {"somatic", "phv_tsb"}
    assert all(Decimal(v["change"]) for v in raw_["national"].values())  # the raw weights do move the nation
    for group, line in neutral["national"].items():
        assert Decimal(line["change"]) == 0 and line["change_pct"] == "0.00", group
        assert Decimal(line["after"]) == Decimal(line["before"]) == Decimal(raw_["national"][group]["before"])
        assert Decimal(neutral["scale"][group]) == Decimal(line["before"]) / Decimal(raw_["national"][group]["after"])
        hf_after = sum(Decimal(v[group]["after"]) for v in neutral["hf"].values() if group in v)
        assert hf_after == Decimal(line["after"])
        # shares between HFs and regions still move: some gain and some lose against a zero national change
        hf_changes = [Decimal(v[group]["change"]) for v in neutral["hf"].values() if group in v]
        assert min(hf_changes) < 0 < max(hf_changes), group
        rhf_changes = [Decimal(v[group]["change"]) for v in neutral["rhf_sorge_for"].values() if group in v]
        assert min(rhf_changes) < 0 < max(rhf_changes), group


def test_the_residence_view_puts_all_points_in_the_residents_region_when_every_patient_lives_in_one_region():
    events = _feed(patient_municipality="4601")  # Bergen, in Helse Vest
    out = compare(replay(events, KEY, 2025, 2026), 2025, 2026)
    assert set(out["rhf_sorge_for"]) == {"vest"}
    assert out["rhf_sorge_for"]["vest"] == out["national"]
    assert len(out["rhf"]) > 1  # by the producing HF's owner the same points are spread over the regions


def test_every_line_is_before_after_change_and_percent_and_regions_sum_their_hfs():
    out = compare(replay(_feed(1500, seed=42), KEY, 2025, 2026), 2025, 2026)
    for level in ("hf", "rhf", "rhf_sorge_for"):
        for lines in out[level].values():
            for line in lines.values():
                b, a = Decimal(line["before"]), Decimal(line["after"])
                assert a - b == Decimal(line["change"])
                assert line["change_pct"] is None or Decimal(line["change_pct"]) == ((a - b) / b * 100).quantize(
                    Decimal("0.01")
                )
    for r in RHFS:
        for group, line in out["rhf"].get(r, {}).items():
            assert Decimal(line["after"]) == sum(
                Decimal(v[group]["after"]) for hf, v in out["hf"].items() if hospitals()[hf].rhf == r and group in v
            )


def test_weights_only_groups_with_the_old_logic_and_so_settles_what_the_old_year_settles_before_tfg():
    events = _feed(1500, seed=43)
    out = compare(replay(events, KEY, 2025, 2026), 2025, 2026)
    old = list(Pipeline(KEY, rule_year=2025).run(events).totals.rows())
    # the old year's own settlement without its point supplements, with the points its TFGs took from their
    # members given back to them
    earned = sum(p for k, p, _c in old if k.startswith("P|2025|") and "|TFG|" not in k and "|SUPP|" not in k)
    moved = sum(p for k, p, _c in old if k.startswith("S|2025|"))
    assert sum(Decimal(v["before"]) for v in out["national"].values()) == Decimal(earned + moved) / 1_000_000


def test_the_cli_prints_a_zero_national_change_by_default_and_the_raw_change_on_request(tmp_path, capsys):
    from services.cli import main

    f = tmp_path / "ev.jsonl"
    f.write_bytes(b"\n".join(_feed(600, seed=44)) + b"\n")
    assert main(["redistribute", "--from", "2025", "--to", "2026", str(f)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mode"] == "weights_only" and out["budget_neutral"] and out["grouping_logic"] == 2025
    assert {g: v["change_pct"] for g, v in out["national"].items()} == {g: "0.00" for g in out["national"]}
    assert set(out["scale"]) == set(out["national"])
    assert main(["redistribute", "--no-budget-neutral", str(f)]) == 0
    raw_ = json.loads(capsys.readouterr().out)
    assert raw_["budget_neutral"] is False and raw_["scale"] is None
    assert {g: v["before"] for g, v in raw_["national"].items()} == {g: v["before"] for g, v in out["national"].items()}
    assert any(v["change_pct"] != "0.00" for v in raw_["national"].values())
    assert main(["redistribute", "--regroup", str(f)]) == 0
    assert json.loads(capsys.readouterr().out)["mode"] == "regroup"
