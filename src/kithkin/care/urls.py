"""Network casework: the case plan, key contacts and consent, sessions and actions, the progress
review and reports, and the members' own view of a client's circle."""

from django.urls import URLPattern, path

from kithkin.care import member_views, plan_views, review_views, session_views

CARE = "clients/<uuid:client_id>/care/"
GOAL = f"{CARE}goals/<uuid:goal_id>/"
SESSION = f"{CARE}sessions/<uuid:session_id>/"
CIRCLE = "circles/<uuid:client_id>/"

urlpatterns: list[URLPattern] = [
    # The case plan, key contacts and consent (plan_views)
    path(CARE, plan_views.care_plan, name="care_plan"),
    path(f"{CARE}problems/add/", plan_views.care_problem_add, name="care_problem_add"),
    path(f"{CARE}problems/<uuid:problem_id>/", plan_views.care_problem, name="care_problem"),
    path(f"{CARE}goals/add/", plan_views.care_goal_add, name="care_goal_add"),
    path(GOAL, plan_views.care_goal, name="care_goal"),
    path(f"{GOAL}indicators/add/", plan_views.care_indicator_add, name="care_indicator_add"),
    path(
        f"{GOAL}indicators/<uuid:indicator_id>/remove/",
        plan_views.care_indicator_remove,
        name="care_indicator_remove",
    ),
    path(f"{CARE}contacts/", plan_views.care_contacts, name="care_contacts"),
    path(f"{CARE}contacts/<uuid:contact_id>/", plan_views.care_contact, name="care_contact"),
    path(
        f"{CARE}contacts/<uuid:contact_id>/invite/",
        plan_views.care_contact_invite,
        name="care_contact_invite",
    ),
    path(f"{CARE}sharing/", plan_views.care_consent, name="care_consent"),
    path(f"{CARE}sharing/history/", plan_views.care_consent_history, name="care_consent_history"),
    # Sessions and actions (session_views)
    path(f"{CARE}sessions/", session_views.care_sessions, name="care_sessions"),
    path(f"{CARE}sessions/new/", session_views.care_session_new, name="care_session_new"),
    path(SESSION, session_views.care_session, name="care_session"),
    path(f"{SESSION}edit/", session_views.care_session_edit, name="care_session_edit"),
    path(
        f"{SESSION}attendance/",
        session_views.care_session_attendance,
        name="care_session_attendance",
    ),
    path(
        f"{SESSION}contribute/",
        session_views.care_session_contribute,
        name="care_session_contribute",
    ),
    path(
        f"{SESSION}actions/add/",
        session_views.care_session_action_add,
        name="care_session_action_add",
    ),
    path(f"{SESSION}wrap-up/", session_views.care_session_wrap_up, name="care_session_wrap_up"),
    path(f"{SESSION}notes/", session_views.care_session_note, name="care_session_note"),
    path(f"{SESSION}session.ics", session_views.care_session_ics, name="care_session_ics"),
    path(f"{SESSION}summary.pdf", session_views.care_session_pdf, name="care_session_pdf"),
    path(f"{CARE}actions/", session_views.care_actions, name="care_actions"),
    path(f"{CARE}actions/<uuid:action_id>/", session_views.care_action, name="care_action"),
    # Progress review and the case report (review_views)
    path(f"{CARE}review/", review_views.care_review, name="care_review"),
    path(f"{CARE}report.pdf", review_views.care_report_pdf, name="care_report_pdf"),
    # A network member's view of the client's circle (member_views)
    path(CIRCLE, member_views.circle, name="circle"),
    path(f"{CIRCLE}actions/<uuid:action_id>/", member_views.circle_action, name="circle_action"),
    path(
        f"{CIRCLE}sessions/<uuid:session_id>/", member_views.circle_session, name="circle_session"
    ),
    path(
        f"{CIRCLE}sessions/<uuid:session_id>/session.ics",
        member_views.circle_session_ics,
        name="circle_session_ics",
    ),
    path(
        f"{CIRCLE}sessions/<uuid:session_id>/summary.pdf",
        member_views.circle_session_pdf,
        name="circle_session_pdf",
    ),
]
