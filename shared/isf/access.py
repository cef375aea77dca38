"""Who may see what: national sees all, an RHF its own HFs and its own RBF line, an HF itself.

Roles are written `national`, `rhf:<rhf>` or `hf:<hf>`; tokens map to roles in configuration
(`parse_tokens`). Nothing here knows about HTTP: the monitor turns `Denied` into 403.
"""
from __future__ import annotations

import hmac
import json
from dataclasses import dataclass

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
        return sorted(hf for hf in hospitals() if self.sees_hf(hf))

    def check_hf(self, hf: str) -> None:
        if hf not in hospitals():
            raise KeyError(f"unknown HF {hf!r}")
        if not self.sees_hf(hf):
            raise Denied(f"role {self} may not see HF {hf}")

    def check_rhf(self, rhf: str) -> None:
        if rhf not in RHFS:
            raise KeyError(f"unknown RHF {rhf!r}")
        if not self.sees_rhf(rhf):
            raise Denied(f"role {self} may not see RHF {rhf}")


def parse_tokens(text: str) -> dict[str, Role]:
    """`token=role,token=role` or a JSON object {token: role}; every role is checked."""
    text = text.strip()
    if not text:
        return {}
    pairs = json.loads(text).items() if text.startswith("{") else (p.split("=", 1) for p in text.split(",") if p.strip())
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


def scope(doc: dict, role: Role) -> dict:
    """A copy of a view or statement with only what the role may see: `hf` maps filtered by HF,
    `rhf` maps and RBF lines by RHF; national totals only for the national role."""
    out = {}
    for k, v in doc.items():
        if k in ("hf", "counts", "indicators", "errors") and isinstance(v, dict):
            out[k] = {hf: x for hf, x in v.items() if role.sees_hf(hf)}
        elif k in ("rhf", "rbf_nok") and isinstance(v, dict):
            out[k] = {r: x for r, x in v.items() if role.sees_rhf(r)}
        elif k == "rbf" and isinstance(v, dict):
            out[k] = {**v, "rhf": {r: x for r, x in v.get("rhf", {}).items() if role.sees_rhf(r)},
                      "achievements": {r: x for r, x in v.get("achievements", {}).items() if role.sees_rhf(r)}}
        elif k == "national":
            if role.kind == "national":
                out[k] = v
        elif isinstance(v, dict) and k not in ("targets",):
            out[k] = scope(v, role)
        else:
            out[k] = v
    return out
