"""Domain errors raised by services; the API maps them to Lago error shapes."""

from collections.abc import Mapping


class BillingError(Exception):
    """Base class of every error a service raises on purpose."""


class ValidationFailed(BillingError):
    """Input is invalid: a mapping of field name to a list of reason codes (Lago's codes), or,
    for batches, of item index to such a mapping."""

    def __init__(self, errors: Mapping[str, list[str] | str | dict]):
        self.errors = {
            field: codes if isinstance(codes, dict) else _as_list(codes)
            for field, codes in errors.items()
        }
        super().__init__(self.errors)


class NotFound(BillingError):
    """A referenced object does not exist; `resource` names it (customer, plan, ...)."""

    def __init__(self, resource: str):
        self.resource = resource
        super().__init__(f"{resource}_not_found")

    @property
    def code(self) -> str:
        return f"{self.resource}_not_found"


class RuleViolation(BillingError):
    """The input is well-formed but a business rule forbids the operation."""

    def __init__(self, code: str, message: str = ""):
        self.code = code
        self.message = message or code
        super().__init__(f"{code}: {self.message}")


class NotAllowed(RuleViolation):
    """The operation cannot run in the object's present state (Lago's not_allowed_failure):
    the API answers 405 with the code."""

    status = 405


def _as_list(codes) -> list[str]:
    return [codes] if isinstance(codes, str) else list(codes)
