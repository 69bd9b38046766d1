"""Why an edit could not be made for an image: counted in the report, never an error."""

from __future__ import annotations

from typing import Literal

SkipReason = Literal["no mask", "empty mask", "full mask", "size not reached"]


class EditSkipped(Exception):
    """Raised by an edit whose input cannot give a meaningful result (the image is skipped)."""

    def __init__(self, reason: SkipReason) -> None:
        super().__init__(reason)
        self.reason: SkipReason = reason
