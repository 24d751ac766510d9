from __future__ import annotations

from django.contrib import admin

from billing.models import Statement, StatementLine


class LineInline(admin.TabularInline):
    model = StatementLine
    extra = 0
    can_delete = False


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["number", "account_name", "period_start", "status", "total", "currency"]
    list_filter = ["status", "period_start"]
    inlines = [LineInline]
