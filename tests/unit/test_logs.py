"""One log record is one line in either format: a CR, LF or NUL in a logged value cannot forge a line."""

import json
import logging

import pytest

from services.common.logs import JsonFormatter, TextFormatter

FORGED = "/api/me\r\n[2026-01-01 00:00:00,000] [monitor] [INFO] isf.access: access role=national\x00\x1b[31m\u2028"


def record(msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord("isf.access", logging.INFO, __file__, 1, msg, args, exc_info)


@pytest.mark.parametrize("formatter", [TextFormatter("monitor"), JsonFormatter("monitor")])
def test_a_path_with_control_characters_stays_on_its_own_line_escaped(formatter):
    out = formatter.format(record("access role=%s resource=%s", "-", FORGED))
    assert out.count("\n") == 0 and "\r" not in out and "\x00" not in out and "\x1b" not in out
    message = json.loads(out)["message"] if isinstance(formatter, JsonFormatter) else out
    assert "\\r\\n[2026-01-01" in message and "\\x00" in message and "\\u2028" in message


def test_a_traceback_in_the_text_format_is_marked_so_it_cannot_pass_for_a_record():
    try:
        raise ValueError("bad\n[2026-01-01 00:00:00,000] [monitor] [INFO] forged")
    except ValueError:
        import sys

        out = TextFormatter("monitor").format(record("failed", exc_info=sys.exc_info()))
    first, *rest = out.split("\n")
    assert first.endswith("isf.access: failed") and rest and all(line.startswith("| ") for line in rest)
