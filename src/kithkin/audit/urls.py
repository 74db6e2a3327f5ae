from django.urls import path

from kithkin.audit import views

urlpatterns = [
    path("clients/<uuid:client_id>/audit/", views.client_audit, name="client_audit"),
]
