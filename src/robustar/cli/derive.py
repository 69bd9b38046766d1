"""Command flags derived from their one source: a pydantic model's fields (`Fields`) and a
registry's names (`OneOf`), read when the command runs or shows its help, so a field added to
`TrainOptions` or a method registered by decorator has its flag, help and choices at once.

`@command(group)` registers such a command: a parameter annotated
`Annotated[dict, Fields("module:Model")]` becomes one option per field (name, type, default,
description and choices from the model's JSON schema; a required field a required option; a
list or mapping field an option taking JSON) and the command receives the values given, as a
dict; a parameter annotated `Annotated[str, OneOf("module:REGISTRY", help)]`
becomes an option whose choices are the names registered then (default `DEFAULT`: the
registry's default). Model and registry are named by import path, and the group lists the
command through a stand-in, so `robustar --help` and the other commands never import them
(their modules import torch).
"""

from __future__ import annotations

import importlib
import inspect
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, ClassVar, Literal, get_args, get_origin

import typer
from typer.core import TyperCommand
from typer.main import get_command_from_info, get_command_name
from typer.models import CommandInfo

if TYPE_CHECKING:  # pydantic's import is a third of the CLI's start-up
    from pydantic import BaseModel

    from robustar.registry import Registry

_TYPES = {"integer": int, "number": float, "boolean": bool, "string": str}
_JSON = ("array", "object")
DEFAULT = "<the registry's default>"  # a `OneOf` parameter's default: the registry's own


def _load(path: str) -> Any:
    module, _, name = path.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Fields:
    """One flag per field of the model at `path` ("module:Model"); `flags` renames some
    (default: --field-name)."""

    path: str
    flags: dict[str, tuple[str, ...]] = field(default_factory=dict)

    @property
    def model(self) -> type[BaseModel]:
        model: type[BaseModel] = _load(self.path)
        return model


@dataclass(frozen=True)
class OneOf:
    """An option whose value is one of the names of the registry at `path`."""

    path: str
    help: str

    @property
    def registry(self) -> Registry[Any]:
        registry: Registry[Any] = _load(self.path)
        return registry


def field_parameters(spec: Fields) -> list[inspect.Parameter]:
    """The typer options of a model's fields, in the model's order."""
    from robustar.registry import describe_fields

    parameters = []
    for option in describe_fields(spec.model):
        model_field = spec.model.model_fields[option.name]
        flags = spec.flags.get(option.name, ())
        default: Any = (
            inspect.Parameter.empty
            if model_field.is_required()
            else model_field.get_default(call_default_factory=True)
        )
        if option.type in _JSON:  # a list or mapping: given as JSON, left out when not given
            help = f"{option.description or option.name} (JSON)"
            typed = typer.Option(*flags, help=help, parser=_json, metavar="JSON")
            annotation: Any = Annotated[Any, typed]
            default = None
        else:
            kind: Any = _TYPES[option.type]
            if option.choices:
                kind = Literal[tuple(option.choices)]
            if default is None:
                kind = kind | None
            annotation = Annotated[kind, typer.Option(*flags, help=option.description)]
        parameters.append(
            inspect.Parameter(
                option.name, inspect.Parameter.KEYWORD_ONLY, annotation=annotation, default=default
            )
        )
    return parameters


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise typer.BadParameter(f"not JSON: {error}") from None


def _one_of(parameter: inspect.Parameter, spec: OneOf) -> inspect.Parameter:
    registry = spec.registry
    default = parameter.default
    if default == DEFAULT:
        if registry.default is None:
            raise ValueError(f"{spec.path} has no default; give {parameter.name} one")
        default = registry.default
    option = typer.Option(help=spec.help)
    return parameter.replace(
        kind=inspect.Parameter.KEYWORD_ONLY,
        annotation=Annotated[Literal[tuple(registry.names())], option],
        default=default,
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


class Deferred(TyperCommand):
    """Stands in for a derived command in its group: the group's help lists it by name and
    help alone; running it or asking for its help builds the real command (`build`)."""

    target: ClassVar[derived]

    def build(self) -> TyperCommand:
        info = CommandInfo(self.name, callback=self.target, help=self.help)
        command = get_command_from_info(
            info, pretty_exceptions_short=True, rich_markup_mode=self.rich_markup_mode
        )
        assert isinstance(command, TyperCommand)
        return command

    def make_context(self, *args: Any, **kwargs: Any) -> Any:
        """The real command's context: the group runs `context.command`, the real one."""
        return self.build().make_context(*args, **kwargs)


def _stand_in() -> None:
    """What typer builds the stand-in from: no parameters, never run."""


def command(group: typer.Typer, name: str | None = None) -> Callable[[Callable[..., Any]], derived]:
    """Register a command with derived flags on `group` (see the module's docstring)."""

    def register(function: Callable[..., Any]) -> derived:
        target = derived(function)
        stand_in = type(f"Deferred_{function.__name__}", (Deferred,), {"target": target})
        group.command(
            name or get_command_name(function.__name__),
            cls=stand_in,
            help=inspect.getdoc(function),
        )(_stand_in)
        return target

    return register
