"""Label Studio's brush RLE (thi-ng's rle-pack over the mask as RGBA bytes), both ways.

The stream: 32 bits value count, 5 bits word size - 1, four 4-bit run-length sizes - 1, then
chunks: a repeat bit, 2 bits choosing a run-length size, the length - 1, and one word (a
repeat) or `length` words (literals). Label Studio keeps the brush in the alpha channel.
"""

from __future__ import annotations

import numpy as np

from robustar.errors import DataError

RUN_BITS = (3, 4, 8, 16)  # what Label Studio's own encoder writes
LONGEST = 1 << RUN_BITS[-1]


def encode(mask: np.ndarray) -> list[int]:
    """The mask (True: 255 in every channel, as Label Studio's mask2rle) as rle-pack bytes."""
    values = np.repeat(np.where(mask.ravel(), 255, 0).astype(np.uint8), 4)
    parts = [f"{values.size:032b}", f"{8 - 1:05b}", "".join(f"{b - 1:04b}" for b in RUN_BITS)]
    change = np.flatnonzero(values[1:] != values[:-1]) + 1
    starts = np.concatenate(([0], change))
    lengths = np.diff(np.concatenate((starts, [values.size])))
    for start, length in zip(starts.tolist(), lengths.tolist(), strict=True):
        word = f"{int(values[start]):08b}"
        while length > 0:
            run = min(length, LONGEST)
            size = next(i for i, bits in enumerate(RUN_BITS) if run <= 1 << bits)
            parts.append(f"1{size:02b}{run - 1:0{RUN_BITS[size]}b}{word}")
            length -= run
    bits = "".join(parts)
    bits += "0" * (-len(bits) % 8)
    return np.packbits(np.frombuffer(bits.encode(), np.uint8) - ord("0")).tolist()


def decode(rle: object, width: int, height: int, what: str) -> np.ndarray:
    """The brush's alpha channel as a mask (alpha >= 128), checked against the image size."""
    try:
        data = np.asarray(rle, dtype=np.uint8)
        if data.ndim != 1:
            raise ValueError("not a list of bytes")
        bits = np.unpackbits(data)
        reader = _Bits(bits)
        count = reader.read(32)
        word = reader.read(5) + 1
        sizes = [reader.read(4) + 1 for _ in range(4)]
        if count != width * height * 4:
            raise DataError(
                f"{what} holds {count} values but the image is {width}x{height} (RGBA: "
                f"{width * height * 4})",
                "masks must have the image's native size",
            )
        out = np.zeros(count, dtype=np.uint32)
        i = 0
        while i < count:
            repeat = reader.read(1)
            j = min(count, i + 1 + reader.read(sizes[reader.read(2)]))
            if repeat:
                out[i:j] = reader.read(word)
            else:
                out[i:j] = [reader.read(word) for _ in range(j - i)]
            i = j
    except (ValueError, TypeError, OverflowError, IndexError) as error:
        raise DataError(
            f"{what} is not a Label Studio brush RLE: {error}", "export it again"
        ) from None
    return out.reshape(height, width, 4)[..., 3] >= 128


class _Bits:
    """Reads unsigned integers of any width from a bit array, most significant bit first."""

    def __init__(self, bits: np.ndarray) -> None:
        self.bits = bits
        self.at = 0

    def read(self, width: int) -> int:
        chunk = self.bits[self.at : self.at + width]
        if chunk.size < width:
            raise IndexError("the RLE ends early")
        self.at += width
        return int("".join("1" if b else "0" for b in chunk.tolist()) or "0", 2)
