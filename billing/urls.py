from __future__ import annotations

from django.urls import path

from billing import views

app_name = "billing"
urlpatterns = [
    path("", views.statement_list, name="statement_list"),
    path("<int:pk>/", views.statement_detail, name="statement_detail"),
    path("<int:pk>/pdf/", views.statement_download, name="statement_pdf"),
]
