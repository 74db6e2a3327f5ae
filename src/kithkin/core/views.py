from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles.storage import ManifestFilesMixin, staticfiles_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

logger = logging.getLogger("kithkin.health")


@login_not_required
@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database status, for load balancers and monitors."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as error:
        logger.error("health check: database unavailable (%s)", type(error).__name__)
        return JsonResponse({"status": "error", "database": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "database": connection.vendor})


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        return False
    return True


def _migrations_applied() -> bool:
    try:
        executor = MigrationExecutor(connection)
        targets = executor.loader.graph.leaf_nodes()
        return not executor.migration_plan(targets)
    except DatabaseError:
        return False


def _static_files_found() -> bool:
    # Only a manifest storage (production) needs collectstatic; elsewhere the finders serve.
    if not isinstance(staticfiles_storage, ManifestFilesMixin):
        return True
    return bool(staticfiles_storage.read_manifest())


@login_not_required
@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Readiness, for load balancers: may this instance take traffic now? Names the failing
    checks only; the reasons go to the server log, never to the caller."""
    if not _database_answers():
        failing = ["database"]  # the other checks need the database; name only the cause
    else:
        failing = [
            name
            for name, passes in (
                ("migrations", _migrations_applied),
                ("static", _static_files_found),
            )
            if not passes()
        ]
    if failing:
        logger.error("readiness check failed: %s", ", ".join(failing))
        return JsonResponse({"status": "not ready", "failing": failing}, status=503)
    return JsonResponse({"status": "ready"})


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    return render(request, "core/error.html", {"title": title, "message": message}, status=status)


@login_not_required
def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        400,
        _("Something in that request was not right"),
        _("Please go back and try again."),
    )


@login_not_required
def permission_denied(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        403,
        _("This page is not available to you"),
        _(
            "Your account does not give access to this page. If you think it should, "
            "please ask your practice."
        ),
    )


@login_not_required
def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error_page(
        request,
        404,
        _("We could not find that page"),
        _("It may have moved, or it may not be shared with you."),
    )


@login_not_required
def server_error(request: HttpRequest) -> HttpResponse:
    return _error_page(
        request,
        500,
        _("Something went wrong on our side"),
        _("Nothing you did caused this. Please try again in a moment."),
    )
