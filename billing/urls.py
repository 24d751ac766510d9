from __future__ import annotations

from django.urls import path, re_path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.statement_list, name="statement_list"),
    path("<int:pk>/", views.statement_detail, name="statement_detail"),
    path("<int:pk>/pdf/", views.statement_download, name="statement_pdf"),
    re_path(r"^(?P<pk>\d+)/export\.(?P<fmt>csv|json)$", views.statement_export, name="statement_export"),
    re_path(r"^ledger/(?P<month>\d{4}-\d{2})\.(?P<fmt>csv|json)$", views.ledger_export, name="ledger_export"),
]
