"""The map, the editor, groups and the contact log.

The map belongs to the client: her care team and she herself both see and edit it. Each view
first fetches the client (or the person/group) through accounts.access, which audits the read
and turns a stranger into a 404, then handles the method, so every method is refused alike."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client
from kithkin.network import metrics, pdf, services
from kithkin.network.forms import ContactForm, GroupForm, PersonForm, QuickAddForm
from kithkin.network.models import FIVE_S, Group, Person
from kithkin.security.limits import file_export_limited

CONTACTS_PER_PAGE = 25
# The just-added batch, kept in the session so "next person" walks through it.
BATCH_KEY = "network_quick_add_batch"


def _client(request: HttpRequest, client_id: UUID, verb: str) -> Client:
    return access.get_client(
        request, client_id, Purpose.CARE, Purpose.SELF, action=f"network.{verb}"
    )


def _person(request: HttpRequest, client_id: UUID, person_id: UUID, verb: str) -> Person:
    return access.get_scoped(
        request,
        Person.objects.on_map().select_related("client").filter(client_id=client_id),
        Purpose.CARE,
        Purpose.SELF,
        action=f"network.person.{verb}",
        pk=person_id,
    )


def _base_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    audience = services.audience_for(request.user, client)
    return {"client": client, "audience": audience, "is_client": audience == "client"}


def _map_context(request: HttpRequest, client: Client) -> dict[str, Any]:
    context = _base_context(request, client)
    view = services.map_view(client, audience=context["audience"])
    context.update(
        {
            "view": view,
            "drawing": view.drawing,
            # Analyse what the page draws: the map is loaded once, not again by analyse().
            "analysis": metrics.analyse_data(
                view.data, audience=context["audience"], now=view.data.loaded_at
            ),
            "five_s": FIVE_S,
        }
    )
    return context


# --- the map -----------------------------------------------------------------------------


def network_map(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "map.view")
    context = _map_context(request, client)
    context["suggested"] = context["view"].suggested
    return render(request, "network/map.html", context)


@file_export_limited
def network_map_pdf(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "map.pdf")
    context = _map_context(request, client)
    context["pdf"] = True
    document = pdf.render_pdf("network/map_pdf.html", context, request=request)
    response = HttpResponse(document, content_type="application/pdf")
    # A fixed file name: no client data in headers either.
    response["Content-Disposition"] = 'inline; filename="support-map.pdf"'
    return response


# --- quick add and people ----------------------------------------------------------------


def network_quick_add(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "quick_add")
    form = QuickAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        people = services.quick_add(
            request,
            client,
            form.cleaned_data["names"],
            ring=form.cleaned_data["ring"],
            category=form.cleaned_data["category"],
        )
        request.session[BATCH_KEY] = [str(p.pk) for p in people]
        messages.success(
            request,
            ngettext(
                "%(count)s person was added. Now describe them: you can skip any question.",
                "%(count)s people were added. Now describe each in turn: you can skip any "
                "question.",
                len(people),
            )
            % {"count": len(people)},
        )
        return redirect("network_person", client_id=client.pk, person_id=people[0].pk)
    context = _base_context(request, client)
    context.update(
        {
            "form": form,
            "people": sorted(services.people_on_map(client), key=lambda p: p.name.casefold()),
        }
    )
    return render(request, "network/quick_add.html", context)


def network_person(request: HttpRequest, client_id: UUID, person_id: UUID) -> HttpResponse:
    person = _person(request, client_id, person_id, "view")
    client = person.client
    context = _base_context(request, client)
    ties = services.ties_of(person)
    form = PersonForm(
        request.POST or None,
        instance=person,
        client=client,
        ties=ties,
        audience=context["audience"],
    )
    batch: list[str] = request.session.get(BATCH_KEY, [])
    next_id = services.next_person_after(client, batch, person.pk) if batch else None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        services.update_person(
            request,
            person,
            data,
            changed=form.changed_data,
            knows=data["knows"],
            knows_well=data["knows_well"],
            groups=data["groups"],
        )
        messages.success(request, _("Saved."))
        if "save_next" in request.POST and next_id is not None:
            return redirect("network_person", client_id=client.pk, person_id=next_id)
        if "save_next" in request.POST:
            request.session.pop(BATCH_KEY, None)
        return redirect("network_map", client_id=client.pk)
    last = services.last_contact_of(person)
    context.update(
        {
            "person": person,
            "form": form,
            "next_id": next_id,
            "last_contact_at": last,
            "rhythm": services.rhythm_status(last, person.wished_rhythm_days),
        }
    )
    return render(request, "network/person.html", context)


def network_person_remove(request: HttpRequest, client_id: UUID, person_id: UUID) -> HttpResponse:
    person = _person(request, client_id, person_id, "remove")
    client = person.client
    if request.method == "POST":
        services.remove_person(request, person)
        messages.success(request, _("%(name)s was taken off the map.") % {"name": person.name})
        return redirect("network_map", client_id=client.pk)
    context = _base_context(request, client)
    context["person"] = person
    return render(request, "network/person_remove.html", context)


# --- groups ------------------------------------------------------------------------------


def network_groups(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "groups")
    form = GroupForm(request.POST or None, client=client, prefix="new")
    if request.method == "POST" and form.is_valid():
        services.save_group(request, client, None, form.cleaned_data)
        messages.success(request, _("The group was added."))
        return redirect("network_groups", client_id=client.pk)
    context = _base_context(request, client)
    context.update({"groups": services.groups_of(client), "form": form})
    return render(request, "network/groups.html", context)


def network_group(request: HttpRequest, client_id: UUID, group_id: UUID) -> HttpResponse:
    group = access.get_scoped(
        request,
        Group.objects.select_related("client").filter(client_id=client_id),
        Purpose.CARE,
        Purpose.SELF,
        action="network.group.view",
        pk=group_id,
    )
    client = group.client
    if request.method == "POST" and "delete" in request.POST:
        services.delete_group(request, group)
        messages.success(request, _("The group was removed."))
        return redirect("network_groups", client_id=client.pk)
    form = GroupForm(request.POST or None, instance=group, client=client)
    if request.method == "POST" and form.is_valid():
        services.save_group(request, client, group, form.cleaned_data)
        messages.success(request, _("The group was saved."))
        return redirect("network_groups", client_id=client.pk)
    context = _base_context(request, client)
    context.update({"group": group, "form": form})
    return render(request, "network/group.html", context)


# --- contacts ----------------------------------------------------------------------------


def network_contact_log(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "contact.log")
    preselected = None
    wanted = request.GET.get("person") or ""
    if wanted:
        try:
            preselected = Person.objects.on_map().filter(client=client, pk=UUID(wanted)).first()
        except ValueError:
            preselected = None
    form = ContactForm(request.POST or None, client=client, person=preselected)
    if request.method == "POST" and form.is_valid():
        contact = services.log_contact(request, client, form.cleaned_data)
        messages.success(
            request,
            _("Logged: in touch with %(name)s.") % {"name": contact.person.name},
        )
        if request.POST.get("next") == "person":
            return redirect("network_person", client_id=client.pk, person_id=contact.person_id)
        return redirect("network_map", client_id=client.pk)
    context = _base_context(request, client)
    context.update(
        {
            "form": form,
            "preselected": preselected,
            "suggested": [] if preselected else services.suggested_people(client),
        }
    )
    return render(request, "network/contact_log.html", context)


def network_contacts(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "contacts")
    page = Paginator(services.recent_contacts(client), CONTACTS_PER_PAGE).get_page(
        request.GET.get("page")
    )
    context = _base_context(request, client)
    context.update({"page": page, "five_s": FIVE_S})
    return render(request, "network/contacts.html", context)
