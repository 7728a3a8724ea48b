"""core.hooks: the declared way a lower layer starts a higher layer's work."""

import pytest

from core import hooks


@pytest.fixture
def declared():
    hooks.declare("test.happened", "a test hook: value")
    yield "test.happened"
    hooks.HOOKS.pop("test.happened")
    hooks._receivers.pop("test.happened", None)


def test_receivers_run_in_registration_order_with_the_callers_arguments(declared):
    hooks.register(declared, lambda value: ("first", value))
    hooks.register(declared, lambda value: ("second", value * 2))
    assert hooks.run(declared, value=21) == [("first", 21), ("second", 42)]


def test_a_receiver_registered_twice_runs_once(declared):
    def receiver(value):
        return value

    hooks.register(declared, receiver)
    hooks.register(declared, receiver)
    assert hooks.run(declared, value=1) == [1]


def test_a_hook_without_receivers_runs_nothing(declared):
    assert hooks.run(declared, value=1) == []


def test_an_undeclared_name_is_refused_when_registering_and_running():
    with pytest.raises(hooks.UnknownHook):
        hooks.register("no.such.hook", print)
    with pytest.raises(hooks.UnknownHook):
        hooks.run("no.such.hook")
