"""Break-glass emergency access: no client or grant in any URL (POST bodies carry them)."""

from django.urls import path

from kithkin.accounts import breakglass_views as views

urlpatterns = [
    path("emergency-access/", views.search, name="breakglass"),
    path("emergency-access/open/", views.open_access, name="breakglass_open"),
    path("emergency-access/end/", views.end, name="breakglass_end"),
    path("practice/emergency-access/", views.review_list, name="breakglass_review"),
]
