"""JSON log lines: one object per line with the time, level, logger, message and the
request id of the request being served (a context variable set by the API's
middleware), plus any ``extra=`` fields.

No secret reaches a line: the code never logs a voucher code, PIN, token or password
(STYLE rule 13), and as a second net every message and field passes ``redact``, which
blanks long digit runs (codes, PINs, account numbers), grouped codes such as
1234-5678-9012-3456, bearer tokens and ``password=``/``pin=``/``token=``/``secret=`` pairs.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "giftcash_request_id", default=None
)

REDACTED = "[redacted]"
_PATTERNS = (
    # key=value or "key": "value" pairs that name a secret
    (
        re.compile(
            r"(?i)\b(password|passwd|pin|token|secret|totp|authorization|access_token)"
            r"(\"?\s*[:=]\s*\"?)([^\s\",;&]+)"
        ),
        lambda m: f"{m.group(1)}{m.group(2)}{REDACTED}",
    ),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/=-]+"), lambda m: f"Bearer {REDACTED}"),
    # grouped voucher codes: 4-4-4-4, 4-4-4-6 and the like
    (re.compile(r"\b\d{4}(?:[- ]\d{4}){2,}(?:\d{2})?\b"), lambda m: REDACTED),
    # long digit runs: codes, PINs with issue dates, account numbers
    (re.compile(r"\b\d{12,}\b"), lambda m: REDACTED),
)
# Record attributes that are not ``extra=`` fields.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, int | float | bool) or value is None:
        return value
    return redact(str(value))


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        request_id = getattr(record, "request_id", None) or request_id_var.get()
        if request_id:
            line["request_id"] = request_id
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in line and not key.startswith("_"):
                line[key] = _clean(value)
        if record.exc_info:
            # the exception's type and where, not its message: messages can carry input
            exc_type = record.exc_info[0]
            line["exc_type"] = exc_type.__name__ if exc_type else None
            line["exc"] = redact(self.formatException(record.exc_info))
        return json.dumps(line, ensure_ascii=False, default=str)


def configure_logging(level: str = "INFO", *, json_lines: bool = True) -> None:
    """Route every logger (uvicorn's too) to stderr, as JSON lines by default."""
    handler = logging.StreamHandler(sys.stderr)
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        lg = logging.getLogger(name)
        lg.handlers.clear()
        lg.propagate = True
