"""Enumerate every URL pattern the project resolves and judge whether a response refuses.

Kept apart from the test module so the judging functions can themselves be tested: a check that
cannot fail proves nothing.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpResponseBase
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

# "<uuid:client_id>" or "<client_id>" in a route; "(?P<client_id>...)" in a regex.
_ROUTE_KWARG = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>\w+)>")
_REGEX_KWARG = re.compile(r"\(\?P<(?P<name>\w+)>")


@dataclass(frozen=True)
class Route:
    """One resolvable pattern, with its full route string from the root URLconf."""

    route: str
    name: str
    kwargs: tuple[str, ...]
    is_regex: bool
    default_kwargs: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        return f"/{self.route}" + (f" (name {self.name!r})" if self.name else " (unnamed)")

    def url(self, kwargs: Mapping[str, Any]) -> str:
        """The path for these kwargs; reversing by name when there is one, as Django would."""
        if self.name:
            try:
                return reverse(self.name, kwargs=dict(kwargs))
            except NoReverseMatch:
                pass
        if self.is_regex:
            raise ValueError(f"{self}: give this regex pattern a name so the walk can reverse it")

        def substitute(match: re.Match[str]) -> str:
            return str(kwargs[match.group("name")])

        return "/" + _ROUTE_KWARG.sub(substitute, self.route)


def _kwarg_names(pattern_text: str) -> list[str]:
    names = [m.group("name") for m in _ROUTE_KWARG.finditer(pattern_text)]
    names += [m.group("name") for m in _REGEX_KWARG.finditer(pattern_text)]
    return names


def walk(
    patterns: Iterable[URLPattern | URLResolver] | None = None,
    prefix: str = "",
    namespace: str = "",
    is_regex: bool = False,
) -> Iterator[Route]:
    """Every URLPattern reachable from ``patterns`` (the root URLconf by default), includes too."""
    if patterns is None:
        patterns = get_resolver().url_patterns
    for entry in patterns:
        text = str(entry.pattern)
        regex = is_regex or type(entry.pattern).__name__ == "RegexPattern"
        if regex:
            text = text.lstrip("^").removesuffix("$") if prefix or text.startswith("^") else text
        if isinstance(entry, URLResolver):
            inner = namespace
            if entry.namespace:
                inner = f"{namespace}:{entry.namespace}" if namespace else entry.namespace
            yield from walk(entry.url_patterns, prefix + text, inner, regex)
            continue
        full = prefix + text
        name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
        yield Route(
            route=full,
            name=name,
            kwargs=tuple(dict.fromkeys(_kwarg_names(full))),
            is_regex=regex,
            default_kwargs=tuple(sorted(entry.default_args.items())),
        )


def fill(route: Route, registry: Mapping[str, Callable[[], Any]]) -> tuple[dict[str, Any], str]:
    """The kwargs for ``route`` from ``registry``, or an explanation of what is missing."""
    missing = [name for name in route.kwargs if name not in registry]
    if missing:
        return {}, (
            f"{route}: the URL walk cannot fill {', '.join(missing)}. Add an entry for each to "
            "KWARGS in tests/security/test_it_refuses_every_url_to_strangers.py, mapping the name "
            "to an object that belongs to client A, so the walk can prove strangers are refused."
        )
    return {name: registry[name]() for name in route.kwargs}, ""


def login_path() -> str:
    return str(resolve_url(settings.LOGIN_URL))


def is_login_redirect(response: HttpResponseBase) -> bool:
    if response.status_code not in (301, 302, 303, 307, 308):
        return False
    return urlsplit(response["Location"]).path == login_path()


def refusal_problem(response: HttpResponseBase, canaries: Iterable[str] = ()) -> str:
    """Empty when ``response`` refuses (login redirect, 403, 404, or 405 before any view code
    ran) and leaks none of the canaries; otherwise what is wrong with it."""
    status = response.status_code
    refused = status in (403, 404, 405) or is_login_redirect(response)
    if not refused:
        where = f" to {response['Location']}" if response.has_header("Location") else ""
        return f"answered {status}{where} instead of refusing"
    leaked = leaks(response, canaries)
    if leaked:
        return f"refused with {status} but its page shows {leaked}"
    return ""


def leaks(response: HttpResponseBase, canaries: Iterable[str]) -> list[str]:
    if getattr(response, "streaming", False):
        return []  # no streaming views exist; a file download would need its own check
    body = response.content.decode("utf-8", "replace")  # type: ignore[attr-defined]
    return [canary for canary in canaries if canary in body]
