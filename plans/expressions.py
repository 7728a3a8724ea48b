"""Billable-metric expressions, Lago's language (getlago/lago-expression), parsed and evaluated
here without `eval`: a tokenizer, a recursive-descent parser and a tree walker over Decimals.

Pure on purpose (stdlib only, like pricing.py): the API validates with it, ingestion evaluates
it per event and stores the result in the event's properties under the metric's field_name.

The language, exactly as Lago's grammar (expression-core/src/grammar.pest) defines it:

- atoms: decimal literals (`12`, `0.5`; no exponent, no leading or trailing dot), strings in
  single quotes (no escapes), `event.code`, `event.timestamp` (Unix seconds, an integer) and
  `event.properties.NAME` (NAME: an ASCII letter, then letters, digits or `_`);
- operators `+ - * /` (left-associative, `*` `/` before `+` `-`), a unary minus in front of an
  atom, parentheses;
- functions, spelled lower case, upper case or capitalised (`round`, `ROUND`, `Round`):
  `round(x[, digits])` (half away from zero), `ceil(x[, digits])`, `floor(x[, digits])`
  (digits may be negative: `round(1234, -2)` = 1200), `concat(a, ...)` (text),
  `least(a, ...)`, `greatest(a, ...)`;
- spaces between tokens (only spaces: Lago's grammar knows no tabs or newlines).

Values are numbers or text. A property that is a number, or text that reads as one, is a
number; other text stays text. Arithmetic, rounding, least and greatest need numbers
(`expected_decimal` otherwise); concat writes numbers in plain notation.

Not as Lago: division by zero is an error (`division_by_zero`; Lago's Rust library panics),
numbers carry 100 significant digits (Lago's BigDecimal division keeps 100; its other
operations are exact) below 10^1000 (`value_is_out_of_range` beyond), rounding digits are
limited to -100..100, and an expression is limited
to MAX_LENGTH characters and MAX_DEPTH nested parentheses, calls or minus signs.
"""

import decimal
import json
import math
import re
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal

MAX_LENGTH = 1000  # characters of an expression
MAX_DEPTH = 32  # nested parentheses, function calls and unary minus signs
MAX_DIGITS_ARGUMENT = 100  # |digits| of round/ceil/floor
PRECISION = 100  # significant digits of every result
MAX_NUMBER_TEXT = 64  # a property text longer than this stays text
MAX_EXPONENT_DIGITS = 4  # "1e12345" stays text

INVALID_EXPRESSION = "invalid_expression"
EXPECTED_DECIMAL = "expected_decimal"
VARIABLE_NOT_FOUND = "variable_not_found"
DIVISION_BY_ZERO = "division_by_zero"
OUT_OF_RANGE = "value_is_out_of_range"

_CONTEXT = decimal.Context(
    prec=PRECISION,
    rounding=decimal.ROUND_HALF_EVEN,
    Emax=1_000,
    Emin=-1_000,
    traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow],
)

_FUNCTIONS = {
    spelling: name
    for name in ("ceil", "concat", "round", "floor", "least", "greatest")
    for spelling in (name, name.upper(), name.capitalize())
}
_ROUNDING = {"round": ROUND_HALF_UP, "ceil": ROUND_CEILING, "floor": ROUND_FLOOR}
_PROPERTY_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_WORD = re.compile(r"[A-Za-z0-9_.]+")
_DECIMAL_LITERAL = re.compile(r"[0-9]+(?:\.[0-9]+)?")
# A property's text that reads as a number (ASCII only: Decimal() takes far more).
_NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?([0-9]+))?")


class ExpressionError(ValueError):
    """A refused expression or a failed evaluation: `code` is the reason, `detail` a message."""

    code = INVALID_EXPRESSION

    def __init__(self, detail: str, code: str | None = None, name: str | None = None):
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.name = name  # the missing property, for VARIABLE_NOT_FOUND


class ParseError(ExpressionError):
    """The text is not an expression (Lago: `invalid_expression`)."""


class EvaluationError(ExpressionError):
    """The expression cannot be evaluated on this event (Lago: expression_evaluation_failed)."""


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Number:
    value: Decimal


@dataclass(frozen=True)
class Text:
    value: str


@dataclass(frozen=True)
class Attribute:
    kind: str  # "code", "timestamp" or "properties"
    name: str = ""


@dataclass(frozen=True)
class Negate:
    operand: object


@dataclass(frozen=True)
class Chain:
    """`first op operand op operand ...` of one precedence level, evaluated left to right (a
    flat list, so `1+1+...+1` costs no recursion depth)."""

    first: object
    rest: tuple  # ((op, node), ...)


@dataclass(frozen=True)
class Call:
    function: str  # lower case
    args: tuple


@dataclass(frozen=True)
class Expression:
    """A parsed expression: `evaluate(...)` it on one event."""

    text: str
    root: object

    def evaluate(self, *, code: str, timestamp: int, properties: dict) -> Decimal | str:
        return _evaluate(self.root, _Event(code, timestamp, properties))


# --- tokens ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: str  # "number", "text", "attribute", "function", or the symbol itself
    value: object
    position: int


def _tokens(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    position, length = 0, len(text)
    while position < length:
        char = text[position]
        if char == " ":
            position += 1
        elif char in "+-*/(),":
            tokens.append(_Token(char, char, position))
            position += 1
        elif char == "'":
            end = text.find("'", position + 1)
            if end < 0:
                raise ParseError(f"unterminated string at {position}")
            tokens.append(_Token("text", text[position + 1 : end], position))
            position = end + 1
        elif "0" <= char <= "9":
            match = _DECIMAL_LITERAL.match(text, position)
            tokens.append(_Token("number", Decimal(match.group()), position))
            position = match.end()
        elif ("a" <= char <= "z") or ("A" <= char <= "Z"):
            word = _WORD.match(text, position).group()
            tokens.append(_word_token(word, position))
            position += len(word)
        else:
            raise ParseError(f"unexpected character at {position}")
    return tokens


def _word_token(word: str, position: int) -> _Token:
    if word in _FUNCTIONS:
        return _Token("function", _FUNCTIONS[word], position)
    if word == "event.code":
        return _Token("attribute", Attribute("code"), position)
    if word == "event.timestamp":
        return _Token("attribute", Attribute("timestamp"), position)
    prefix = "event.properties."
    if word.startswith(prefix) and _PROPERTY_NAME.fullmatch(word[len(prefix) :]):
        return _Token("attribute", Attribute("properties", word[len(prefix) :]), position)
    raise ParseError(f"unknown name at {position}")


# --- the parser -----------------------------------------------------------------------------


class _Parser:
    """expr := term (('+'|'-') term)* ; term := atom (('*'|'/') atom)* ;
    atom := '-'? primary ; primary := number | text | attribute | call | '(' expr ')'."""

    def __init__(self, tokens: list[_Token], length: int):
        self.tokens = tokens
        self.index = 0
        self.depth = 0
        self.length = length

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, kind: str) -> _Token:
        token = self.peek()
        if token is None or token.kind != kind:
            where = token.position if token else self.length
            raise ParseError(f"expected {kind!r} at {where}")
        self.index += 1
        return token

    def nested(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise ParseError(f"nested more than {MAX_DEPTH} levels deep")

    def expression(self):
        return self.chain(("+", "-"), self.term)

    def term(self):
        return self.chain(("*", "/"), self.atom)

    def chain(self, operators: tuple, operand):
        first = operand()
        rest = []
        while (token := self.peek()) is not None and token.kind in operators:
            self.index += 1
            rest.append((token.kind, operand()))
        return Chain(first, tuple(rest)) if rest else first

    def atom(self):
        token = self.peek()
        if token is not None and token.kind == "-":
            self.index += 1
            self.nested()
            node = Negate(self.primary())
            self.depth -= 1
            return node
        return self.primary()

    def primary(self):
        token = self.peek()
        if token is None:
            raise ParseError(f"expected a value at {self.length}")
        self.index += 1
        if token.kind == "number":
            return Number(token.value)
        if token.kind == "text":
            return Text(token.value)
        if token.kind == "attribute":
            return token.value
        if token.kind == "(":
            self.nested()
            node = self.expression()
            self.take(")")
            self.depth -= 1
            return node
        if token.kind == "function":
            return self.call(token)
        raise ParseError(f"expected a value at {token.position}")

    def call(self, token: _Token):
        self.nested()
        self.take("(")
        args = [self.expression()]
        while (comma := self.peek()) is not None and comma.kind == ",":
            self.index += 1
            args.append(self.expression())
        self.take(")")
        self.depth -= 1
        if token.value in _ROUNDING and len(args) > 2:
            raise ParseError(f"{token.value} takes 1 or 2 arguments, {len(args)} given")
        return Call(token.value, tuple(args))


def parse(text: str) -> Expression:
    """The expression, or ParseError (code `invalid_expression`). Never runs anything."""
    if not isinstance(text, str):
        raise ParseError("not a string")
    if len(text) > MAX_LENGTH:
        raise ParseError(f"longer than {MAX_LENGTH} characters")
    parser = _Parser(_tokens(text), len(text))
    root = parser.expression()
    extra = parser.peek()
    if extra is not None:
        raise ParseError(f"unexpected {extra.kind!r} at {extra.position}")
    return Expression(text, root)


def validate(text) -> str | None:
    """None when `text` parses, else the reason (Lago's ExpressionParser.validate)."""
    try:
        parse(text)
    except ParseError as exc:
        return exc.detail
    return None


def error_details(exc: ExpressionError, prefix: str, code: str) -> dict:
    """A failed evaluation as API error details: {"expression": [code, reason]}, or for a
    missing property {"expression": [code], "<prefix>properties.NAME": ["variable_not_found"]}.
    `prefix` names where the properties are ("" for an event, "event." in a request)."""
    if exc.code == VARIABLE_NOT_FOUND:
        return {"expression": [code], f"{prefix}properties.{exc.name}": [VARIABLE_NOT_FOUND]}
    return {"expression": [code, exc.code]}


# --- evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Event:
    code: str
    timestamp: int
    properties: dict


def _number(value) -> Decimal:
    if isinstance(value, str):
        raise EvaluationError("expected a number, got text", EXPECTED_DECIMAL)
    return value


def _clean(value: Decimal) -> Decimal:
    """No negative zero (Lago's BigDecimal has none)."""
    return value.copy_abs() if value.is_zero() else value


def property_value(value) -> Decimal | str:
    """What a property is to an expression: a number (a JSON number, or text that reads as
    one) or text (Lago: a Ruby value's to_s; nested objects as JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        if abs(value) >= 10**MAX_NUMBER_TEXT:  # never from JSON (64-bit at most)
            raise EvaluationError("number out of range", OUT_OF_RANGE)
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError("number out of range", OUT_OF_RANGE)
        return Decimal(repr(value))  # the shortest text that round-trips, never binary math
    if isinstance(value, Decimal):
        return value if value.is_finite() else str(value)
    if value is None:
        return ""
    if isinstance(value, str):
        return _text_value(value)
    return json.dumps(value, sort_keys=True, default=str)


def _text_value(text: str) -> Decimal | str:
    if len(text) > MAX_NUMBER_TEXT:
        return text
    match = _NUMBER_TEXT.fullmatch(text)
    if match is None or (match.group(1) and len(match.group(1)) > MAX_EXPONENT_DIGITS):
        return text
    return Decimal(text)


def _evaluate(node, event: _Event) -> Decimal | str:
    try:
        return _walk(node, event)
    except decimal.DivisionByZero as exc:
        raise EvaluationError("division by zero", DIVISION_BY_ZERO) from exc
    except (decimal.Overflow, decimal.InvalidOperation) as exc:
        raise EvaluationError("number out of range", OUT_OF_RANGE) from exc


def _walk(node, event: _Event) -> Decimal | str:
    if isinstance(node, Number | Text):
        return node.value
    if isinstance(node, Attribute):
        return _attribute(node, event)
    if isinstance(node, Negate):
        return _clean(_CONTEXT.minus(_number(_walk(node.operand, event))))
    if isinstance(node, Chain):
        result = _number(_walk(node.first, event))
        for op, operand in node.rest:
            result = _arithmetic(op, result, _number(_walk(operand, event)))
        return result
    return _call(node, event)


def _attribute(node: Attribute, event: _Event) -> Decimal | str:
    if node.kind == "code":
        return event.code
    if node.kind == "timestamp":
        return Decimal(event.timestamp)
    if node.name not in event.properties:
        raise EvaluationError(f"variable {node.name} not found", VARIABLE_NOT_FOUND, name=node.name)
    return property_value(event.properties[node.name])


def _arithmetic(op: str, left: Decimal, right: Decimal) -> Decimal:
    if op == "/" and right.is_zero():
        raise EvaluationError("division by zero", DIVISION_BY_ZERO)
    operation = {
        "+": _CONTEXT.add,
        "-": _CONTEXT.subtract,
        "*": _CONTEXT.multiply,
        "/": _CONTEXT.divide,
    }[op]
    return _clean(operation(left, right))


def _call(node: Call, event: _Event) -> Decimal | str:
    values = [_walk(arg, event) for arg in node.args]
    if node.function == "concat":
        return "".join(format_text(value) for value in values)
    if node.function in ("least", "greatest"):
        numbers = [_number(value) for value in values]
        return min(numbers) if node.function == "least" else max(numbers)
    digits = 0
    if len(values) == 2:
        digits_value = _number(values[1])
        if abs(digits_value) > MAX_DIGITS_ARGUMENT:
            raise EvaluationError(
                f"digits outside -{MAX_DIGITS_ARGUMENT}..{MAX_DIGITS_ARGUMENT}", OUT_OF_RANGE
            )
        digits = int(digits_value)  # toward zero, as Lago's to_i64
    return rounded(_number(values[0]), digits, _ROUNDING[node.function])


def rounded(value: Decimal, digits: int, rounding: str) -> Decimal:
    """`value` rounded to `digits` decimals (negative: to tens, hundreds...)."""
    if value.as_tuple().exponent >= -digits:
        return value  # no more decimals than asked for
    if not value.is_zero() and value.adjusted() + digits >= PRECISION:
        return _CONTEXT.plus(value)  # the rounded place is below the 100 digits kept
    return _clean(value.quantize(Decimal(1).scaleb(-digits), rounding=rounding, context=_CONTEXT))


def format_text(value: Decimal | str) -> str:
    """A value inside concat: text as is, a number in plain notation as written (1.50)."""
    return value if isinstance(value, str) else format(value, "f")


def format_result(value: Decimal | str) -> str:
    """A result as Lago renders its BigDecimal (Rails: plain, shortest, at least one decimal:
    "2.0", "12.177", "-0.5"); text as is."""
    if isinstance(value, str):
        return value
    text = format(_clean(value.normalize(_CONTEXT)), "f")
    return text if "." in text else f"{text}.0"
