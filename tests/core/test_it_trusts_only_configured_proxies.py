"""Behind a load balancer the client's address comes from X-Forwarded-For, but only when the
request came from a configured proxy: nobody else can choose the address the audit trail and
the per-address limits see."""

from __future__ import annotations

import re

import pytest
from django.test import Client as HttpClient
from django.test import override_settings

from kithkin.audit.models import AuditEvent
from kithkin.core.middleware import forwarded_client, trusted_networks
from tests.conftest import World

PROXIES = trusted_networks(["10.0.0.0/24", "192.0.2.7"])


def test_it_takes_the_first_untrusted_hop_from_the_right() -> None:
    assert forwarded_client("10.0.0.5", "203.0.113.9", PROXIES) == "203.0.113.9"
    # Two trusted hops (a CDN edge inside the range, then the balancer): walk past both.
    assert forwarded_client("10.0.0.5", "203.0.113.9, 192.0.2.7", PROXIES) == "203.0.113.9"
    # A client that sends its own header: the proxy appends the real address, which wins.
    assert forwarded_client("10.0.0.5", "1.2.3.4, 203.0.113.9", PROXIES) == "203.0.113.9"
    assert forwarded_client("10.0.0.5", "2001:db8::1", PROXIES) == "2001:db8::1"


def test_it_believes_nothing_from_anyone_else() -> None:
    # A stranger talking to the app server directly cannot choose its address.
    assert forwarded_client("198.51.100.3", "203.0.113.9", PROXIES) is None
    assert forwarded_client("10.0.0.5", "", PROXIES) is None
    assert forwarded_client("10.0.0.5", "not-an-address", PROXIES) is None
    assert forwarded_client("10.0.0.5", "10.0.0.6, 192.0.2.7", PROXIES) is None  # all ours
    assert forwarded_client("10.0.0.5", "203.0.113.9", ()) is None


def test_a_malformed_entry_is_named_at_start_up() -> None:
    with pytest.raises(ValueError, match=re.escape("'10.0.0.300'")):
        trusted_networks(["10.0.0.0/24", "10.0.0.300"])


@pytest.mark.django_db
@override_settings(TRUSTED_PROXIES=["10.0.0.0/24"])
def test_the_audit_trail_records_the_client_behind_the_proxy(world: World) -> None:
    http = HttpClient(REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="203.0.113.9")
    http.post(
        "/accounts/login/", {"username": world.stranger.email, "password": "not the password"}
    )
    # The stranger sends the header straight to the app server: its own address is kept.
    direct = HttpClient(REMOTE_ADDR="198.51.100.3", HTTP_X_FORWARDED_FOR="203.0.113.99")
    direct.post(
        "/accounts/login/", {"username": world.stranger.email, "password": "not the password"}
    )
    addresses = list(
        AuditEvent.objects.filter(action="login")
        .order_by("id")
        .values_list("ip_address", flat=True)
    )
    assert addresses == ["203.0.113.9", "198.51.100.3"]
