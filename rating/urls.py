from __future__ import annotations

from django.urls import path

from rating import views

app_name = "rating"
urlpatterns = [path("quote/", views.quote, name="quote")]
