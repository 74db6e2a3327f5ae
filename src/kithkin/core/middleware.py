from __future__ import annotations

import ipaddress
import zoneinfo
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

Handler = Callable[[HttpRequest], HttpResponseBase]


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_networks(entries: list[str]) -> tuple[Network, ...]:
    """Parse ``KITHKIN_TRUSTED_PROXIES``: addresses or CIDR ranges. A bad entry is an error at
    start-up, naming it, rather than a proxy silently not trusted."""
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry.strip(), strict=False))
        except ValueError:
            raise ValueError(
                f"KITHKIN_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR range."
            ) from None
    return tuple(networks)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.strip())
    except ValueError:
        return None


def forwarded_client(
    remote_addr: str, forwarded_for: str, trusted: tuple[Network, ...]
) -> str | None:
    """The client's address, when the request came through trusted proxies: walk
    ``X-Forwarded-For`` from the right (the entry our own proxy added) past every trusted
    address. None when the peer is not a trusted proxy or the header holds nothing usable, so a
    client can never choose its own address by sending the header directly."""
    peer = _address(remote_addr)
    if peer is None or not any(peer in network for network in trusted):
        return None
    for entry in reversed(forwarded_for.split(",")):
        hop = _address(entry)
        if hop is None:
            return None
        if not any(hop in network for network in trusted):
            return str(hop)
    return None


class TrustedProxyMiddleware:
    """Behind a load balancer every request's REMOTE_ADDR is the balancer's. When it is one of
    ``KITHKIN_TRUSTED_PROXIES``, take the client's address from X-Forwarded-For instead, so the
    audit trail and per-address limits see the real one. With no trusted proxies (the
    default), the header is ignored."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response
        self.trusted = trusted_networks(list(settings.TRUSTED_PROXIES))

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if self.trusted:
            client = forwarded_client(
                request.META.get("REMOTE_ADDR", ""),
                request.META.get("HTTP_X_FORWARDED_FOR", ""),
                self.trusted,
            )
            if client is not None:
                request.META["REMOTE_ADDR"] = client
        return self.get_response(request)


class RequestSizeLimitMiddleware:
    """Refuse oversized requests up front, with a page that says so (413)."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.MAX_REQUEST_BYTES:
            limit_mb = settings.MAX_REQUEST_BYTES // (1024 * 1024)
            body = render_to_string(
                "core/error.html",
                {
                    "title": _("That was too large"),
                    "message": _(
                        "The request was larger than %(limit)s MB, so nothing was saved. "
                        "Please try a smaller file."
                    )
                    % {"limit": limit_mb},
                },
                request=None,
            )
            return HttpResponse(body, status=413)
        return self.get_response(request)


class UserTimezoneMiddleware:
    """Times are stored in UTC; each person sees them in their own time zone."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        name = getattr(request.user, "time_zone", None) or settings.DEFAULT_USER_TIME_ZONE
        try:
            timezone.activate(zoneinfo.ZoneInfo(name))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            timezone.activate(zoneinfo.ZoneInfo("UTC"))
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class NoStoreMiddleware:
    """Pages for signed-in people may show client data: no cache may keep them."""

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if request.user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
