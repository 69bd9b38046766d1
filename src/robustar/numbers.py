"""Numbers as JSON Schema reads them, for models that clients fill from JSON: 2.0 is the
integer 2, and true is no number. (Pydantic's default would take true for 1; its strict mode
would refuse 2.0.)"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator


def _not_a_bool(value: object) -> object:
    if isinstance(value, bool):
        raise ValueError("expected a number, not true or false")
    return value


# After any Field(...) constraints: `Annotated[int, Field(ge=1), NOT_BOOL]` (placed before them,
# the constraints would leave the JSON schema as unknown keys).
NOT_BOOL = BeforeValidator(_not_a_bool)
JsonInt = Annotated[int, NOT_BOOL]
JsonFloat = Annotated[float, NOT_BOOL]
