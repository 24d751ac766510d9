from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.views.generic import RedirectView

from tenants import views as tenant_views

urlpatterns = [
    path("", tenant_views.home, name="home"),
    path("login/", tenant_views.SignInView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("preferences/", tenant_views.preferences, name="preferences"),
    path("statements/", include("billing.urls")),
    path("api/rating/", include("rating.urls")),
    path("", include("billing.portal.urls")),
    path("admin/", admin.site.urls),
    # Browsers ask for /favicon.ico on pages without a <link rel=icon> (Django's admin).
    path("favicon.ico", RedirectView.as_view(url=static("tally/favicon.svg"), permanent=True)),
]
