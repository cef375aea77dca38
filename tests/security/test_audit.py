"""Known vulnerabilities in the installed dependencies (pip-audit), with any accepted ones listed and why."""

import json
import subprocess
import sys

import pytest

# vulnerability id -> why it is accepted; empty: none accepted
ACCEPTED: dict[str, str] = {}


def test_no_known_vulnerabilities_in_the_dependencies():
    proc = subprocess.run(
        [sys.executable, "-m", "pip_audit", "--progress-spinner", "off", "-l", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.skip(f"pip-audit gave no report (vulnerability service unreachable?): {proc.stderr.strip()[-300:]}")
    deps = report.get("dependencies", [])
    audited = [d for d in deps if "skip_reason" not in d]
    if not audited:
        pytest.skip(
            "pip-audit could audit none of the %d dependencies here (this machine's package index has no "
            "vulnerability data): %s" % (len(deps), deps[0]["skip_reason"] if deps else "no dependencies")
        )
    found = {(d["name"], v["id"]) for d in audited for v in d.get("vulns", [])}
    assert {f for f in found if f[1] not in ACCEPTED} == set()
