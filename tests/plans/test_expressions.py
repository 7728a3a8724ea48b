"""plans/expressions.py: Lago's expression language, by hand-computed table, errors and fuzz."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from plans import expressions
from plans.expressions import EvaluationError, ParseError, format_result, parse, validate

EVENT = {
    "code": "storage",
    "timestamp": 1_700_000_000,
    "properties": {
        "seconds": 5400,
        "half": "2.5",
        "neg_half": -2.5,
        "gb": 10,
        "price": 1.23,
        "user": "u-1",
        "app": "app7",
        "zero": 0,
        "flag": True,
        "nothing": None,
        "long_id": "1" * 70,
    },
}


def run(text: str) -> str:
    return format_result(parse(text).evaluate(**EVENT))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the example: 5400 s = 1.5 h, half-up → 2
        ("round(event.properties.seconds / 3600)", "2.0"),
        ("event.properties.seconds / 3600", "1.5"),
        # precedence, associativity, unary minus, parentheses
        ("1 + 2 * 3", "7.0"),
        ("(1 + 2) * 3", "9.0"),
        ("10 - 4 - 3", "3.0"),
        ("64 / 4 / 2", "8.0"),
        ("-2 * 3", "-6.0"),
        ("1 - -1", "2.0"),
        ("-(2 - 5)", "3.0"),
        ("0.1 + 0.2", "0.3"),  # decimal, not binary floating point
        ("1.50 * 2", "3.0"),
        ("10 / 4", "2.5"),
        ("2 / 3 * 3", "2.0"),  # 0.666…(100 digits) x 3 = 1.999…, rendered to 100 digits → 2
        # half-way rounding: half away from zero (Lago's RoundingMode::HalfUp)
        ("round(2.5)", "3.0"),
        ("round(3.5)", "4.0"),
        ("round(-2.5)", "-3.0"),
        ("round(event.properties.half)", "3.0"),
        ("round(event.properties.neg_half)", "-3.0"),
        ("round(2.45, 1)", "2.5"),
        ("round(2.449, 1)", "2.4"),
        ("round(1234.5678, 2)", "1234.57"),
        ("round(1250, -2)", "1300.0"),
        ("round(1249, -2)", "1200.0"),
        ("round(-0.4)", "0.0"),  # no negative zero
        ("round(7, 3)", "7.0"),
        ("round(7.25, 1.9)", "7.3"),  # digits toward zero: 1
        ("ceil(12.01)", "13.0"),
        ("ceil(-12.99)", "-12.0"),
        ("ceil(12.351, 1)", "12.4"),
        ("ceil(1201, -2)", "1300.0"),
        ("floor(12.99)", "12.0"),
        ("floor(-12.01)", "-13.0"),
        ("floor(12.351, 1)", "12.3"),
        # every spelling Lago's grammar accepts
        ("ROUND(2.4)", "2.0"),
        ("Round(2.6)", "3.0"),
        ("CEIL(0.1)", "1.0"),
        ("Floor(0.9)", "0.0"),
        ("least(3, 1, 2)", "1.0"),
        ("LEAST(event.properties.gb, 5.0)", "5.0"),
        ("greatest(event.properties.gb, 15)", "15.0"),
        ("Greatest(-1)", "-1.0"),
        # event attributes
        ("event.timestamp", "1700000000.0"),
        ("event.timestamp - 1699999000", "1000.0"),
        ("event.code", "storage"),
        ("event.properties.price * 100", "123.0"),
        ("(123 - event.properties.price) / 10", "12.177"),  # Lago's own spec example
        # text
        ("'hello'", "hello"),
        ("concat(event.properties.user, '-', event.properties.app)", "u-1-app7"),
        ("CONCAT(event.properties.price, 'test')", "1.23test"),
        ("concat(event.code, ':', 1.50, ':', 2 * 2)", "storage:1.50:4"),
        ("concat(event.properties.flag, event.properties.nothing)", "true"),
        ("concat(event.properties.long_id)", "1" * 70),  # too long to be a number: text
        ("  round ( 2.5 )  ", "3.0"),  # spaces anywhere between tokens
    ],
)
def test_expression_values(text, expected):
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1 / 0", expressions.DIVISION_BY_ZERO),
        ("event.properties.gb / event.properties.zero", expressions.DIVISION_BY_ZERO),
        ("event.properties.gb / (1 - 1)", expressions.DIVISION_BY_ZERO),
        ("event.properties.missing + 1", expressions.VARIABLE_NOT_FOUND),
        ("event.properties.user + 1", expressions.EXPECTED_DECIMAL),
        ("event.code * 2", expressions.EXPECTED_DECIMAL),
        ("-'a'", expressions.EXPECTED_DECIMAL),
        ("round('a')", expressions.EXPECTED_DECIMAL),
        ("round(1, 'a')", expressions.EXPECTED_DECIMAL),
        ("least(1, event.properties.user)", expressions.EXPECTED_DECIMAL),
        ("concat(event.properties.long_id) * 1", expressions.EXPECTED_DECIMAL),
        ("round(1, 101)", expressions.OUT_OF_RANGE),
        ("round(1, -101)", expressions.OUT_OF_RANGE),
        (" * ".join(["ceil(1, -100)"] * 11), expressions.OUT_OF_RANGE),  # 10^1100
    ],
)
def test_evaluation_errors(text, code):
    with pytest.raises(EvaluationError) as caught:
        parse(text).evaluate(**EVENT)
    assert caught.value.code == code
    if code == expressions.VARIABLE_NOT_FOUND:
        assert caught.value.name == "missing"


def test_big_numbers_below_the_bound_are_fine():
    big = "9" * 300
    assert parse(" * ".join([big] * 3)).evaluate(**EVENT) > 10**899
    assert run(" * ".join(["ceil(1, -100)"] * 9)) == "1" + "0" * 900 + ".0"
    nested = "round(" * 30 + big + ", -100)" * 30
    assert len(nested) <= expressions.MAX_LENGTH
    assert parse(nested).evaluate(**EVENT) == Decimal(10) ** 300


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "1 +",
        "+ 1",
        "--1",
        "1.",
        ".5",
        "1e5",
        "1.5.2",
        "1 2",
        "round()",
        "round(1, 2, 3)",
        "ceil(1, 2, 3)",
        "floor(1, 2, 3)",
        "concat()",
        "least()",
        "rOUND(1)",
        "sqrt(4)",
        "min(1, 2)",
        "max(1, 2)",
        "abs(1)",
        "event.properties._x",
        "event.properties.1x",
        "event.properties.a.b",
        "event.properties.",
        "event.property.x",
        "event.codex",
        "event . code",
        "event.code(1)",
        "'unterminated",
        "concat('it''s')",  # no escapes: two strings side by side
        '"double"',
        "1 +\t2",
        "1\n+ 2",
        "(1",
        "1)",
        "round(1,)",
        "1 % 2",
        "2 ** 3",
        "__import__('os')",
        "١٢",  # Arabic-Indic digits: ASCII only
        "(" * 33 + "1" + ")" * 33,
        "-(" * 20 + "1" + ")" * 20,
        "1 + " * 400 + "1",
    ],
)
def test_invalid_expressions(text):
    assert validate(text) is not None
    with pytest.raises(ParseError) as caught:
        parse(text)
    assert caught.value.code == expressions.INVALID_EXPRESSION


def test_limits_still_allow_long_flat_expressions():
    assert run("+".join(["1"] * 500)) == "500.0"  # a flat chain costs no depth
    assert run("(" * 32 + "1" + ")" * 32) == "1.0"
    assert validate(" " * 1001) is not None


def test_text_that_reads_as_a_number_is_a_number():
    props = {"a": "12.34", "b": "+1", "c": "1e3", "d": "12 ", "e": "NaN", "f": "1_000"}
    event = {"code": "c", "timestamp": 0, "properties": props}
    assert parse("event.properties.a * 2").evaluate(**event) == Decimal("24.68")
    assert parse("event.properties.b + event.properties.c").evaluate(**event) == 1001
    for name in ("d", "e", "f"):  # Decimal() would read these; Lago's BigDecimal does not
        assert parse(f"event.properties.{name}").evaluate(**event) == props[name]


# --- fuzz ----------------------------------------------------------------------------------

ALPHABET = st.sampled_from(
    [*"0123456789.+-*/(), '_abcxyz\t\n", "event.", "properties.", "round", "CONCAT", "ceil"]
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=120), st.lists(ALPHABET, max_size=60).map("".join)))
def test_parser_never_crashes(text):
    """Arbitrary text: an Expression or ParseError, nothing else; evaluation of whatever parses
    gives a number, text or EvaluationError."""
    try:
        parsed = parse(text)
    except ParseError as exc:
        assert exc.code == expressions.INVALID_EXPRESSION
        return
    try:
        value = parsed.evaluate(**EVENT)
    except EvaluationError as exc:
        assert exc.code in {
            expressions.DIVISION_BY_ZERO,
            expressions.VARIABLE_NOT_FOUND,
            expressions.EXPECTED_DECIMAL,
            expressions.OUT_OF_RANGE,
        }
        return
    assert isinstance(format_result(value), str)


numbers = st.decimals(
    min_value=-(10**6), max_value=10**6, allow_nan=False, allow_infinity=False, places=3
)


def literal(value: Decimal) -> str:
    text = format(abs(value), "f")
    return f"-{text}" if value < 0 else text


@st.composite
def arithmetic(draw, depth=0):
    """A random well-formed expression and its value computed independently with Decimal."""
    if depth > 3 or draw(st.booleans()):
        value = draw(numbers)
        return literal(value), value
    left_text, left = draw(arithmetic(depth=depth + 1))
    right_text, right = draw(arithmetic(depth=depth + 1))
    op = draw(st.sampled_from(["+", "-", "*", "max", "min"]))
    if op == "max":
        return f"greatest({left_text}, {right_text})", max(left, right)
    if op == "min":
        return f"LEAST({left_text}, {right_text})", min(left, right)
    value = {"+": left + right, "-": left - right, "*": left * right}[op]
    return f"({left_text} {op} {right_text})", value


@settings(max_examples=200, deadline=None)
@given(arithmetic())
def test_generated_arithmetic_matches_decimal(case):
    text, expected = case
    assert parse(text).evaluate(**EVENT) == expected


def test_numbers_no_json_can_carry_are_out_of_range_not_a_crash():
    for value in (10**70, float("inf"), float("nan")):
        event = {"code": "c", "timestamp": 0, "properties": {"x": value}}
        with pytest.raises(EvaluationError) as caught:
            parse("event.properties.x").evaluate(**event)
        assert caught.value.code == expressions.OUT_OF_RANGE
