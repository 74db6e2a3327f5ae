"""The client's check-ins and the measures pages she shares with her care team.

The client answers one question per page, and every answer is saved as she goes, so she can stop
and come back to the first question she has not answered. Answers are checked against the risk
rules as they are saved (services.save_answers): when one fires, she is shown the practice's crisis
resources at once and told her care team knows. If the alert cannot be written, nothing is saved
and she is told so plainly, with the resources on the same page: a risk answer is never dropped in
silence.

Every view first fetches the client, or one of her responses or assignments, through
accounts.access (CARE or SELF), which audits the read and turns anyone else into a 404, and only
then looks at the method, so every method is refused alike. The care team sees the same pages
with scores, reliable change and alerts; the client sees plain words."""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any
from uuid import UUID

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _

from kithkin.accounts import access
from kithkin.accounts.access import Purpose
from kithkin.accounts.models import Client
from kithkin.measures import charts, direction, provenance, scoring, services
from kithkin.measures.library import Instrument, Item
from kithkin.measures.models import Assignment, DueState, Mode, Response, RiskAlert
from kithkin.network.models import Person
from kithkin.network.services import audience_for

logger = logging.getLogger(__name__)

# A client's note to her clinician: generous, but bounded.
NOTE_MAX_LENGTH = 4000
# How much of a bad value to echo back in the error message.
ECHO_LENGTH = 20


# --- fetching ------------------------------------------------------------------------------


def _client(request: HttpRequest, client_id: UUID, verb: str) -> Client:
    return access.get_client(
        request, client_id, Purpose.CARE, Purpose.SELF, action=f"measures.{verb}"
    )


def _response(request: HttpRequest, client_id: UUID, response_id: UUID, verb: str) -> Response:
    return access.get_scoped(
        request,
        Response.objects.filter(client_id=client_id).select_related("client__practice"),
        Purpose.CARE,
        Purpose.SELF,
        action=f"measures.response.{verb}",
        pk=response_id,
    )


def _instrument_of(response: Response) -> Instrument:
    chosen = services.instrument_or_none(response.instrument_id)
    if chosen is None:
        # The definition file was removed from this installation: nothing to show it with.
        raise Http404
    return chosen


def _context(request: HttpRequest, client: Client) -> dict[str, Any]:
    audience = audience_for(request.user, client)
    return {"client": client, "audience": audience, "is_client": audience == "client"}


def _item_text(instrument: Instrument, item: Item) -> str | None:
    """An item's wording, never for an instrument whose text may not be shown."""
    return item.text if instrument.assignable else None


# --- where to go next --------------------------------------------------------------------------


def _step_url(response: Response, step: int) -> str:
    return reverse(
        "measures_response_step",
        kwargs={"client_id": response.client_id, "response_id": response.pk, "step": step},
    )


def _response_url(response: Response, name: str) -> str:
    return reverse(name, kwargs={"client_id": response.client_id, "response_id": response.pk})


def first_unanswered_step(instrument: Instrument, response: Response) -> int | None:
    """The 1-based step of the first question not yet answered, or None when all are."""
    answers = response.answers
    for index, item in enumerate(instrument.items, start=1):
        if answers.get(item.id) is None:
            return index
    return None


def resume_url(instrument: Instrument, response: Response) -> str:
    """Where a client picking a check-in up again lands: the first unanswered question."""
    step = first_unanswered_step(instrument, response)
    if step is None:
        return _response_url(response, "measures_response_review")
    return _step_url(response, step)


def _then_url(response: Response, then: int, count: int) -> str:
    """The page after a step: 1..count a question, count + 1 the review, anything else home."""
    if 1 <= then <= count:
        return _step_url(response, then)
    if then == count + 1:
        return _response_url(response, "measures_response_review")
    return reverse("measures_overview", kwargs={"client_id": response.client_id})


# --- how change is said --------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeText:
    """A change between two totals, worded for the page's reader."""

    label: str
    detail: str
    classification: str  # a ReliableChange value, or "" when reliable change cannot be judged
    recovered: bool


def _clinician_change(chosen: Instrument, change: scoring.Change | None) -> ChangeText | None:
    if change is None:
        return None
    difference = charts.format_score(abs(change.difference))
    # A true minus sign (U+2212) reads better than a hyphen next to a number.
    sign = "+" if change.difference > 0 else ("\u2212" if change.difference < 0 else "±")
    values = {
        "before": charts.format_score(change.before),
        "after": charts.format_score(change.after),
        "sign": sign,
        "difference": difference,
        # The instrument's own word for the direction ("worse", "better"; "higher" or "lower"
        # when it has none): the sign alone does not say whether a rise is good news.
        "direction": direction.word(chosen, change.difference),
    }
    if change.difference:
        detail = _("%(before)s → %(after)s (%(sign)s%(difference)s, %(direction)s)") % values
    else:
        detail = _("%(before)s → %(after)s (%(sign)s%(difference)s)") % values
    if change.classification is None or change.threshold is None:
        return ChangeText(_("Reliable change cannot be judged"), detail, "", False)
    labels = {
        scoring.ReliableChange.IMPROVED: _("Reliably improved"),
        scoring.ReliableChange.DETERIORATED: _("Reliably deteriorated"),
        scoring.ReliableChange.NO_CHANGE: _("No reliable change"),
    }
    detail = _("%(change)s; a reliable change is more than %(threshold)s") % {
        "change": detail,
        "threshold": charts.format_score(round(change.threshold, 1)),
    }
    return ChangeText(
        labels[change.classification],
        detail,
        change.classification.value,
        bool(change.recovered),
    )


def _client_change(change: scoring.Change | None, *, since_first: bool) -> ChangeText | None:
    """Plain words for the client: no "reliable", no numbers she has to interpret."""
    if change is None or change.classification is None:
        return None
    if since_first:
        labels = {
            scoring.ReliableChange.IMPROVED: _("Clearly better than when you started"),
            scoring.ReliableChange.DETERIORATED: _("Harder than when you started"),
            scoring.ReliableChange.NO_CHANGE: _("About the same as when you started"),
        }
    else:
        labels = {
            scoring.ReliableChange.IMPROVED: _("Clearly better than last time"),
            scoring.ReliableChange.DETERIORATED: _("Harder than last time"),
            scoring.ReliableChange.NO_CHANGE: _("About the same as last time"),
        }
    return ChangeText(labels[change.classification], "", change.classification.value, False)


@dataclass(frozen=True)
class Diagnosis:
    label: str
    met: bool | None
    reason: str


def _diagnoses(response: Response) -> list[Diagnosis]:
    found = response.score_detail.get("diagnoses") or []
    return [
        Diagnosis(str(d.get("label", "")), d.get("met"), str(d.get("reason") or ""))
        for d in found
        if isinstance(d, dict)
    ]


def _subscales(response: Response) -> list[dict[str, Any]]:
    return [
        {
            "title": s.get("title", ""),
            "score": charts.format_score(s["score"]) if s.get("score") is not None else None,
            "positive": s.get("positive"),
            "reason": s.get("reason") or "",
        }
        for s in response.score_detail.get("subscales") or []
        if isinstance(s, dict)
    ]


def table_rows(chart: charts.Chart, *, is_client: bool) -> tuple[charts.ChartRow, ...]:
    """The chart's rows for the data table; the client's first score is her starting point."""
    if not is_client:
        return chart.rows
    first = next((i for i, row in enumerate(chart.rows) if row.score is not None), None)
    return tuple(
        replace(row, change=_("Your starting point")) if index == first else row
        for index, row in enumerate(chart.rows)
    )


@dataclass(frozen=True)
class InstrumentCard:
    """One instrument on the overview, ready for the template."""

    summary: services.InstrumentSummary
    total: str | None
    prorated: bool
    from_baseline: ChangeText | None
    from_last: ChangeText | None
    diagnoses: list[Diagnosis]
    subscales: list[dict[str, Any]]
    rows: tuple[charts.ChartRow, ...]

    @property
    def instrument(self) -> Instrument:
        return self.summary.instrument

    @property
    def latest(self) -> Response:
        return self.summary.latest

    @property
    def chart(self) -> charts.Chart:
        return self.summary.chart


def _card(summary: services.InstrumentSummary, *, is_client: bool) -> InstrumentCard:
    progress = summary.progress
    baseline = progress.from_baseline if progress else None
    last = progress.from_last if progress else None
    if is_client:
        from_baseline = _client_change(baseline, since_first=True)
        # "Since last time" only once last time was not also the first time: said once is enough.
        scored = sum(1 for r in summary.responses if r.total is not None)
        from_last = _client_change(last, since_first=False) if scored > 2 else None
    else:
        from_baseline = _clinician_change(summary.instrument, baseline)
        from_last = _clinician_change(summary.instrument, last)
    total = summary.latest.total
    return InstrumentCard(
        summary=summary,
        total=charts.format_score(total) if total is not None else None,
        prorated=bool(summary.latest.score_detail.get("prorated")),
        from_baseline=from_baseline,
        from_last=from_last,
        diagnoses=_diagnoses(summary.latest),
        subscales=_subscales(summary.latest),
        rows=table_rows(summary.chart, is_client=is_client),
    )


@dataclass(frozen=True)
class AlertRow:
    alert: RiskAlert
    instrument_title: str
    rule_label: str


def _alert_rows(alerts: Sequence[RiskAlert]) -> list[AlertRow]:
    rows: list[AlertRow] = []
    for alert in alerts:
        chosen = services.instrument_or_none(alert.instrument_id)
        rule = (
            next((r for r in chosen.risk_rules if r.id == alert.rule_id), None) if chosen else None
        )
        rows.append(
            AlertRow(
                alert,
                chosen.short_title if chosen else alert.instrument_id,
                rule.label if rule else alert.rule_id,
            )
        )
    return rows


# --- the overview, one instrument, support -------------------------------------------------


def measures_overview(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "overview.view")
    context = _context(request, client)
    is_client = context["is_client"]
    overview = services.overview(client, audience=context["audience"])
    due_now = [
        row
        for row in overview.assignments
        if row.instrument is not None
        and (row.in_progress is not None or row.state in {DueState.DUE, DueState.OVERDUE})
    ]
    coming_up = [
        row
        for row in overview.assignments
        if row not in due_now and row.instrument is not None and row.state == DueState.UPCOMING
    ]
    unscheduled = [
        (response, chosen, resume_url(chosen, response))
        for response in overview.unscheduled_in_progress
        if (chosen := services.instrument_or_none(response.instrument_id)) is not None
    ]
    context.update(
        {
            "overview": overview,
            "cards": [_card(s, is_client=is_client) for s in overview.summaries],
            "due_now": due_now,
            "coming_up": coming_up,
            "unscheduled": unscheduled,
            "alerts": _alert_rows(overview.open_alerts),
            "enterable": []
            if is_client
            else [i for i in services.installed_library() if i.assignable],
        }
    )
    return render(request, "measures/overview.html", context)


def measures_instrument(request: HttpRequest, client_id: UUID, instrument_id: str) -> HttpResponse:
    client = _client(request, client_id, "instrument.view")
    chosen = services.instrument_or_none(instrument_id)
    if chosen is None:
        raise Http404
    context = _context(request, client)
    responses = services.history(client, chosen.id)
    card = (
        _card(
            services.summarise(chosen, responses, audience=context["audience"]),
            is_client=context["is_client"],
        )
        if responses
        else None
    )
    chart = card.chart if card else charts.progress_chart(chosen, [], audience=context["audience"])
    rows = table_rows(chart, is_client=context["is_client"])
    context.update(
        {
            "instrument": chosen,
            "card": card,
            "chart": chart,
            # Where the bands, cut-off and reliable change come from, cleaned for the care team.
            "sources": () if context["is_client"] else provenance.instrument_sources(chosen),
            # Newest first in the table (the chart reads oldest first); one row per response.
            "rows": list(zip(reversed(responses), reversed(rows), strict=True))
            if len(responses) == len(rows)
            else [(r, None) for r in reversed(responses)],
        }
    )
    return render(request, "measures/instrument.html", context)


def _alerted_response(client: Client, raw: str | None) -> Response | None:
    """The response named in the support page's query string, if it is this client's."""
    if not raw:
        return None
    try:
        response_id = UUID(raw)
    except ValueError:
        return None
    return Response.objects.filter(client=client, pk=response_id).first()


def measures_support(request: HttpRequest, client_id: UUID) -> HttpResponse:
    client = _client(request, client_id, "support.view")
    context = _context(request, client)
    # After an answer raised an alert, the page also says the team knows and offers the way on.
    response = _alerted_response(client, request.GET.get("response"))
    alerts: list[AlertRow] = []
    carry_on_url = ""
    if response is not None:
        alerts = _alert_rows(list(response.alerts.order_by("created_at")))
        chosen = services.instrument_or_none(response.instrument_id)
        if response.is_submitted or chosen is None:
            carry_on_url = _response_url(response, "measures_response_done")
        else:
            try:
                then = int(request.GET.get("then", ""))
            except ValueError:
                then = 0
            carry_on_url = _then_url(response, then, len(chosen.items))
    context.update(
        {
            "resources": services.crisis_resources(client.practice),
            "alerted": bool(alerts),
            "alerts": alerts,
            "carry_on_url": carry_on_url,
        }
    )
    return render(request, "measures/support.html", context)


# --- answering -------------------------------------------------------------------------------


def measures_checkin_start(
    request: HttpRequest, client_id: UUID, assignment_id: UUID
) -> HttpResponse:
    assignment = access.get_scoped(
        request,
        Assignment.objects.filter(client_id=client_id).select_related("client"),
        Purpose.CARE,
        Purpose.SELF,
        action="measures.checkin.start",
        pk=assignment_id,
    )
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    client = assignment.client
    overview_url = reverse("measures_overview", kwargs={"client_id": client.pk})
    chosen = services.instrument_or_none(assignment.instrument_id)
    if not assignment.is_active:
        messages.info(request, _("This check-in has been stopped, so it cannot be started."))
        return redirect(overview_url)
    if chosen is None or not chosen.assignable:
        messages.info(request, _("This check-in cannot be answered here at the moment."))
        return redirect(overview_url)
    is_client = audience_for(request.user, client) == "client"
    response = services.open_response(
        request, assignment, mode=Mode.PORTAL if is_client else Mode.IN_SESSION
    )
    return redirect(resume_url(chosen, response))


class AnswerProblem(Exception):
    """Something in a posted answer the page must name to the person answering."""


def _not_an_option(raw: str) -> AnswerProblem:
    return AnswerProblem(
        _(
            "“%(value)s” is not one of the answers to this question. Choose one of the answers "
            "shown, or skip the question."
        )
        % {"value": raw[:ECHO_LENGTH]}
    )


def _parse_answer(raw: str, item: Item) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise _not_an_option(raw) from None
    if not math.isfinite(value) or value not in item.values:
        raise _not_an_option(raw)
    return value


def _parse_people(raw: Sequence[str], allowed: set[UUID]) -> list[UUID]:
    """The people ticked, each of whom must be one the page offered (never a "not safe" one)."""
    chosen: list[UUID] = []
    for value in raw:
        try:
            person_id = UUID(value)
        except ValueError:
            person_id = None
        if person_id is None or person_id not in allowed:
            raise AnswerProblem(
                _("One of the people chosen is not on the list. Choose from the people shown.")
            )
        chosen.append(person_id)
    return list(dict.fromkeys(chosen))


def _suggestable_people(client: Client) -> list[Person]:
    people = list(Person.objects.safe_to_suggest().filter(client=client))
    return sorted(people, key=lambda p: p.name.casefold())


def _save_failed(
    request: HttpRequest, response: Response, error: Exception, retry_url: str
) -> HttpResponse:
    """The answer could not be saved (most likely its alert could not be written): say so, and
    give the crisis resources anyway. The log names the response and the error's type only: a
    database error's message can quote the row, answers included."""
    logger.error(
        "measures: answers for response %s were not saved (%s)",
        response.pk,
        type(error).__name__,
    )
    client = response.client
    context = _context(request, client)
    context.update(
        {
            "response": response,
            "resources": services.crisis_resources(client.practice),
            "retry_url": retry_url,
        }
    )
    return render(request, "measures/save_failed.html", context, status=503)


# Where each button of a question's page leads, relative to its step (0 is the overview).
STEP_ACTIONS = {"next": 1, "skip": 1, "back": -1, "later": None}


@dataclass(frozen=True)
class StepPost:
    """What a question's page posted: which button, the answer chosen and the people ticked."""

    action: str
    value: str
    people: list[str]

    @classmethod
    def of(cls, request: HttpRequest) -> StepPost:
        action = request.POST.get("action", "next")
        return cls(
            action if action in STEP_ACTIONS else "next",
            request.POST.get("answer", "").strip(),
            request.POST.getlist("people"),
        )

    def then(self, step: int) -> int:
        move = STEP_ACTIONS[self.action]
        return 0 if move is None else max(step + move, 1)

    def parse(
        self, item: Item, allowed: set[UUID]
    ) -> tuple[dict[str, float | None], dict[str, Sequence[UUID]] | None]:
        """The answers and people to save; AnswerProblem names anything that does not fit."""
        answers: dict[str, float | None] = {}
        if self.action == "skip":
            answers[item.id] = None
        elif self.value:
            answers[item.id] = _parse_answer(self.value, item)
        elif self.action == "next":
            raise AnswerProblem(
                _("Choose an answer, or use “Skip this question” to leave it for now.")
            )
        if not item.links_people:
            return answers, None
        picked = [] if self.action == "skip" else _parse_people(self.people, allowed)
        return answers, {item.id: picked}


def _save_step(
    request: HttpRequest,
    response: Response,
    item: Item,
    posted: StepPost,
    *,
    allowed: set[UUID],
    step: int,
) -> HttpResponse | str:
    """Save one page's answer and go on; a string is a problem to show on the page instead."""
    try:
        answers, people = posted.parse(item, allowed)
    except AnswerProblem as error:
        return str(error)
    try:
        alerts = services.save_answers(request, response, answers, people=people)
    except services.ResponseClosed:
        return redirect(_response_url(response, "measures_response_done"))
    except scoring.AnswerError:
        return _(
            "That answer does not fit this question. Choose one of the answers shown, or skip "
            "the question."
        )
    except Exception as error:  # never drop a risk answer in silence
        return _save_failed(request, response, error, _step_url(response, step))
    then = posted.then(step)
    if alerts:
        # Straight to the crisis resources, with a way back into the check-in.
        support = reverse("measures_support", kwargs={"client_id": response.client_id})
        return redirect(f"{support}?response={response.pk}&then={then}")
    if posted.action == "later":
        messages.success(
            request, _("Your answers are saved. You can carry on whenever you are ready.")
        )
    return redirect(_then_url(response, then, len(_instrument_of(response).items)))


def measures_response_step(
    request: HttpRequest, client_id: UUID, response_id: UUID, step: int
) -> HttpResponse:
    response = _response(request, client_id, response_id, "step")
    chosen = _instrument_of(response)
    if response.is_submitted:
        return redirect(_response_url(response, "measures_response_done"))
    client = response.client
    if not chosen.assignable:
        messages.info(request, _("This questionnaire cannot be answered here."))
        return redirect("measures_overview", client_id=client.pk)
    if not 1 <= step <= len(chosen.items):
        raise Http404
    item = chosen.items[step - 1]
    people = _suggestable_people(client) if item.links_people else []
    problem = ""
    posted: StepPost | None = None
    if request.method == "POST":
        posted = StepPost.of(request)
        outcome = _save_step(
            request, response, item, posted, allowed={p.pk for p in people}, step=step
        )
        if isinstance(outcome, HttpResponse):
            return outcome
        problem = outcome
    # After a problem, the page shows what was posted; otherwise what is saved.
    if posted is not None:
        selected, ticked = posted.value, set(posted.people)
    else:
        current = response.answers.get(item.id)
        selected = charts.format_score(current) if current is not None else ""
        ticked = {str(pk) for pk in services.people_named(response).get(item.id, [])}
    context = _context(request, client)
    context.update(
        {
            "response": response,
            "instrument": chosen,
            "item": item,
            "item_text": _item_text(chosen, item),
            "step": step,
            "count": len(chosen.items),
            "options": [
                {
                    "value": charts.format_score(option.value),
                    "label": option.label,
                    "checked": charts.format_score(option.value) == selected,
                }
                for option in item.options
            ],
            "people": [
                {"id": str(p.pk), "name": p.name, "checked": str(p.pk) in ticked} for p in people
            ],
            "problem": problem,
        }
    )
    return render(request, "measures/step.html", context)


def _answer_rows(chosen: Instrument, response: Response) -> list[dict[str, Any]]:
    named = services.people_named(response)
    names: dict[UUID, str] = {}
    wanted = {pid for ids in named.values() for pid in ids}
    if wanted:
        names = {
            p.pk: p.name for p in Person.objects.filter(client_id=response.client_id, pk__in=wanted)
        }
    rows: list[dict[str, Any]] = []
    for index, item in enumerate(chosen.items, start=1):
        value = response.answers.get(item.id)
        label = None
        if value is not None:
            label = next((o.label for o in item.options if o.value == value), None)
            label = label or charts.format_score(value)
        rows.append(
            {
                "step": index,
                "item": item,
                "text": _item_text(chosen, item),
                "answer": label,
                "value": charts.format_score(value) if value is not None else None,
                "people": [names[pid] for pid in named.get(item.id, []) if pid in names],
                "step_url": _step_url(response, index),
            }
        )
    return rows


def measures_response_review(
    request: HttpRequest, client_id: UUID, response_id: UUID
) -> HttpResponse:
    response = _response(request, client_id, response_id, "review")
    chosen = _instrument_of(response)
    done_url = _response_url(response, "measures_response_done")
    if response.is_submitted:
        return redirect(done_url)
    client = response.client
    if not chosen.assignable:
        messages.info(request, _("This questionnaire cannot be answered here."))
        return redirect("measures_overview", client_id=client.pk)
    problem = ""
    note = response.note
    if request.method == "POST":
        note = request.POST.get("note", "")
        if len(note) > NOTE_MAX_LENGTH:
            problem = _(
                "The note is %(length)s characters long; please keep it to %(max)s or fewer."
            ) % {"length": len(note), "max": NOTE_MAX_LENGTH}
        else:
            try:
                if note.strip() != response.note:
                    services.save_answers(request, response, {}, note=note)
                services.submit(request, response)
            except services.ResponseClosed:
                return redirect(done_url)
            except Exception as error:  # the client must hear that it did not work
                return _save_failed(
                    request, response, error, _response_url(response, "measures_response_review")
                )
            return redirect(done_url)
    rows = _answer_rows(chosen, response)
    unanswered = sum(1 for row in rows if row["answer"] is None)
    context = _context(request, client)
    context.update(
        {
            "response": response,
            "instrument": chosen,
            "rows": rows,
            "unanswered": unanswered,
            "note": note,
            "note_max": NOTE_MAX_LENGTH,
            "problem": problem,
            "back_url": _step_url(response, len(chosen.items)),
        }
    )
    return render(request, "measures/review.html", context)


def _score_context(chosen: Instrument, response: Response) -> dict[str, Any]:
    """The care team's view of one response's score, with change from the responses before it."""
    history = services.history(response.client, chosen.id)
    position = next((i for i, r in enumerate(history) if r.pk == response.pk), len(history))
    earlier = [r.total for r in history[:position]]
    progress = (
        scoring.progress(chosen, earlier, response.total) if response.total is not None else None
    )
    return {
        "total": charts.format_score(response.total) if response.total is not None else None,
        "from_baseline": _clinician_change(chosen, progress.from_baseline) if progress else None,
        "from_last": _clinician_change(chosen, progress.from_last) if progress else None,
        "diagnoses": _diagnoses(response),
        "subscales": _subscales(response),
        "prorated": bool(response.score_detail.get("prorated")),
    }


def measures_response_done(
    request: HttpRequest, client_id: UUID, response_id: UUID
) -> HttpResponse:
    response = _response(request, client_id, response_id, "done")
    chosen = _instrument_of(response)
    if not response.is_submitted:
        return redirect(_response_url(response, "measures_response_review"))
    client = response.client
    context = _context(request, client)
    alerts = _alert_rows(list(response.alerts.order_by("created_at")))
    context.update(
        {
            "response": response,
            "instrument": chosen,
            "alerts": alerts,
            "resources": services.crisis_resources(client.practice) if alerts else "",
        }
    )
    if not context["is_client"]:
        context["score"] = _score_context(chosen, response)
    return render(request, "measures/done.html", context)


def measures_response(request: HttpRequest, client_id: UUID, response_id: UUID) -> HttpResponse:
    response = _response(request, client_id, response_id, "view")
    chosen = _instrument_of(response)
    client = response.client
    context = _context(request, client)
    context.update(
        {
            "response": response,
            "instrument": chosen,
            "rows": _answer_rows(chosen, response),
            "alerts": _alert_rows(list(response.alerts.order_by("created_at"))),
            "continue_url": resume_url(chosen, response)
            if not response.is_submitted and chosen.assignable
            else "",
        }
    )
    if response.is_submitted:
        context["score"] = _score_context(chosen, response)
    return render(request, "measures/response.html", context)
