from django.urls import include, path

from kithkin.core import views as core_views

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("readyz", core_views.readyz, name="readyz"),
    path("", include("kithkin.accounts.urls")),
    path("", include("kithkin.accounts.mfa_urls")),
    path("", include("kithkin.accounts.practice_urls")),
    path("", include("kithkin.accounts.breakglass_urls")),
    path("", include("kithkin.audit.urls")),
    path("", include("kithkin.network.urls")),
    path("", include("kithkin.network.interchange_urls")),
    path("", include("kithkin.network.snapshot_urls")),
    path("", include("kithkin.measures.urls")),
    path("", include("kithkin.care.urls")),
    path("", include("kithkin.connection.urls")),
    path("", include("kithkin.connection.profile_urls")),
    path("", include("kithkin.notifications.urls")),
    path("", include("kithkin.privacy.urls")),
]

handler400 = "kithkin.core.views.bad_request"
handler403 = "kithkin.core.views.permission_denied"
handler404 = "kithkin.core.views.page_not_found"
handler500 = "kithkin.core.views.server_error"
