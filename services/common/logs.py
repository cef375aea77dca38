"""Worker log lines on stdout: one JSON object per line (ISF_LOG_FORMAT=json) or plain text, never
terminal escape codes (faust's default handler colours its output even into files), and one record is one
line: control characters in a message (a CR or LF in a requested path, say) are escaped in both formats, so
no input can start a line of its own."""

from __future__ import annotations

import json
import logging
import re
from datetime import datetime, timezone

ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def one_line(text: str) -> str:
    """`text` without terminal escape codes and with every other control character escaped (`\\n`, `\\x00`)."""
    return CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), ESCAPES.sub("", text))


class JsonFormatter(logging.Formatter):
    """time, level, logger, message, service (and the exception, if any) as one JSON line."""

    def __init__(self, service: str = "") -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        doc = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": one_line(record.getMessage()),
            "service": self.service,
        }
        if record.exc_info:
            doc["exception"] = ESCAPES.sub("", self.formatException(record.exc_info))
        return json.dumps(doc, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    """`[time] [service] [level] logger: message` on one line; a traceback follows on lines that begin `| `."""

    def __init__(self, service: str = "") -> None:
        super().__init__(f"[%(asctime)s] [{service}] [%(levelname)s] %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        record.message = one_line(record.getMessage())
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        line = self.formatMessage(record)
        extra = []
        if record.exc_info:
            extra.append(self.formatException(record.exc_info))
        if record.stack_info:
            extra.append(self.formatStack(record.stack_info))
        return line + "".join(f"\n| {one_line(x)}" for text in extra for x in text.splitlines())


def logging_config(service: str, fmt: str) -> dict:
    """A dictConfig for faust's worker (replaces its coloured handler)."""
    formatter = JsonFormatter if fmt == "json" else TextFormatter
    return {
        "merge": True,  # keeps the level given on the command line (`worker -l warn`)
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"isf": {"()": f"{__name__}.{formatter.__name__}", "service": service}},
        "handlers": {"stdout": {"class": "logging.StreamHandler", "stream": "ext://sys.stdout", "formatter": "isf"}},
        "root": {"handlers": ["stdout"]},
        "loggers": {"isf.access": {"level": "INFO"}},  # the monitor's access log, whatever the worker's level
    }


def quiet_worker():
    """faust's Worker without its start-up spinner, which writes cursor escape codes to stdout even when
    stdout is a file; readiness is then logged ("Ready") instead."""
    import faust

    class Worker(faust.Worker):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.spinner = None

    return Worker


def banner_as_a_log_line() -> None:
    """faust prints a boxed banner to stdout when a worker starts; in JSON mode it would be the one
    stdout line that is not JSON, so it becomes a log record."""
    from faust.cli import worker as cli

    def on_worker_created(self, worker) -> None:
        logging.getLogger("faust.worker").info(
            "worker starting: %s",
            dict((str(k).strip(), str(v).strip()) for k, v in self._banner_data(worker) if str(k).strip()),
        )

    setattr(cli.worker, "on_worker_created", on_worker_created)  # noqa: B010 (replacing a method)
