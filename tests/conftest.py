from pathlib import Path

import pytest

NORDDRG = Path(__file__).resolve().parent.parent.parent / "shared" / "norddrg"


@pytest.fixture(scope="session")
def norddrg() -> Path:
    if not (NORDDRG / "TestData.csv").exists():
        pytest.skip(f"reference NordDRG data not found at {NORDDRG}: conformance not run")
    return NORDDRG
