"""Admin actions that run as bulk jobs: a confirmation page first, then a job and its page."""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse

from core import roles
from core.bulk import bulk_job_start


def bulk_action(kind: str, description: str, consequence: str, ids_of=None):
    """An admin action starting a `kind` job over the selected rows (`ids_of(queryset)` maps
    them to the items' ids, e.g. payments to their invoices)."""

    def action(modeladmin, request, queryset):
        if not request.user.has_perm(roles.BULK_ACTIONS):
            raise PermissionDenied
        ids = list(ids_of(queryset) if ids_of else queryset.values_list("pk", flat=True))
        if request.POST.get("post") != "yes":
            context = {
                **modeladmin.admin_site.each_context(request),
                "opts": modeladmin.model._meta,
                "title": f"{description}?",
                "consequence": consequence,
                "count": len(ids),
                "queryset": queryset[:50],
                "action": request.POST.get("action"),
                "selected": request.POST.getlist("_selected_action"),
            }
            return TemplateResponse(request, "admin/bulk_confirm.html", context)
        job = bulk_job_start(kind=kind, object_ids=ids, created_by=request.user.get_username())
        return redirect(reverse("admin:core_bulkjob_change", args=[job.pk]))

    action.__name__ = f"bulk_{kind}"
    action.short_description = description
    return action
