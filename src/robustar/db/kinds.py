"""The mask kinds the masks table stores, checked wherever a kind enters."""

from __future__ import annotations

from typing import Literal

from robustar.errors import DataError

MaskKind = Literal["spurious", "object"]
MASK_KINDS: tuple[MaskKind, ...] = ("spurious", "object")


def check_kind(kind: str) -> MaskKind:
    if kind not in MASK_KINDS:
        raise DataError(f"unknown mask kind {kind!r}", f"use one of {', '.join(MASK_KINDS)}")
    return kind
