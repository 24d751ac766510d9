from __future__ import annotations

from django.contrib import admin

from tenants.models import BillingAccount, Domain, Project, ProjectMembership

admin.site.register(Domain)
admin.site.register(BillingAccount)
admin.site.register(Project)
admin.site.register(ProjectMembership)
