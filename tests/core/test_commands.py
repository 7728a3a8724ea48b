"""Management commands used by make run: superuser bootstrap and the demo loader."""

from django.contrib.auth import get_user_model
from django.core.management import call_command

from core.models import ApiKey


def test_ensure_superuser_creates_once_and_prints_password(db, capsys):
    call_command("ensure_superuser")
    out = capsys.readouterr().out
    assert "username: admin" in out
    password = out.split("password: ")[1].split()[0]
    assert get_user_model().objects.get(username="admin").check_password(password)
    call_command("ensure_superuser")
    assert "nothing to do" in capsys.readouterr().out
    assert get_user_model().objects.filter(is_superuser=True).count() == 1


def test_load_demo_is_idempotent(db, capsys):
    call_command("load_demo")
    first = capsys.readouterr().out
    assert "Demo API key (shown once)" in first
    call_command("load_demo")
    assert "exists" in capsys.readouterr().out
    assert ApiKey.objects.filter(name="demo").count() == 1
