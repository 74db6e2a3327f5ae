"""The measures overview and one instrument's history: the client reads calm, plain words; the
care team reads totals, bands, reliable change, alerts and schedules; both see the chart with its
data table; and the page costs the same number of queries however many responses there are."""

from __future__ import annotations

import re
from datetime import timedelta

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from kithkin.accounts.models import Client
from kithkin.measures.models import Cadence, RiskAlert
from tests import factories
from tests.conftest import World, signed_in
from tests.measures.checkin_pages import overview_url, start_url

# PCL-5 has 20 items scored 0-4 and reliable-change data; a drop from 60 to 20 is reliable
# improvement and crosses its cut-off (recovered).
PCL5_HIGH = 3
PCL5_LOW = 1


def _instrument_url(client: Client, instrument_id: str) -> str:
    return reverse(
        "measures_instrument", kwargs={"client_id": client.pk, "instrument_id": instrument_id}
    )


def _history(client: Client) -> None:
    now = timezone.now()
    factories.submitted_response(
        client, "pcl5", factories.all_answers("pcl5", PCL5_HIGH), when=now - timedelta(days=60)
    )
    factories.submitted_response(
        client, "pcl5", factories.all_answers("pcl5", 2), when=now - timedelta(days=30)
    )
    factories.submitted_response(
        client, "pcl5", factories.all_answers("pcl5", PCL5_LOW), when=now - timedelta(days=1)
    )


def test_it_speaks_to_the_client_in_plain_words(world: World) -> None:
    _history(world.client_a)
    factories.assignment(world.client_a, "phq9")
    page = signed_in(world.client_a_user).get(overview_url(world.client_a)).content.decode()
    assert "Your check-ins" in page and "How things have been going" in page
    assert "Ready for you" in page and ">Start<" in page
    assert "Clearly better than when you started" in page
    assert "Clearly better than last time" in page
    assert "Your starting point" in page
    # The words on the page, not its markup (the drawing's own labels are charts.py's business).
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<svg.*?</svg>", "", page, flags=re.DOTALL))
    for jargon in (
        "Reliably",
        "reliable change",
        "Recovered",
        "baseline",
        "Clinical range",
        "Provisional PTSD",
        "risk alert",
    ):
        assert jargon.casefold() not in words.casefold(), jargon
    # The care team's tools are not offered to the client.
    assert reverse("measures_assign", kwargs={"client_id": world.client_a.pk}) not in page
    assert "Stop" not in page


def test_it_gives_the_care_team_scores_change_alerts_and_schedules(world: World) -> None:
    _history(world.client_a)
    assignment = factories.assignment(world.client_a, "phq9", cadence=Cadence.ONCE)
    alerted = factories.submitted_response(
        world.client_a, "phq9", {**factories.all_answers("phq9", 0), "9": 2}
    )
    alert = RiskAlert.objects.create(
        client=world.client_a,
        response=alerted,
        instrument_id="phq9",
        rule_id="phq9_item9",
        item_id="9",
        value=2,
        severity="urgent",
    )
    page = signed_in(world.clinician).get(overview_url(world.client_a)).content.decode()
    client_id = world.client_a.pk
    # Open alerts come first, linked to the alert page.
    assert "A risk alert is waiting for acknowledgement" in page
    alert_url = reverse("measures_alert", kwargs={"client_id": client_id, "alert_id": alert.pk})
    assert page.index(alert_url) < page.index('id="assignments-heading"')
    # The schedule, with its state and a way to stop it or fill it in session.
    end_url = reverse(
        "measures_assignment_end", kwargs={"client_id": client_id, "assignment_id": assignment.pk}
    )
    assert f'action="{end_url}"' in page and f'action="{start_url(assignment)}"' in page
    assert "Fill in now, in session" in page
    for name in ("measures_assign", "measures_export_fhir", "measures_import_fhir"):
        assert reverse(name, kwargs={"client_id": client_id}) in page
    assert (
        reverse("measures_enter", kwargs={"client_id": client_id, "instrument_id": "gad7"}) in page
    )
    # Unlicensed instruments cannot be entered.
    assert "/enter/ies_r/" not in page
    # PCL-5: total, band, reliable change from baseline and last time, recovered, diagnosis.
    assert "Reliably improved" in page
    assert "Recovered" in page
    assert "Provisional PTSD diagnosis (DSM-5 symptom rule)" in page
    assert "Rule not met" in page
    assert "60 → 20" in page
    assert _instrument_url(world.client_a, "pcl5") in page


def test_it_explains_a_response_that_could_not_be_scored(world: World) -> None:
    factories.submitted_response(world.client_a, "gad7", {"1": 1, "2": 1})
    clinician = signed_in(world.clinician).get(overview_url(world.client_a)).content.decode()
    assert "No score" in clinician and "5 questions were left unanswered" in clinician
    client = signed_in(world.client_a_user).get(overview_url(world.client_a)).content.decode()
    assert "could not be added up into a score" in client
    assert "left unanswered, and GAD-7" not in client


def test_it_draws_the_chart_with_its_table(world: World) -> None:
    _history(world.client_a)
    for user in (world.client_a_user, world.clinician):
        page = signed_in(user).get(overview_url(world.client_a)).content.decode()
        assert '<svg xmlns="http://www.w3.org/2000/svg" class="chart"' in page
        assert "chart__band" in page and "chart__cutoff" in page
        table = page[page.index('<div class="chart-table">') :]
        table = table[: table.index("</table>")]
        assert len(re.findall(r'<th scope="row">', table)) == 3
        assert '<td class="numeric">60</td>' in table and '<td class="numeric">20</td>' in table
    client_page = signed_in(world.client_a_user).get(overview_url(world.client_a)).content
    assert "Harder than at first" not in client_page.decode()  # an improving history
    assert "Clearly better" in client_page.decode()


def test_it_shows_one_instruments_full_history(world: World) -> None:
    _history(world.client_a)
    http = signed_in(world.clinician)
    page = http.get(_instrument_url(world.client_a, "pcl5")).content.decode()
    assert "Full history" in page and "<svg" in page
    links = re.findall(r"/measures/responses/([0-9a-f-]{36})/\"", page)
    assert len(set(links)) == 3
    assert "Reliable change (Jacobson\u2013Truax)" in page
    # Never answered: an empty chart, not an error. Unknown: 404.
    empty = http.get(_instrument_url(world.client_a, "gad7"))
    assert empty.status_code == 200 and "No scores yet." in empty.content.decode()
    assert http.get(_instrument_url(world.client_a, "no_such_thing")).status_code == 404
    client_page = signed_in(world.client_a_user).get(_instrument_url(world.client_a, "pcl5"))
    assert "Every time you filled this in" in client_page.content.decode()


def test_it_draws_the_overview_in_a_constant_number_of_queries(world: World) -> None:
    now = timezone.now()
    factories.assignment(world.client_a, "phq9")
    factories.assignment(world.client_a, "gad7")
    counts: dict[str, list[int]] = {"clinician": [], "client": []}
    made = 0
    for size in (3, 30):
        for index in range(made, size):
            instrument_id = "phq9" if index % 2 else "gad7"
            factories.submitted_response(
                world.client_a,
                instrument_id,
                factories.all_answers(instrument_id, index % 3),
                when=now - timedelta(days=size - index),
            )
        made = size
        for who, user in (("clinician", world.clinician), ("client", world.client_a_user)):
            http = signed_in(user)
            http.get(overview_url(world.client_a))  # warm the session alike for both sizes
            with CaptureQueriesContext(connection) as queries:
                response = http.get(overview_url(world.client_a))
            assert response.status_code == 200
            counts[who].append(len(queries))
    assert counts["clinician"][0] == counts["clinician"][1], counts
    assert counts["client"][0] == counts["client"][1], counts
