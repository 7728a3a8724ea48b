"""The audit trail: one call records who changed which fields of what."""

from core.models import AuditEntry


def field_changes(before: dict, after: dict) -> dict:
    """{field: [before, after]} for the fields whose value changed."""
    return {
        key: [before.get(key), after.get(key)]
        for key in sorted(set(before) | set(after))
        if before.get(key) != after.get(key)
    }


def audit_record(
    *, actor: str, action: str, obj, changes: dict | None = None, object_type: str = ""
) -> AuditEntry:
    object_id = getattr(obj, "lago_id", None) or obj.pk
    return AuditEntry.objects.create(
        actor=actor[:255],
        action=action,
        object_type=object_type or obj._meta.model_name,
        object_id=str(object_id),
        object_repr=str(obj)[:255],
        changes=changes or {},
    )
