"""`make secrets`: random secrets in a private folder, readable by the containers, never overwritten."""

from __future__ import annotations

import json
import stat

from isf.access import parse_tokens

from .conftest import load_make_secrets


def test_make_secrets_writes_the_three_secrets_private_folder_readable_files(tmp_path):
    folder = tmp_path / "secrets"
    written = load_make_secrets().write_secrets(folder)
    assert sorted(p.name for p in written) == ["isf_monitor_tokens.json", "isf_pseudonym_key", "redis_password"]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o644 for p in written)
    assert len((folder / "isf_pseudonym_key").read_text().strip()) >= 64
    assert len((folder / "redis_password").read_text().strip()) >= 32
    roles = parse_tokens((folder / "isf_monitor_tokens.json").read_text())  # what the monitor reads
    assert [str(r) for r in roles.values()] == ["national"]


def test_two_runs_give_different_secrets(tmp_path):
    make = load_make_secrets()
    make.write_secrets(tmp_path / "a")
    make.write_secrets(tmp_path / "b")
    for name in make.FILES:
        assert (tmp_path / "a" / name).read_text() != (tmp_path / "b" / name).read_text()


def test_an_existing_pseudonym_key_is_never_replaced(tmp_path):
    make = load_make_secrets()
    make.write_secrets(tmp_path)
    before = {name: (tmp_path / name).read_text() for name in make.FILES}
    (tmp_path / "redis_password").unlink()
    again = make.write_secrets(tmp_path)
    assert [p.name for p in again] == ["redis_password"]
    assert (tmp_path / "isf_pseudonym_key").read_text() == before["isf_pseudonym_key"]
    assert json.loads((tmp_path / "isf_monitor_tokens.json").read_text()) == json.loads(
        before["isf_monitor_tokens.json"]
    )
