"""Shared paths and tools of the deployment checks (compose, Kubernetes, image context, lock files)."""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
K8S = ROOT / "deploy" / "k8s"
# The six services: every services/<name>/app.py is a faust worker.
SERVICES = sorted(p.parent.name for p in (ROOT / "services").glob("*/app.py"))


def load_make_secrets():
    spec = importlib.util.spec_from_file_location("make_secrets", ROOT / "deploy" / "compose" / "make_secrets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def docker_compose() -> str:
    found = os.environ.get("DOCKER_COMPOSE") or shutil.which("docker-compose")
    if not found or not Path(found).exists():
        pytest.skip("docker-compose 1.29 not installed (`make deps` installs Debian's docker-compose)")
    return found
