"""Logs: the logging configuration the HTTP server applies in the supervisor and every worker,
JSON lines for machines (``PACKYARD_LOG_FORMAT=json``), and the request id that ties an
application message to its request.

Imported by ``packyard serve``'s supervisor, which must stay lean: the standard library
only. The access log lives in web.observability.access; it shares ``timestamp`` and
``REQUEST_ID`` with this module so both kinds of line read alike.
"""

from __future__ import annotations

import contextvars
import json
import logging
import time
from typing import Any

# The id of the request being served, for application messages logged while serving it
# (a worker thread started by run_in_threadpool copies the context, so it sees it too).
REQUEST_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "packyard_request_id", default=None
)

LOG_FORMATS = ("text", "json")

_millisecond = -1
_millisecond_text = ""
_second = -1
_second_text = ""


def timestamp(now: float) -> str:
    """``now`` (a time.time()) as ISO 8601 UTC with milliseconds. The texts of the last
    millisecond and second are kept: under load many lines share them, and formatting a
    date costs more than the rest of an access-log line."""
    global _millisecond, _millisecond_text, _second, _second_text
    millisecond = int(now * 1000)
    if millisecond != _millisecond:
        second, fraction = divmod(millisecond, 1000)
        if second != _second:
            _second_text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            _second = second
        _millisecond_text = f"{_second_text}.{fraction:03d}Z"
        _millisecond = millisecond
    return _millisecond_text


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the request id when the
    message was logged while serving a request, and the exception's traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "time": timestamp(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = REQUEST_ID.get()
        if request_id is not None:
            document["request_id"] = request_id
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, ensure_ascii=False)


def logging_config(log_format: str, server: str = "uvicorn") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` for the HTTP server (``packyard serve --server``):
    the server's own messages and the application's (the root logger) on stderr, as text
    or JSON. The server's access logger is not used (web.observability.access writes the
    access log)."""
    if log_format == "json":
        formatter: dict[str, Any] = {"()": f"{__name__}.JsonFormatter"}
    else:
        formatter = {
            "()": "uvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": None,
        }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"default": formatter},
        "handlers": {
            "default": {
                "formatter": "default",
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
            },
        },
        "loggers": _SERVER_LOGGERS[server],
        "root": {"handlers": ["default"], "level": "INFO"},
    }


_SERVER_LOGGERS: dict[str, dict[str, Any]] = {
    "uvicorn": {
        "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "uvicorn.error": {"level": "INFO"},
        "uvicorn.access": {"level": "WARNING", "propagate": False},
    },
    # granian's Rust core logs as "_granian"; its access logger stays off (log_access).
    "granian": {
        "_granian": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "granian.access": {"level": "WARNING", "propagate": False},
    },
}
