"""Bad arguments to an `isf` command get one clear line and exit code 2, never a traceback."""

import pytest


def test_isf_commands_refuse_a_count_below_one_and_name_a_missing_file_in_one_line(tmp_path, capsys):
    from services.cli import main

    with pytest.raises(SystemExit) as refused:
        main(["feed", "--count", "-3", "--out", str(tmp_path / "feed.jsonl")])
    assert refused.value.code == 2 and "--count: must be at least 1, got -3" in capsys.readouterr().err
    assert not (tmp_path / "feed.jsonl").exists()
    missing = tmp_path / "none.jsonl"
    assert main(["replay", "--workers", "1", str(missing)]) == 2
    assert capsys.readouterr().err == f"isf replay: No such file or directory: {missing}\n"
    assert main(["feed", "--count", "5", "--out", str(tmp_path / "no" / "feed.jsonl")]) == 2
    assert "isf feed: No such file or directory:" in capsys.readouterr().err
