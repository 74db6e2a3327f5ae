from django.urls import path

from kithkin.accounts import mfa_views

urlpatterns = [
    path("accounts/two-step/", mfa_views.verify, name="mfa_verify"),
    path("accounts/two-step/recovery-code/", mfa_views.verify_recovery, name="mfa_recovery"),
    path("accounts/two-step/set-up/", mfa_views.enrol, name="mfa_enrol"),
    path("settings/two-step/recovery-codes/", mfa_views.regenerate, name="mfa_regenerate"),
    path("settings/two-step/turn-off/", mfa_views.remove, name="mfa_remove"),
    path("settings/confirm/", mfa_views.reauth, name="reauth"),
    path("settings/email/", mfa_views.change_email, name="email_change"),
    path("settings/email/confirm/", mfa_views.confirm_email_change, name="email_change_confirm"),
]
