"""Spend forecasts, budgets and alerts. `stats` is pure statistics (no Django); the rest is the app."""
