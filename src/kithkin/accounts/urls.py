from django.urls import path

from kithkin.accounts import search_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("settings/", views.account_settings, name="settings"),
    path("caseload/search/", search_views.caseload_search, name="caseload_search"),
    path("accounts/login/", views.SignInView.as_view(), name="login"),
    path("accounts/logout/", views.SignOutView.as_view(), name="logout"),
    path("accounts/password/change/", views.ChangePasswordView.as_view(), name="password_change"),
    path("accounts/password/reset/", views.ResetRequestView.as_view(), name="password_reset"),
    path(
        "accounts/password/reset/sent/", views.ResetDoneView.as_view(), name="password_reset_done"
    ),
    path(
        "accounts/password/reset/<uidb64>/<token>/",
        views.ResetConfirmView.as_view(),
        name="password_reset_confirm",
    ),
    path(
        "accounts/password/reset/complete/",
        views.ResetCompleteView.as_view(),
        name="password_reset_complete",
    ),
]
