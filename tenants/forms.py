from __future__ import annotations

import zoneinfo

from babel import Locale, UnknownLocaleError
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.forms import AuthenticationForm


class SignInForm(AuthenticationForm):
    """User name and password, plus a Keystone domain for OpenStack users (empty: a Tally account)."""

    domain = forms.CharField(max_length=255, required=False, label="Domain")

    def clean(self):
        username, password = self.cleaned_data.get("username"), self.cleaned_data.get("password")
        domain = (self.cleaned_data.get("domain") or "").strip()
        if username is not None and password:
            kwargs = {"domain": domain} if domain else {}
            self.user_cache = authenticate(self.request, username=username, password=password, **kwargs)
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data

    @property
    def keystone_enabled(self) -> bool:
        return bool(settings.TALLY_KEYSTONE_URL)


def _zones() -> list[tuple[str, str]]:
    return [(z, z) for z in sorted(zoneinfo.available_timezones()) if "/" in z or z == "UTC"]


class PreferenceForm(forms.Form):
    time_zone = forms.ChoiceField(choices=_zones, label="Time zone")
    locale = forms.CharField(max_length=16, label="Number format (locale, e.g. en_US, de_DE, fr_CH)")

    def clean_locale(self) -> str:
        value = self.cleaned_data["locale"].strip().replace("-", "_")
        try:
            Locale.parse(value)
        except (UnknownLocaleError, ValueError):
            raise forms.ValidationError(f"{value} is not a locale Tally knows, try en_US or de_DE.") from None
        return value
