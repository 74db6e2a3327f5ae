"""Printing the map to PDF with WeasyPrint, from the same templates and stylesheets as the page.

Static files are read from disk (never fetched over the network), and WeasyPrint may not load any
URL at all, so a template cannot make the server reach out."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.staticfiles import finders
from django.http import HttpRequest
from django.template.loader import render_to_string

STYLESHEETS = ("kithkin/kithkin.css", "network/network.css")


def _no_fetch(url: str, *args: Any, **kwargs: Any) -> dict[str, Any]:
    raise ValueError("Kithkin's PDFs load nothing from URLs")


def render_pdf(template: str, context: dict[str, Any], *, request: HttpRequest | None) -> bytes:
    from weasyprint import CSS, HTML  # imported here: it is slow to import and only needed here

    html = render_to_string(template, context, request=request)
    sheets = []
    for name in STYLESHEETS:
        found = finders.find(name)
        if isinstance(found, str):
            sheets.append(CSS(string=Path(found).read_text(encoding="utf-8")))
    document: bytes = HTML(string=html, url_fetcher=_no_fetch).write_pdf(stylesheets=sheets)
    return document
