"""Import and export of a client's map: Network Canvas ZIP / CSVs and GraphML.

The care team and the client herself may use these pages; everyone else gets a 404 from the
access helper. The import runs in two steps: upload (checked, then kept encrypted in the session)
and mapping (the user says what each variable means; then one transaction writes it all)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client
from kithkin.audit import services as audit
from kithkin.network.interchange import exporter, importer
from kithkin.network.interchange.formats import MAX_UPLOAD_BYTES, ImportFileError
from kithkin.network.interchange.mapping import variables
from kithkin.network.interchange_forms import MappingForm, UploadForm, choose_targets
from kithkin.security.limits import file_export_limited

DONE_KEY = "network_import_done"


def _client(request: HttpRequest, client_id: UUID, action: str) -> Client:
    return access.get_client(request, client_id, Purpose.CARE, Purpose.SELF, action=action)


def _read_only(request: HttpRequest) -> HttpResponse | None:
    """These pages only show or download. Checked after the access check, so that a stranger
    gets the same 404 whatever the method."""
    if request.method in ("GET", "HEAD"):
        return None
    return HttpResponseNotAllowed(["GET", "HEAD"])


def _is_self(request: HttpRequest, client: Client) -> bool:
    return client.user_id is not None and client.user_id == request.user.pk


def network_export(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.export.view")
    if refused := _read_only(request):
        return refused
    return render(
        request,
        "network/export_choices.html",
        {
            "client": client,
            "is_self": _is_self(request, client),
            "case_id": exporter.case_id(client),
        },
    )


@file_export_limited
def network_export_download(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.export.view")
    if refused := _read_only(request):
        return refused
    export_format = request.GET.get("format", "")
    try:
        if export_format == "graphml":
            file = exporter.export_graphml(client)
        elif export_format == "csv":
            file = exporter.export_csv_zip(client)
        else:
            # No or an unknown format: show the choices rather than a dead end.
            return redirect("network_export", client_id=client.pk)
    except exporter.ExportTooLarge:
        messages.error(request, _("The map is too large to export in one file."))
        return redirect("network_export", client_id=client.pk)
    audit.record(
        request,
        action="network.export",
        object_type="client",
        object_id=client.pk,
        client=client,
        detail={"format": export_format},
    )
    response = HttpResponse(file.content, content_type=file.content_type)
    response["Content-Disposition"] = f'attachment; filename="{file.filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def network_import(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.import.view")
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            network = importer.read_upload(
                archive=data.get("archive"),
                ego=data.get("ego"),
                attribute_list=data.get("attribute_list"),
                edge_list=data.get("edge_list"),
            )
        except ImportFileError as error:
            form.add_error(None, error.message)
        else:
            import_id = importer.keep_pending(request, client, network)
            return redirect("network_import_mapping", client_id=client.pk, import_id=import_id)
    return render(
        request,
        "network/import_upload.html",
        {
            "client": client,
            "form": form,
            "is_self": _is_self(request, client),
            "limit_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
        },
    )


def _expired(request: HttpRequest, client: Client) -> HttpResponse:
    messages.info(
        request,
        _(
            "That import is no longer waiting (they are kept for an hour). "
            "Please upload the file again."
        ),
    )
    return redirect("network_import", client_id=client.pk)


@require_http_methods(["GET", "POST"])
def network_import_mapping(request: HttpRequest, client_id: UUID, import_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.import.view")
    pending = importer.load_pending(request, client, import_id)
    if pending is None:
        return _expired(request, client)
    network = pending.network
    node_types = network.node_types()
    node_type = next((t for t in node_types if t.lower() == "person"), node_types[0])
    found = variables(network, node_type)
    edge_types = network.edge_types()
    data = request.POST if request.method == "POST" else None
    chosen, changed = choose_targets(found, data)
    form: MappingForm
    if data is not None and "confirm" in data and not changed:
        form = MappingForm(found, chosen, edge_types, data)
        if form.is_valid():
            try:
                summary = importer.apply_import(request, client, network, form.mapping(node_type))
            except ImportFileError as error:
                form.add_error(None, error.message)
            else:
                importer.discard_pending(request, pending.import_id)
                request.session[DONE_KEY] = {"import_id": pending.import_id, **summary.__dict__}
                return redirect(
                    "network_import_done", client_id=client.pk, import_id=pending.import_id
                )
    else:
        form = MappingForm(found, chosen, edge_types, previous=data)
        if data is not None and changed:
            messages.info(request, _("The choices below were updated. Check them, then import."))
    context: dict[str, Any] = {
        "client": client,
        "form": form,
        "import_id": pending.import_id,
        "node_type": node_type,
        "node_count": sum(1 for node in network.nodes if node.node_type == node_type),
        "other_node_types": [t for t in node_types if t != node_type],
        "edge_count": len(network.edges),
        "is_self": _is_self(request, client),
        "source_format": network.source_format,
    }
    return render(request, "network/import_mapping.html", context)


def network_import_done(request: HttpRequest, client_id: UUID, import_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "network.import.view")
    if refused := _read_only(request):
        return refused
    summary = request.session.get(DONE_KEY)
    if not isinstance(summary, dict) or summary.get("import_id") != str(import_id):
        return _expired(request, client)
    return render(
        request,
        "network/import_done.html",
        {"client": client, "summary": summary, "is_self": _is_self(request, client)},
    )
