"""Who may see what: national sees all, an RHF its own HFs and its own RBF line, an HF itself.

Roles are written `national`, `rhf:<rhf>` or `hf:<hf>`; tokens map to roles in configuration
(`parse_tokens`). Every document the monitor serves is copied through `scope`, which denies by
default: `GRANTS` describes each document kind's shape path by path, and a field no path names
is dropped (and `uncovered` names it, so a test fails when a document grows a field without a rule).
Nothing here knows about HTTP: the monitor turns `Denied` into 403.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from typing import Any

from .registry import RHFS, hospitals


class Denied(Exception):
    """A resource outside the role's scope."""


@dataclass(frozen=True)
class Role:
    kind: str  # national | rhf | hf
    name: str = ""

    @classmethod
    def parse(cls, text: str) -> "Role":
        kind, _, name = text.strip().partition(":")
        if kind == "national" and not name:
            return cls("national")
        if kind == "rhf" and name in RHFS:
            return cls("rhf", name)
        if kind == "hf" and name in hospitals():
            return cls("hf", name)
        raise ValueError(f"unknown role {text!r}: expected national, rhf:<{'|'.join(RHFS)}> or hf:<hf code>")

    def __str__(self) -> str:
        return self.kind if self.kind == "national" else f"{self.kind}:{self.name}"

    def sees_hf(self, hf: str) -> bool:
        if self.kind == "national":
            return True
        if self.kind == "rhf":
            h = hospitals().get(hf)
            return h is not None and h.rhf == self.name
        return hf == self.name

    def sees_rhf(self, rhf: str) -> bool:
        """RHF-level figures (sums, RBF line): national, or the RHF itself. An HF sees no RHF totals."""
        return self.kind == "national" or (self.kind == "rhf" and rhf == self.name)

    def hfs(self) -> list[str]:
        """The HFs the role sees, with one read of the registry."""
        return sorted(
            hf
            for hf, h in hospitals().items()
            if self.kind == "national"
            or (self.kind == "rhf" and h.rhf == self.name)
            or (self.kind == "hf" and hf == self.name)
        )

    def check_hf(self, hf: str) -> None:
        if hf not in hospitals():
            raise KeyError("unknown HF")  # the code is input: never echoed
        if not self.sees_hf(hf):
            raise Denied(f"role {self} may not see HF {hf}")

    def check_rhf(self, rhf: str) -> None:
        if rhf not in RHFS:
            raise KeyError("unknown RHF")
        if not self.sees_rhf(rhf):
            raise Denied(f"role {self} may not see RHF {rhf}")


def parse_tokens(text: str) -> dict[str, Role]:
    """`token=role,token=role` or a JSON object {token: role}; every role is checked."""
    text = text.strip()
    if not text:
        return {}
    pairs = (
        json.loads(text).items() if text.startswith("{") else (p.split("=", 1) for p in text.split(",") if p.strip())
    )
    out = {}
    for token, role in pairs:
        token = token.strip()
        if len(token) < 16:
            raise ValueError("monitor tokens must be at least 16 characters")
        out[token] = Role.parse(role)
    return out


def role_of(tokens: dict[str, Role], presented: str | None) -> Role | None:
    """The role of a presented token, compared in constant time; None if unknown or missing."""
    if not presented:
        return None
    found = None
    for token, role in tokens.items():
        if hmac.compare_digest(token.encode(), presented.encode()):
            found = role
    return found


# What a path grants. Segments of a path: a literal key; `<hf>` a key that is an HF code (kept if the
# role sees that HF); `<rhf>` a key that is an RHF id (kept if the role sees that RHF's figures);
# `*` any key (a year, period, indicator, system|sector). A path ends at a value without maps in it; a list of
# maps is copied map by map under the same rule (its elements add no segment to the path).
PUBLIC = "public"  # every role
NATIONAL = "national"  # the national role only
HF_CODES = "hf codes"  # a list of HF codes, filtered to those the role sees
RHF_CODES = "rhf codes"  # a list of RHF ids, filtered to those the role sees
SUBJECT_HF = "subject hf"  # the HF the whole document is about: a role that does not see it is denied
OWN_RECORDS = "own records"  # an HF's own records (its source ids): the HF itself and national, never a region

_TOTAL = ("points.*", "points_total", "nok")  # one period or statement line: points by system|sector, sum, NOK
_REGIONS = ("rhf", "rhf_sorge_for")  # RHF figures by the producing HF's owner, and by the patients' residence


def _at(prefix: str, fields: tuple[str, ...], grant: str = PUBLIC) -> dict[str, str]:
    return {f"{prefix}.{f}": grant for f in fields}


def _regions(suffix: str, fields: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    return {k: v for r in _REGIONS for k, v in _at(f"{prefix}{r}.<rhf>{suffix}", fields).items()}


_WITH_LAST_YEAR = (*_TOTAL, *(f"same_period_last_year.{f}" for f in _TOTAL))
_RBF_LINE = ("nok", "normalised_points")

GRANTS: dict[str, dict[str, str]] = {
    # the settlement service's materialised view (isf.settlement.views.summary_view_of_sums)
    "view": {
        "generated_at": PUBLIC,
        **_at("years.*.hf.<hf>", ("rhf", *(f"periods.*.{f}" for f in _TOTAL))),
        **_regions(".periods.*", _TOTAL, prefix="years.*."),
        **_at("years.*.national.periods.*", _TOTAL, NATIONAL),
        "years.*.counts.<hf>.*.*": PUBLIC,
    },
    # /api/summary
    "summary": {
        "year": PUBLIC,
        "period": PUBLIC,
        "label": PUBLIC,
        "generated_at": PUBLIC,
        **_at("hf.<hf>", ("rhf", *_WITH_LAST_YEAR)),
        **_regions("", _WITH_LAST_YEAR),
        **_at("national", _WITH_LAST_YEAR, NATIONAL),
    },
    # /api/summary?period=today
    "today": {"period": PUBLIC, "label": PUBLIC, "unit": PUBLIC, "hf.<hf>.points_total": PUBLIC},
    # /api/hf/{hf}
    "hf": {
        "hf": SUBJECT_HF,
        "name": PUBLIC,
        "rhf": PUBLIC,
        "year": PUBLIC,
        **_at("periods.*", _TOTAL),
        "counts.*.*": PUBLIC,
        "events.*": PUBLIC,
        "latest_errors": PUBLIC,
    },
    # /api/counts
    "counts": {"year": PUBLIC, "unit": PUBLIC, "counts.<hf>.*.*": PUBLIC},
    # /api/timeseries
    "timeseries": {"resolution": PUBLIC, "buckets": PUBLIC, "unit": PUBLIC, "hf.<hf>": PUBLIC, "rhf.<rhf>": PUBLIC},
    # /api/rbf
    "rbf": {
        "year": PUBLIC,
        "kind": PUBLIC,
        "budget_year": PUBLIC,
        "npr_data": PUBLIC,
        "nki_year": PUBLIC,
        "params_year": PUBLIC,
        "budget_nok": PUBLIC,
        "targets.*": PUBLIC,
        "steps.*": PUBLIC,
        "nok_per_point": PUBLIC,
        **_at("rhf.<rhf>", (*_RBF_LINE, "indicators.*.achievement", "indicators.*.step", "indicators.*.points")),
    },
    # /api/statements/{year}/t1|t2|final (isf.settlement.statements.statements)
    "statement": {
        "year": PUBLIC,
        "kind": PUBLIC,
        "label": PUBLIC,
        "previous": PUBLIC,
        "schedule.*": PUBLIC,
        "periods": PUBLIC,
        "frozen_at": PUBLIC,
        "nki_hfs": HF_CODES,
        **_at("hf.<hf>", ("rhf", *_TOTAL)),
        **_regions("", _TOTAL),
        **_at("change.hf.<hf>", ("nok", "points_total")),
        **_regions("", ("nok", "points_total"), prefix="change."),
        **_at("indicators.<hf>.*", ("numerator", "denominator")),
        "rbf.achievements.<rhf>.*": PUBLIC,
        "rbf.targets.*": PUBLIC,
        **_at(
            "rbf",
            ("year", "kind", "budget_year", "npr_data", "nki_year", "params_year", "budget_nok", "nok_per_point"),
        ),
        "rbf.steps.*": PUBLIC,
        **_at(
            "rbf.rhf.<rhf>",
            (
                *_RBF_LINE,
                "raw_points",
                "indicators.*.step",
                "indicators.*.points",
                "base_grant_nok",
                "difference_to_base_grant_nok",
                "provisional_nok",
                "change_from_provisional_nok",
                "change_from_provisional_pct",
            ),
        ),
    },
    # /api/statements/{year}/difference (isf.settlement.statements.difference)
    "difference": {
        "year": PUBLIC,
        "kind": PUBLIC,
        "rbf_budget_year": PUBLIC,
        **_at("hf.<hf>", ("nok", "points_total")),
        **_regions("", ("nok",)),
        "rbf_nok.<rhf>": PUBLIC,
    },
    # /api/errors
    "errors": {
        **_at("hf.<hf>", ("dead_lettered", "latest")),
        **_at("unknown_hf", ("dead_lettered", "latest"), NATIONAL),
    },
    # /api/ops: services and their lag, nothing per HF or region
    "ops": {
        "services.*.events_per_s": PUBLIC,
        "services.*.workers_alive": PUBLIC,
        "services.*.consumer_lag": PUBLIC,
        "services.*.set_aside": PUBLIC,
        "sampled_at": PUBLIC,
    },
    # /api/coding (isf.coding.document)
    "coding": {
        "year": PUBLIC,
        "error_groups.*": PUBLIC,
        "return_codes.*": PUBLIC,
        **_at(
            "hf.<hf>",
            (
                "episodes",
                "episodes_by_month.*",
                *(f"error_drg.{f}" for f in ("count", "share", "by_reason.*", "by_month.*")),
                "cmi.*",
                "cc_share.*",
                *(f"sectors.*.{f}" for f in ("episodes", "cmi.*", "cc_share.*")),
                *(f"drift.{f}" for f in ("month", "measure", "value", "expected", "band")),
            ),
        ),
        **_at("hf.<hf>.error_episodes", ("source", "month", "sector", "rtc", "code"), OWN_RECORDS),
    },
    # /api/me
    "me": {"role": PUBLIC, "hfs": HF_CODES, "rhfs": RHF_CODES},
}


@dataclass
class _Node:
    children: dict[str, "_Node"]
    grant: str | None = None
    grants_below: frozenset[str] = frozenset()


def _trie(paths: dict[str, str]) -> _Node:
    root = _Node({})
    for path, grant in paths.items():
        node = root
        for seg in path.split("."):
            node = node.children.setdefault(seg, _Node({}))
        if node.children or node.grant is not None:
            raise ValueError(f"{path!r}: a path must end at a value and be named once")
        node.grant = grant

    def fill(node: _Node) -> frozenset[str]:
        node.grants_below = frozenset({node.grant} if node.grant else set()).union(
            *(fill(c) for c in node.children.values())
        )
        return node.grants_below

    fill(root)
    return root


_TRIES = {kind: _trie(paths) for kind, paths in GRANTS.items()}


@dataclass(frozen=True)
class _Sight:
    """What one role sees, computed once per document (the registry is read from disk)."""

    national: bool
    own_records: bool  # national or an HF role: sees the records (source ids) of the HFs it sees
    hfs: frozenset[str]
    rhfs: frozenset[str]
    known_hfs: frozenset[str]


def _sight(role: Role) -> _Sight:
    return _Sight(
        role.kind == "national",
        role.kind in ("national", "hf"),
        frozenset(role.hfs()),
        frozenset(r for r in RHFS if role.sees_rhf(r)),
        frozenset(hospitals()),
    )


def _child(node: _Node, key: str, sight: _Sight) -> tuple[_Node | None, bool]:
    """The rule node a key falls under, and whether the role may see that key."""
    if key in node.children:
        return node.children[key], True
    if "<hf>" in node.children and key in sight.known_hfs:
        return node.children["<hf>"], key in sight.hfs
    if "<rhf>" in node.children and key in RHFS:
        return node.children["<rhf>"], key in sight.rhfs
    if "*" in node.children:
        return node.children["*"], True
    return None, False


def _has_map(value: Any) -> bool:
    return isinstance(value, dict) or (isinstance(value, list) and any(_has_map(v) for v in value))


_LEFT_OUT = object()


def _copy(value: Any, node: _Node, sight: _Sight, role: Role, path: str, dropped: list[str]) -> Any:
    """What of `value` the role sees under `node`, or _LEFT_OUT; paths no rule names go to `dropped`."""
    if node.grant is not None:  # a value the rules end at
        codes = node.grant in (HF_CODES, RHF_CODES)
        if _has_map(value) or (codes and not isinstance(value, (list, type(None)))):
            dropped.append(path)
            return _LEFT_OUT
        if (node.grant == NATIONAL and not sight.national) or (node.grant == OWN_RECORDS and not sight.own_records):
            return _LEFT_OUT
        if value is None:
            return None
        if codes:
            return [c for c in value if c in (sight.hfs if node.grant == HF_CODES else sight.rhfs)]
        if node.grant == SUBJECT_HF and (not isinstance(value, str) or value not in sight.hfs):
            raise Denied(f"role {role} may not see HF {value}")
        return value
    if value is None:  # an absent section (no RBF yet, no last year) says nothing
        return None
    if isinstance(value, list) and all(isinstance(v, dict) for v in value):
        copied = [_copy(v, node, sight, role, path, dropped) for v in value]
        return [c for c in copied if c is not _LEFT_OUT and c]
    if not isinstance(value, dict):
        dropped.append(path)
        return _LEFT_OUT
    out = {}
    for key, v in value.items():
        child, visible = _child(node, key, sight)
        here = f"{path}.{key}" if path else key
        if child is None:
            dropped.append(here)
        elif (
            visible
            and (sight.national or child.grants_below != {NATIONAL})
            and (sight.own_records or child.grants_below != {OWN_RECORDS})
        ):
            got = _copy(v, child, sight, role, here, dropped)
            if got is not _LEFT_OUT:
                out[key] = got
    return out


def scope(doc: dict, kind: str, role: Role) -> dict:
    """A copy of a document of `kind` (a key of GRANTS) with only what the rules grant the role;
    a field no rule names is left out for every role."""
    out = _copy(doc, _TRIES[kind], _sight(role), role, "", [])
    return {} if out is _LEFT_OUT else out


def uncovered(doc: dict, kind: str) -> list[str]:
    """The paths of a document that no rule of its kind names: what `scope` drops even for the national role."""
    dropped: list[str] = []
    _copy(doc, _TRIES[kind], _sight(Role("national")), Role("national"), "", dropped)
    return dropped
