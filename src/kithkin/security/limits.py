"""The rate limits Kithkin applies to views, in one place so they can be read together."""

from __future__ import annotations

from kithkin.security.throttle import rate_limited

# File exports (PDFs, FHIR, GraphML/CSV, calendar files) per user: generous for real work
# (a clinician printing a caseload's summaries), but a script pulling records is stopped.
FILE_EXPORT_LIMIT = 30
FILE_EXPORT_WINDOW_SECONDS = 10 * 60

# Caseload searches per user.
SEARCH_LIMIT = 30
SEARCH_WINDOW_SECONDS = 60

file_export_limited = rate_limited(
    "export.file", limit=FILE_EXPORT_LIMIT, window_seconds=FILE_EXPORT_WINDOW_SECONDS
)
