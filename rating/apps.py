from __future__ import annotations

from django.apps import AppConfig


class RatingConfig(AppConfig):
    name = "rating"
