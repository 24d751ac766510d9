from __future__ import annotations

from django.urls import path

from billing.portal import finance, owner, quote, rates

app_name = "portal"
urlpatterns = [
    path("projects/", owner.project_list, name="project_list"),
    path("projects/<int:pk>/", owner.project_dashboard, name="project_dashboard"),
    path("projects/<int:pk>/costs.json", owner.project_costs_json, name="project_costs_json"),
    path("projects/<int:pk>/usage/", owner.usage_explorer, name="usage_explorer"),
    path("quote/", quote.quote, name="quote"),
    path("finance/close/", finance.close, name="close"),
    path("finance/close/run/", finance.close_run, name="close_run"),
    path("finance/close/runs/<int:run_id>.json", finance.close_progress_json, name="close_progress"),
    path("finance/statements/", finance.statement_search, name="statement_search"),
    path("finance/accounts/", finance.accounts, name="accounts"),
    path("finance/accounts/<int:pk>/", finance.account_edit, name="account_edit"),
    path("rates/", rates.rate_cards, name="rate_cards"),
    path("rates/versions/<int:pk>/", rates.rate_card_version, name="rate_card_version"),
    path("rates/versions/<int:pk>/publish/", rates.rate_card_version_publish_view, name="rate_card_version_publish"),
    path("rates/<int:pk>/new/", rates.rate_card_new_version, name="rate_card_new_version"),
    path("sources/", rates.sources, name="sources"),
    path("audit/", rates.audit, name="audit"),
]
