"""The progress review (the care team and the client herself) and the case progress report (the
care team only). Both fetch the client through accounts.access, which audits the read and turns
anyone else into a 404."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.care import review
from kithkin.network.pdf import render_pdf
from kithkin.network.services import audience_for
from kithkin.security.limits import file_export_limited


def care_review(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(
        request, client_id, Purpose.CARE, Purpose.SELF, action="care.review.view"
    )
    audience = audience_for(request.user, client)
    context = {
        "client": client,
        "audience": audience,
        "is_client": audience == "client",
        "review": review.progress_review(client, audience=audience),
    }
    return render(request, "care/review_page.html", context)


@file_export_limited
def care_report_pdf(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = access.get_client(request, client_id, Purpose.CARE, action="care.report.pdf")
    context = {"client": client, "report": review.case_report(client), "pdf": True}
    document = render_pdf("care/review_report_pdf.html", context, request=request)
    response = HttpResponse(document, content_type="application/pdf")
    # A fixed file name: no client data in headers.
    response["Content-Disposition"] = 'inline; filename="case-progress-report.pdf"'
    return response
