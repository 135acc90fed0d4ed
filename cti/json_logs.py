"""Logging setup: plain text for a terminal, or one JSON object per line for a log collector.

``CTI_LOG_FORMAT=json`` gives lines like
``{"ts": "2026-11-23T17:00:00.123+00:00", "level": "INFO", "logger": "cti.router",
"message": "...", "call_id": "1700000000.42"}``. ``call_id`` is there when the log call
passes it (``log.info(..., extra={"call_id": call_id})``); an exception adds ``exception``.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime

TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        call_id = getattr(record, "call_id", None)
        if call_id is not None:
            line["call_id"] = str(call_id)
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str, log_format: str) -> None:
    """Root logging for the process (``log_format``: ``text`` or ``json``)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter(TEXT_FORMAT))
    logging.basicConfig(level=level.upper(), handlers=[handler], force=True)
