from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from tenants.forms import PreferenceForm, SignInForm
from tenants.models import UserPreference
from tenants.selectors import projects_visible_to, user_is_finance, user_is_rate_admin
from tenants.services import user_preference_set


class SignInView(auth_views.LoginView):
    form_class = SignInForm
    redirect_authenticated_user = True


@login_required
def home(request):
    """Each role lands where its work is."""
    if user_is_finance(request.user):
        return redirect("portal:close")
    if user_is_rate_admin(request.user):
        return redirect("portal:rate_cards")
    projects = list(projects_visible_to(request.user).order_by("name")[:2])
    if len(projects) == 1:
        return redirect("portal:project_dashboard", pk=projects[0].pk)
    return redirect("portal:project_list")


@login_required
def preferences(request):
    pref = UserPreference.objects.filter(user=request.user).first()
    initial = {
        "time_zone": pref.time_zone if pref else settings.TIME_ZONE,
        "locale": pref.locale if pref else settings.TALLY_LOCALE,
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        user_preference_set(user=request.user, **form.cleaned_data)
        messages.success(request, "Preferences saved.")
        return redirect("preferences")
    return render(request, "tenants/preferences.html", {"form": form})
