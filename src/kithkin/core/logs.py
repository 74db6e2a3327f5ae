"""Log records leave the process without client data (issue 7: no client data in logs).

Kithkin's own log lines carry opaque ids only. Two things outside its control could carry more,
and this filter, on every configured handler, stops both:

- exception messages: an error raised while handling a client's record may quote her data
  (``KeyError('Maya')``, a database error echoing a value). Tracebacks are kept, for their files,
  lines and functions, but the messages are withheld;
- debug records of the template engine (the whole context of a failed variable lookup) and of
  the database backend (every query with its parameters), which no level setting should unlock.
"""

from __future__ import annotations

import logging
import traceback
from types import TracebackType

WITHHELD = "(message withheld: it may hold client data)"
# Loggers whose records below INFO include data by design.
QUIET_BELOW_INFO = ("django.template", "django.db.backends")

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


class KeepClientDataOut(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.INFO and record.name.startswith(QUIET_BELOW_INFO):
            return False
        if record.exc_info and record.exc_info[1] is not None:
            record.exc_text = redacted_traceback(record.exc_info[1])
        return True


def redacted_traceback(error: BaseException) -> str:
    """The traceback of ``error`` and of the errors it was raised from, frames only."""
    chain: list[BaseException] = []
    current: BaseException | None = error
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    lines: list[str] = []
    for index, link in enumerate(reversed(chain)):
        if index:
            lines.append("During handling of the above exception, another exception occurred:")
        lines.append("Traceback (most recent call last):")
        for frame in traceback.extract_tb(link.__traceback__):
            lines.append(f'  File "{frame.filename}", line {frame.lineno}, in {frame.name}')
        kind = type(link)
        lines.append(f"{kind.__module__}.{kind.__qualname__} {WITHHELD}")
    return "\n".join(lines)
