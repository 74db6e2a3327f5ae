"""Pages for snapshots of a client's map: keep one (on review or on demand), list them, view
one, and compare two. The map belongs to the client, so the client and the care team both use
these pages; anyone else gets a 404."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client, User
from kithkin.network.models import FIVE_S, Category, Ring, Snapshot
from kithkin.network.snapshots import Move, diff, parse, take_snapshot

PER_PAGE = 20
PURPOSES = (Purpose.CARE, Purpose.SELF)


class SnapshotLabelForm(forms.Form):
    label = forms.CharField(
        label=gettext_lazy("Label (optional)"),
        max_length=120,
        required=False,
        help_text=gettext_lazy("A few words to find it again, such as “after moving house”."),
    )


class CompareForm(forms.Form):
    older = forms.UUIDField(label=gettext_lazy("Compare from"))
    newer = forms.UUIDField(label=gettext_lazy("Compare with"))

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("older") and cleaned.get("older") == cleaned.get("newer"):
            raise forms.ValidationError(_("Choose two different snapshots to compare."))
        return cleaned


def _client(request: HttpRequest, client_id: UUID, action: str) -> Client:
    return access.get_client(request, client_id, *PURPOSES, action=action)


def _snapshot(request: HttpRequest, client: Client, snapshot_id: UUID) -> Snapshot:
    # Scoped to this client, so a snapshot of another client is a 404 even for its care team.
    return access.get_scoped(
        request,
        Snapshot.objects.filter(client=client).select_related("taken_by"),
        *PURPOSES,
        action="network.snapshot.view",
        pk=snapshot_id,
    )


def _is_self(request: HttpRequest, client: Client) -> bool:
    return client.user_id is not None and client.user_id == request.user.pk


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


@require_POST
def review(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """ "Mark map as reviewed": a review keeps a snapshot, so later reviews can show change."""
    client = _client(request, client_id, "network.review")
    form = SnapshotLabelForm(request.POST)
    label = form.cleaned_data["label"] if form.is_valid() else ""
    take_snapshot(client, _user(request), reason=Snapshot.Reason.REVIEW, label=label)
    messages.success(request, _("The map is marked as reviewed, and a snapshot of it was kept."))
    return redirect("network_snapshots", client_id=client.pk)


@require_POST
def take(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.snapshot.take")
    form = SnapshotLabelForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("The label can be at most 120 characters. Nothing was saved."))
        return redirect("network_snapshots", client_id=client.pk)
    take_snapshot(
        client, _user(request), reason=Snapshot.Reason.ON_DEMAND, label=form.cleaned_data["label"]
    )
    messages.success(request, _("A snapshot of the map was kept."))
    return redirect("network_snapshots", client_id=client.pk)


@require_GET
def snapshot_list(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.snapshot.list")
    # The content is large and encrypted; the list needs only the stored person count.
    snapshots = (
        Snapshot.objects.filter(client=client)
        .select_related("taken_by")
        .defer("content")
        .order_by("-taken_at", "-pk")
    )
    page = Paginator(snapshots, PER_PAGE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    return render(
        request,
        "network/snapshot_list.html",
        {
            "client": client,
            "page": page,
            "snapshots": rows,
            "default_older": rows[1].pk if len(rows) > 1 else None,
            "default_newer": rows[0].pk if rows else None,
            "label_form": SnapshotLabelForm(),
            "is_self": _is_self(request, client),
        },
    )


@require_GET
def compare(request: HttpRequest, client_id: UUID) -> HttpResponse:
    """The list's compare form lands here and is sent on to the diff page (which checks both)."""
    client = _client(request, client_id, "network.snapshot.compare")
    form = CompareForm(request.GET)
    if not form.is_valid():
        messages.error(request, _("Choose two different snapshots to compare."))
        return redirect("network_snapshots", client_id=client.pk)
    return redirect(
        "network_snapshot_diff",
        client_id=client.pk,
        snapshot_id=form.cleaned_data["older"],
        other_snapshot_id=form.cleaned_data["newer"],
    )


def _people_rows(content: dict[str, Any]) -> list[dict[str, Any]]:
    rings = dict(Ring.choices)
    categories = dict(Category.choices)
    labels = dict(FIVE_S)
    return [
        {
            **entry,
            "ring_label": rings.get(entry.get("ring"), ""),
            "category_label": categories.get(entry.get("category"), ""),
            "helps_labels": [labels[key] for key, _l in FIVE_S if key in entry.get("helps", [])],
        }
        for entry in content.get("people", [])
    ]


@require_GET
def snapshot_detail(request: HttpRequest, client_id: UUID, snapshot_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.snapshot.view")
    snapshot = _snapshot(request, client, snapshot_id)
    content = parse(snapshot)
    latest = Snapshot.objects.filter(client=client).only("pk", "taken_at").first()
    return render(
        request,
        "network/snapshot_detail.html",
        {
            "client": client,
            "snapshot": snapshot,
            "people": _people_rows(content),
            "tie_count": len(content.get("ties", [])),
            "groups": content.get("groups", []),
            "latest": latest if latest is not None and latest.pk != snapshot.pk else None,
            "is_self": _is_self(request, client),
        },
    )


@require_GET
def snapshot_diff(
    request: HttpRequest, client_id: UUID, snapshot_id: UUID, other_snapshot_id: UUID
) -> HttpResponse:
    client = _client(request, client_id, "network.snapshot.diff")
    first = _snapshot(request, client, snapshot_id)
    second = _snapshot(request, client, other_snapshot_id)
    # Always read the change forwards in time, whichever order the two were picked in.
    older, newer = sorted([first, second], key=lambda s: (s.taken_at, str(s.pk)))
    changes = diff(parse(older), parse(newer))
    rings = dict(Ring.choices)
    labels = dict(FIVE_S)

    def moves(items: list[Move]) -> list[dict[str, Any]]:
        return [
            {"person": m.person, "from": rings.get(m.from_ring), "to": rings.get(m.to_ring)}
            for m in items
        ]

    five_s = [
        {
            "person": change.person,
            "gained": ", ".join(labels[key] for key in change.gained),
            "lost": ", ".join(labels[key] for key in change.lost),
        }
        for change in changes.five_s
    ]
    return render(
        request,
        "network/snapshot_diff.html",
        {
            "client": client,
            "older": older,
            "newer": newer,
            "changes": changes,
            "closer": moves(changes.closer),
            "further": moves(changes.further),
            "five_s": five_s,
            "is_self": _is_self(request, client),
        },
    )
