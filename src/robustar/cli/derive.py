"""Command flags derived from their one source: a pydantic model's fields (`Fields`) and a
registry's names (`OneOf`), read each time typer builds the command, so a field added to
`TrainOptions` or a method registered by decorator has its flag, help and choices at once.

`derived(function)` wraps a command: a parameter annotated `Annotated[dict, Fields(Model)]`
becomes one option per field (name, type, default, description and choices from the model's
JSON schema) and the command receives the values given, as a dict; a parameter annotated
`Annotated[str, OneOf(REGISTRY, help)]` becomes an option whose choices are the names
registered then.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

import typer
from pydantic import BaseModel

from robustar.registry import Registry, describe_fields

_TYPES = {"integer": int, "number": float, "boolean": bool, "string": str}


@dataclass(frozen=True)
class Fields:
    """One flag per field of `model`; `flags` renames some (default: --field-name)."""

    model: type[BaseModel]
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class OneOf:
    """An option whose value is one of the registry's names."""

    registry: Registry[Any]
    help: str


def field_parameters(spec: Fields) -> list[inspect.Parameter]:
    """The typer options of a model's fields, in the model's order."""
    parameters = []
    for option in describe_fields(spec.model):
        default = spec.model.model_fields[option.name].get_default(call_default_factory=True)
        kind: Any = _TYPES[option.type]
        if option.choices:
            kind = Literal[tuple(option.choices)]
        if default is None:
            kind = kind | None
        flags = spec.flags.get(option.name, ())
        parameters.append(
            inspect.Parameter(
                option.name,
                inspect.Parameter.KEYWORD_ONLY,
                annotation=Annotated[kind, typer.Option(*flags, help=option.description)],
                default=default,
            )
        )
    return parameters


def _one_of(parameter: inspect.Parameter, spec: OneOf) -> inspect.Parameter:
    names = tuple(spec.registry.names())
    option = typer.Option(help=spec.help)
    return parameter.replace(
        kind=inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[Literal[names], option],
    )


def _marker(annotation: Any) -> Fields | OneOf | None:
    if get_origin(annotation) is Annotated:
        found = [m for m in get_args(annotation)[1:] if isinstance(m, Fields | OneOf)]
        return found[0] if found else None
    return None


class derived:
    """A command whose signature typer reads when it builds the command (each run)."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function = function
        self.__name__ = function.__name__
        self.__qualname__ = function.__qualname__
        self.__module__ = function.__module__
        self.__doc__ = function.__doc__

    @property
    def __signature__(self) -> inspect.Signature:
        parameters: list[inspect.Parameter] = []
        for parameter in inspect.signature(self.function, eval_str=True).parameters.values():
            marker = _marker(parameter.annotation)
            if isinstance(marker, Fields):
                parameters += field_parameters(marker)
            elif isinstance(marker, OneOf):
                parameters.append(_one_of(parameter, marker))
            else:
                parameters.append(parameter.replace(kind=inspect.Parameter.KEYWORD_ONLY))
        return inspect.Signature(parameters)

    @property
    def __annotations__(self) -> dict[str, Any]:  # type: ignore[override]
        return {p.name: p.annotation for p in self.__signature__.parameters.values()}

    def __call__(self, **values: Any) -> Any:
        arguments = {}
        for parameter in inspect.signature(self.function, eval_str=True).parameters.values():
            marker = _marker(parameter.annotation)
            if isinstance(marker, Fields):
                given = {n: values.pop(n) for n in marker.model.model_fields if n in values}
                arguments[parameter.name] = {n: v for n, v in given.items() if v is not None}
            else:
                arguments[parameter.name] = values.pop(parameter.name)
        return self.function(**arguments)
