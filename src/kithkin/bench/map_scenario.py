"""The "map" scenario: a client with a 150-person network (about 400 ties, 6 groups and 3,000
contacts over twelve weeks); the map page rendered for the care-team clinician, and the metrics
(``analyse``) alone, each timed over many runs."""

from __future__ import annotations

import gc
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

PEOPLE = 150
TIES = 400
GROUPS = 6
CONTACTS = 3000
RUNS = 50
QUICK_RUNS = 10
TARGET_MS = 100
SEED = 150


def _percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def _measure(label: str, action: Callable[[], Any], runs: int) -> dict[str, Any]:
    from django.db import connection

    action()  # warm caches (templates, URL resolver) before timing
    captured: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        captured.append(sql)
        return execute(sql, params, many, context)

    # An execute wrapper, unlike CaptureQueriesContext, survives the request closing and
    # reopening the connection.
    with connection.execute_wrapper(count):
        action()
    samples: list[float] = []
    for _run in range(runs):
        start = time.perf_counter()
        action()
        samples.append((time.perf_counter() - start) * 1000)
    return {
        "label": label,
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(_percentile(samples, 0.95), 2),
        "max_ms": round(max(samples), 2),
        "queries": len(captured),
    }


def build_network() -> tuple[Any, Any, dict[str, int]]:
    """A throwaway practice, a clinician, and a client with the benchmark network."""
    from django.db import transaction
    from django.utils import timezone

    from kithkin.accounts.models import CareTeamMember, Client, Membership, Practice, Role, User
    from kithkin.demo.networks import random_rows
    from kithkin.network.models import Channel, Contact

    rng = random.Random(SEED)  # noqa: S311 (repeatable data, not security)  # nosec B311
    now = timezone.now()
    tag = uuid.UUID(int=rng.getrandbits(128), version=4).hex[:8]
    with transaction.atomic():
        practice = Practice.objects.create(name=f"Benchmark practice {tag}")
        clinician = User.objects.create_user(
            email=f"bench-{tag}@bench.kithkin.test", password=None, display_name="Bench Clinician"
        )
        Membership.objects.create(user=clinician, practice=practice, role=Role.CLINICIAN)
        client = Client.objects.create(practice=practice, display_name="Bench Client")
        CareTeamMember.objects.create(client=client, user=clinician, is_lead=True)
        pairs = PEOPLE * (PEOPLE - 1) / 2
        rows = random_rows(
            rng, client, now, size=PEOPLE, user=clinician, tie_chance=TIES / pairs,
            group_count=GROUPS, contact_limit=0,
        )  # fmt: skip
        channels = [c for c, _label in Channel.choices]
        rows.contacts = [
            Contact(
                client=client,
                person=rng.choice(rows.people),
                channel=rng.choice(channels),
                occurred_at=now - timedelta(minutes=rng.randint(0, 84 * 24 * 60)),
                felt_seen=rng.random() < 0.3,
                felt_safe=rng.random() < 0.3,
                logged_by=clinician,
            )
            for _index in range(CONTACTS)
        ]
        rows.save()
    network = {
        "people": len(rows.people),
        "ties": len(rows.ties),
        "groups": len(rows.groups),
        "contacts": len(rows.contacts),
    }
    return clinician, client, network


def run(*, quick: bool = False) -> dict[str, Any]:
    from django.test import Client as HttpClient
    from django.urls import reverse

    from kithkin.network.metrics import analyse
    from kithkin.network.snapshots import take_snapshot

    runs = QUICK_RUNS if quick else RUNS
    clinician, client, network = build_network()
    http = HttpClient()
    http.force_login(clinician)
    # Staff pass two-step sign-in before any page: give the benchmark's session its second
    # step the way django_otp.login does (a throwaway database, a made-up clinician).
    from django_otp import DEVICE_ID_SESSION_KEY

    from kithkin.accounts.models import AuthenticatorDevice

    device = AuthenticatorDevice.objects.create(user=clinician, name="bench", confirmed=True)
    session = http.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    url = reverse("network_map", kwargs={"client_id": client.pk})
    status = http.get(url).status_code
    if status != 200:
        raise RuntimeError(f"The map page answered {status}, not 200.")

    # As the production server does after start-up (kithkin/wsgi.py): long-lived objects, here
    # the freshly built network, stay out of the collector's full passes.
    gc.collect()
    gc.freeze()
    measurements = {
        "map_page": _measure("Map page (GET, care-team clinician)", lambda: http.get(url), runs),
        "analyse": _measure(
            "Metrics alone (analyse)", lambda: analyse(client, audience="clinician"), runs
        ),
        "snapshot": _measure(
            "Take a snapshot (take_snapshot)",
            lambda: take_snapshot(client, clinician, reason="on_demand"),
            max(3, runs // 5),
        ),
    }
    return {
        "title": "Support network map, 150 people",
        "description": (
            "The map page (SVG sociogram, table, metrics and gaps) and the metrics alone for "
            "one client's network."
        ),
        "network": network,
        "runs": runs,
        "target_ms": TARGET_MS,
        "within_target": all(
            measurements[key]["p95_ms"] < TARGET_MS for key in ("map_page", "analyse")
        ),
        "measurements": measurements,
    }
