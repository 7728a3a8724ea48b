"""Tasks act as themselves in the audit trail ("task:<name>"), unless they run inline for a
request or another actor (eager mode), which then stays the author."""

from celery.signals import task_postrun, task_prerun

from core.auditing import SYSTEM, Actor, current_actor, reset_actor, set_actor

_tokens = {}


@task_prerun.connect(dispatch_uid="audit-task-prerun")
def _task_started(task_id=None, task=None, **kwargs):
    if current_actor() == SYSTEM:
        _tokens[task_id] = set_actor(Actor(f"task:{task.name}", "task"))


@task_postrun.connect(dispatch_uid="audit-task-postrun")
def _task_ended(task_id=None, **kwargs):
    token = _tokens.pop(task_id, None)
    if token is not None:
        reset_actor(token)
