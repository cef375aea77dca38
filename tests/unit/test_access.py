"""Access denies by default: every monitor answer, built by the real API functions from a replayed feed,
shows each role only what a rule grants, and a field no rule names fails here."""

import copy
import json
from datetime import datetime, timezone

import pytest

from isf.access import GRANTS, Denied, Role, scope, uncovered
from isf.feed import Feed, FeedConfig
from isf.ingest import Rejected, parse
from isf.registry import RHFS, hospitals
from isf.replay import Pipeline
from isf.settlement.money import points_by_hf
from isf.settlement.statements import statement, statements
from isf.settlement.views import summary_view
from services.monitor import api
from services.monitor import coding as coding_api

from . import helpers

KEY = b"access-test-key"
REG = hospitals()
OWN = {r: sorted(hf for hf, h in REG.items() if h.rhf == r) for r in RHFS}
# an HF role per region: the largest producer in each, so every one has figures to leak
HF_ROLES = ["hf:ous", "hf:hbe", "hf:stolav", "hf:unn"]
ROLES = ["national", *(f"rhf:{r}" for r in RHFS), *HF_ROLES]


class MemoryRedis:
    """The few reads the monitor makes (hget, hgetall, lrange, pipelines of them), over dicts of bytes."""

    def __init__(self):
        self.hashes: dict[str, dict[bytes, bytes]] = {}
        self.lists: dict[str, list[bytes]] = {}

    def hset(self, key: str, field: str, value) -> None:
        self.hashes.setdefault(key, {})[field.encode()] = value if isinstance(value, bytes) else str(value).encode()

    def hget(self, key: str, field: str):
        return self.hashes.get(key, {}).get(field.encode())

    def hgetall(self, key: str) -> dict[bytes, bytes]:
        return dict(self.hashes.get(key, {}))

    def hscan_iter(self, key: str, match: str, count: int = 10):
        prefix = match.rstrip("*").encode()  # the monitor scans by prefix only
        return ((k, v) for k, v in self.hashes.get(key, {}).items() if k.startswith(prefix))

    def lrange(self, key: str, start: int, stop: int) -> list[bytes]:
        return self.lists.get(key, [])[start : stop + 1]

    def pipeline(self, transaction: bool = False) -> "MemoryRedis._Pipe":
        return self._Pipe(self)

    class _Pipe:
        def __init__(self, r):
            self.r, self.calls = r, []

        def __getattr__(self, name):
            return lambda *a: self.calls.append((name, a))

        def execute(self):
            return [getattr(self.r, name)(*a) for name, a in self.calls]


@pytest.fixture(scope="module")
def redis_state():
    """The Redis state the settlement and ingest services leave behind, from a replayed two-year feed."""
    raws = [
        raw for year in (2025, 2026) for _k, raw in Feed(FeedConfig(seed=year, year=year, invalid=0.02)).events(2500)
    ]  # own ids per year
    # episodes in an error DRG (an unknown main condition) in two regions, for the coding feedback
    raws += [
        helpers.raw(helpers.episode(hf=hf, patient_id=f"SYN-ERR-{i}", main_condition="X999"))
        for i, hf in enumerate(("ous", "ous", "unn"))
    ]
    pipe = Pipeline(KEY).run(raws)
    rows = list(pipe.totals.rows())
    r = MemoryRedis()
    view = summary_view(rows)
    for key, pts, cnt in rows:  # the settled totals the coding feedback reads
        r.hset("isf:{totals}:pts", key, pts)
        r.hset("isf:{totals}:cnt", key, cnt)
    r.hset("isf:{totals}:views", "summary", json.dumps({**view, "generated_at": 1.0}))
    for year in (2025, 2026):
        t1 = {**statement(rows, year, "t1"), "frozen_at": "2026-05-20T10:00:00Z"}
        for kind, doc in statements(rows, year, paid={"t1": t1}).items():
            r.hset("isf:{totals}:statements", f"{year}|{kind}", json.dumps(doc))
    hour = datetime.now(timezone.utc).strftime("%Y%m%d%H")
    for hf, micro in points_by_hf(rows).items():
        r.hset(f"isf:{{totals}}:ts:{hour}", hf, micro)
    for raw in raws:
        got = parse(raw, KEY)
        hf = got.hf or "none"
        counters = r.hashes.setdefault(f"isf:{{{hf}}}:counters", {})
        name = b"dead_lettered" if isinstance(got, Rejected) else b"accepted"
        counters[name] = str(int(counters.get(name, b"0")) + 1).encode()
        if isinstance(got, Rejected):
            r.lists.setdefault(f"isf:{{{hf}}}:errors", []).insert(0, json.dumps(got.errors).encode())
    for service in api.SERVICES:
        r.hset("isf:{stats}:beat", f"{service}:1", datetime.now(timezone.utc).timestamp())
    return r, view


def _answers(r, role: Role) -> list:
    """Every endpoint's JSON answer for one role, with the parameters the dashboard uses."""
    out = [
        api.me(role),
        api.counts(r, role),
        api.errors(r, role),
        api.Ops().doc(r, role),
        api.timeseries(r, role, "hour", 24),
        api.timeseries(r, role, "day", 7),
    ]
    for period in ("year", "tertial", "T1", "T3", "today"):
        out.append(api.summary(r, role, None, period))
    for year in ("2025", "2026"):
        out += [api.rbf(r, role, year, kind) for kind in ("provisional", "final")]
        kinds = ("t1", "t2", "final", "difference", "provisional")
        out += [api.statement(r, role, year, kind)[1] for kind in kinds]
        out.append(coding_api.coding(r, role, year)[1])
    out += [api.hf_detail(r, role, hf) for hf in role.hfs()]
    return out


@pytest.fixture(scope="module")
def documents(redis_state):
    """(document, kind) of every answer the API scoped, as it was before scoping, over every role."""
    r, _ = redis_state
    seen = []

    def recording(doc, kind, role):
        seen.append((copy.deepcopy(doc), kind))
        return scope(doc, kind, role)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(api, "scope", recording)
        mp.setattr(coding_api, "scope", recording)
        answers = {role: _answers(r, Role.parse(role)) for role in ROLES}
    return seen, answers


def _strings(doc) -> set[str]:
    """Every key and string value in a JSON document."""
    if isinstance(doc, dict):
        return set(doc) | {s for v in doc.values() for s in _strings(v)}
    if isinstance(doc, list):
        return {s for v in doc for s in _strings(v)}
    return {doc} if isinstance(doc, str) else set()


def test_every_field_of_every_answer_is_named_by_a_rule(documents, redis_state):
    seen, _ = documents
    assert {kind for _doc, kind in seen} == set(GRANTS) - {"view"}
    for doc, kind in seen:
        assert uncovered(doc, kind) == [], kind
    assert uncovered(redis_state[1], "view") == []


def test_a_field_no_rule_names_is_dropped_for_every_role_and_reported(documents):
    seen, _ = documents
    doc = copy.deepcopy(next(d for d, kind in seen if kind == "statement" and d["hf"]))
    hf = next(iter(doc["hf"]))
    doc["hf"][hf]["patients_seen"] = 12
    doc["rhf_by_age"] = {"vest": "1.0"}
    assert sorted(uncovered(doc, "statement")) == [f"hf.{hf}.patients_seen", "rhf_by_age"]
    for role in ROLES:
        shown = scope(doc, "statement", Role.parse(role))
        assert "rhf_by_age" not in shown and "patients_seen" not in json.dumps(shown)


def test_the_national_role_sees_every_document_whole(documents):
    seen, _ = documents
    national = Role("national")
    for doc, kind in seen:
        assert scope(doc, kind, national) == doc, kind


@pytest.mark.parametrize("rhf", RHFS)
def test_a_region_never_sees_another_regions_hf_codes_or_figures(documents, rhf):
    _, answers = documents
    text = _strings(answers[f"rhf:{rhf}"])
    foreign_hfs = {hf for hf, h in REG.items() if h.rhf != rhf}
    assert not text & foreign_hfs
    assert not text & (set(RHFS) - {rhf})  # no other region's RHF line, owner or residence
    assert "national" not in text
    seen_own = {hf for a in answers[f"rhf:{rhf}"] for hf in a.get("hf", {}) if isinstance(a.get("hf"), dict)}
    assert seen_own and seen_own <= set(OWN[rhf])


@pytest.mark.parametrize("role", HF_ROLES)
def test_an_hf_sees_only_itself_and_no_region_totals(documents, role):
    _, answers = documents
    me = role.split(":")[1]
    text = _strings(answers[role])
    assert not text & (set(REG) - {me})
    assert not text & (set(RHFS) - {REG[me].rhf})  # its owner appears only as its own `rhf` label
    for a in answers[role]:
        for regional in ("rhf", "rhf_sorge_for", "rbf_nok"):
            assert not isinstance(a.get(regional), dict) or a[regional] == {}, regional
        assert "national" not in a
    assert me in text


def test_an_hf_sees_its_own_episodes_in_error_drgs_by_source_id_a_region_only_the_rates_of_its_hfs(documents):
    _, answers = documents

    def coding(role: str) -> dict:
        return next(a for a in answers[role] if "error_groups" in a and a["year"] == 2026)

    national, own, region = coding("national"), coding("hf:ous"), coding("rhf:sor-ost")
    ous_errors = [e["source"] for e in national["hf"]["ous"]["error_episodes"]]
    assert len(ous_errors) == 2 and all(s.startswith("E:ous:") for s in ous_errors)
    assert set(own["hf"]) == {"ous"} and [e["source"] for e in own["hf"]["ous"]["error_episodes"]] == ous_errors
    assert own["hf"]["ous"]["error_drg"]["by_reason"] == {"9:X999": 2}
    assert set(region["hf"]) == set(OWN["sor-ost"]) & set(national["hf"])
    assert region["hf"]["ous"]["error_drg"]["count"] == 2 and region["hf"]["ous"]["cmi"]
    assert all("error_episodes" not in h for h in region["hf"].values())
    assert not _strings(region) & set(ous_errors)
    assert "unn" not in region["hf"] and coding("rhf:nord")["hf"]["unn"]["error_drg"]["count"] == 1


def test_residence_figures_follow_the_rhf_rule(documents):
    _, answers = documents
    statements = {
        role: [a for a in answers[role] if "periods" in a and "kind" in a or "rbf_nok" in a] for role in ROLES
    }
    assert (
        len(statements["national"]) == 10
    )  # t1, t2, final, difference and provisional (t1 by its other name), two years
    assert all(set(a["rhf_sorge_for"]) == set(RHFS) for a in statements["national"])
    for rhf in RHFS:
        assert all(set(a["rhf_sorge_for"]) == {rhf} for a in statements[f"rhf:{rhf}"])
    for role in HF_ROLES:
        assert all(a["rhf_sorge_for"] == {} for a in statements[role])


def test_a_document_about_an_hf_is_denied_whole_to_a_role_that_does_not_see_it(redis_state):
    r, _ = redis_state
    doc = api.hf_detail(r, Role("national"), "ous")
    for role in ("rhf:vest", "hf:ahus"):
        with pytest.raises(Denied):
            scope(doc, "hf", Role.parse(role))
        with pytest.raises(api.ApiError) as denied:
            api.hf_detail(r, Role.parse(role), "ous")
        assert denied.value.status == 403
    assert scope(doc, "hf", Role.parse("rhf:sor-ost"))["periods"] == doc["periods"]


def test_hf_code_lists_are_filtered_to_what_the_role_sees(documents):
    seen, _ = documents
    final = next(d for d, kind in seen if kind == "statement" and d["kind"] == "final")
    final = {**final, "nki_hfs": sorted(REG)}
    assert scope(final, "statement", Role.parse("rhf:nord"))["nki_hfs"] == OWN["nord"]
    assert scope(final, "statement", Role.parse("hf:unn"))["nki_hfs"] == ["unn"]
    assert api.me(Role.parse("rhf:nord")) == {"role": "rhf:nord", "hfs": OWN["nord"], "rhfs": ["nord"]}


def test_a_map_where_a_rule_grants_a_value_or_a_key_beside_hf_codes_is_dropped_for_every_role_and_reported(documents):
    seen, _ = documents
    doc = copy.deepcopy(next(d for d, kind in seen if kind == "statement" and d["hf"]))
    hf = next(iter(doc["hf"]))
    leaf = next(k for k, v in doc["hf"][hf].items() if isinstance(v, str))
    doc["hf"][hf][leaf] = {"hidden_detail": "1"}
    doc["hf"]["all_hfs"] = "1"  # beside the HF codes and region names: neither an HF nor a region
    doc["rhf"]["all_regions"] = "1"
    assert sorted(uncovered(doc, "statement")) == sorted([f"hf.{hf}.{leaf}", "hf.all_hfs", "rhf.all_regions"])
    for role in ROLES:
        shown = json.dumps(scope(doc, "statement", Role.parse(role)))
        assert "hidden_detail" not in shown and "all_hfs" not in shown and "all_regions" not in shown
