"""Named methods registered by decorator (timm / Captum style), each with a one-line
description and its options, so the server, the CLI and the web app list them from one place.

A family (saliency methods, attribution methods, fillers, ...) is one `Registry`. An entry's
options are its target's keyword-only parameters (a function's, or a class's `__init__`), or
the pydantic model given to `register`; parameters before the `*` are what the caller
supplies (the model, the image, ...), not options. `Registry.call` passes a target only the
keyword arguments it declares, so one call site serves methods with different needs.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, GetCoreSchemaHandler, create_model
from pydantic.json_schema import GetJsonSchemaHandler, JsonSchemaValue
from pydantic_core import core_schema

from robustar.errors import DataError

T = TypeVar("T", bound=Callable[..., Any])


@dataclass(frozen=True)
class OptionInfo:
    """One option as published: its JSON-schema type, default and allowed values."""

    name: str
    type: str
    default: Any
    choices: list[Any] | None
    description: str | None


@dataclass(frozen=True)
class MethodInfo:
    name: str
    description: str
    options: list[OptionInfo]
    meta: dict[str, Any]


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    target: T
    description: str
    options: type[BaseModel]
    meta: dict[str, Any]

    def info(self) -> MethodInfo:
        return MethodInfo(self.name, self.description, describe_fields(self.options), self.meta)


class Registry(Generic[T]):
    """One family of named methods; `family` names it in errors ("saliency method"), and
    `default` is the entry used when a caller names none."""

    def __init__(self, family: str, default: str | None = None) -> None:
        self.family, self.default = family, default
        self._entries: dict[str, Entry[T]] = {}

    def register(
        self,
        name: str,
        description: str | None = None,
        options: type[BaseModel] | None = None,
        **meta: Any,
    ) -> Callable[[T], T]:
        """Decorator; `description` defaults to the first line of the target's docstring;
        `meta` (JSON values) is published with the entry for clients to act on."""

        def add(target: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.family} {name!r} is already registered")
            text = description or (inspect.getdoc(target) or "").split("\n")[0]
            if not text:
                raise ValueError(f"{self.family} {name!r} needs a one-line description")
            model = options or keyword_options(target, f"{name}-options")
            self._entries[name] = Entry(name, target, text, model, meta)
            return target

        return add

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._entries))

    def entries(self) -> list[Entry[T]]:
        return list(self._entries.values())

    def entry(self, name: str) -> Entry[T]:
        if name not in self._entries:
            raise DataError(
                f"unknown {self.family} {name!r}", f"use one of {', '.join(self._entries)}"
            )
        return self._entries[name]

    def get(self, name: str) -> T:
        return self.entry(name).target

    __getitem__ = get

    def call(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """Call the entry with the positional arguments and those keyword arguments its
        target declares (callers pass everything they have; each method takes its own)."""
        target = self.get(name)
        accepted = inspect.signature(target).parameters
        return target(*args, **{k: v for k, v in kwargs.items() if k in accepted})

    def describe(self) -> list[MethodInfo]:
        return [entry.info() for entry in self.entries()]

    def _check(self, name: str) -> str:
        """For pydantic, which reports a ValueError against the field."""
        try:
            self.entry(name)
        except DataError as error:
            raise ValueError(f"{error.what}; {error.fix}") from None
        return name

    @property
    def one_of(self) -> _OneOf:
        """Metadata for `Annotated[str, REGISTRY.one_of]`: a field or parameter holding one
        of these names, validated against the registry and published (JSON schema, OpenAPI)
        with the names registered when the schema is made, so a method added by decorator
        is offered everywhere."""
        return _OneOf(self)


@dataclass(frozen=True)
class _OneOf:
    registry: Registry[Any]

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self.registry._check, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: core_schema.CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {**handler(schema), "enum": self.registry.names()}


def keyword_options(target: Callable[..., Any], title: str) -> type[BaseModel]:
    """A model of the target's keyword-only parameters (a class: of its `__init__`)."""
    function = target.__init__ if inspect.isclass(target) else target
    fields: dict[str, Any] = {
        p.name: (p.annotation, p.default)
        for p in inspect.signature(function, eval_str=True).parameters.values()
        if p.kind is p.KEYWORD_ONLY
    }
    return create_model(title, __config__=ConfigDict(extra="forbid"), **fields)


def pick_options(model: type[BaseModel], *names: str, title: str) -> type[BaseModel]:
    """Some fields of a model (with their types, defaults and descriptions) as a new model."""
    fields: dict[str, Any] = {
        n: (model.model_fields[n].annotation, model.model_fields[n]) for n in names
    }
    return create_model(title, **fields)


def describe_fields(model: type[BaseModel]) -> list[OptionInfo]:
    """A model's fields as options, read from its JSON schema (what a client sees)."""
    schema = model.model_json_schema()
    definitions = schema.get("$defs", {})
    return [_option(name, prop, definitions) for name, prop in schema.get("properties", {}).items()]


def _option(name: str, prop: dict[str, Any], definitions: dict[str, Any]) -> OptionInfo:
    variants = [p for p in prop.get("anyOf", [prop]) if p.get("type") != "null"]
    shape = variants[0] if variants else {}
    if "$ref" in shape:
        shape = definitions[shape["$ref"].rsplit("/", 1)[1]]
    choices = shape.get("enum") or ([shape["const"]] if "const" in shape else None)
    return OptionInfo(
        name, shape.get("type", "string"), prop.get("default"), choices, prop.get("description")
    )
