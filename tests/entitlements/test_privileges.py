"""plans/privileges.py: Lago's value rules per type, config rules, storage and casting."""

import pytest

from plans import privileges as rules

SELECT = {"select_options": ["google", "okta"]}


@pytest.mark.parametrize(
    ("value_type", "value", "error"),
    [
        ("integer", 10, None),
        ("integer", -3, None),
        ("integer", "42", None),
        ("integer", "-42", None),
        ("integer", "042", "value_is_invalid"),
        ("integer", "+4", "value_is_invalid"),
        ("integer", " 4", "value_is_invalid"),
        ("integer", "٣", "value_is_invalid"),  # a non-ASCII digit
        ("integer", 1.0, "value_is_invalid"),
        ("integer", False, "value_is_invalid"),
        ("boolean", True, None),
        ("boolean", "false", None),
        ("boolean", 0, "value_is_invalid"),
        ("boolean", "TRUE", "value_is_invalid"),
        ("string", "", None),
        ("string", 3, "value_is_invalid"),
        ("select", "okta", None),
        ("select", "azure", "value_not_in_select_options"),
        ("select", ["okta"], "value_not_in_select_options"),
        ("string", None, "value_is_mandatory"),
    ],
)
def test_value_rules(value_type, value, error):
    assert rules.value_error(value_type, SELECT, value) == error


@pytest.mark.parametrize(
    ("value_type", "config", "valid"),
    [
        ("select", SELECT, True),
        ("select", {}, False),
        ("select", {"select_options": ["a"], "other": 1}, False),
        ("integer", {}, True),
        ("integer", None, True),
        ("string", SELECT, False),
    ],
)
def test_config_rules(value_type, config, valid):
    assert rules.config_valid(value_type, config) is valid


def test_stored_as_text_and_cast_back():
    assert [rules.stored(v) for v in (True, False, 10, "okta")] == ["true", "false", "10", "okta"]
    assert rules.cast("10", "integer") == 10
    assert rules.cast("false", "boolean") is False
    assert rules.cast("true", "boolean") is True
    assert rules.cast(None, "integer") is None
    assert rules.same("integer", "10", 10) and rules.same("boolean", True, "true")
    assert not rules.same("string", "10", "010")
