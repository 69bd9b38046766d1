// Colours for the colour-range auto-annotation, typed as hex or picked from an image's pixels.
// The form keeps them as one text ("#e6194b, #3cb44b"), so typing and picking edit one list.

export type Rgb = [number, number, number];

const HEX = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

/** "#rrggbb" (or "#rgb", with or without "#") as [r, g, b]; null when it is not a colour. */
export function parseHex(hex: string): Rgb | null {
  const match = HEX.exec(hex.trim());
  if (!match) return null;
  const digits = match[1].length === 3 ? [...match[1]].map((d) => d + d).join("") : match[1];
  const n = parseInt(digits, 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** [r, g, b] as "#rrggbb". */
export function hexOf(rgb: readonly number[]): string {
  return "#" + rgb.slice(0, 3).map((v) => Math.round(v).toString(16).padStart(2, "0")).join("");
}

function tokens(text: string): string[] {
  return text.split(/[\s,;]+/).filter(Boolean);
}

/** The colours in the text, as "#rrggbb", each once, in order. */
export function colourList(text: string): string[] {
  const hexes = tokens(text).flatMap((t) => {
    const rgb = parseHex(t);
    return rgb ? [hexOf(rgb)] : [];
  });
  return [...new Set(hexes)];
}

/** The words of the text that are not colours (to point at a typo). */
export function notColours(text: string): string[] {
  return tokens(text).filter((t) => parseHex(t) === null);
}

/** The text with `rgb` added at the end, unless it is there already. */
export function withColour(text: string, rgb: readonly number[]): string {
  const hex = hexOf(rgb);
  return colourList(text).includes(hex) ? text : [...tokens(text), hex].join(", ");
}

/** The text without `hex` (words that are not colours are kept, for the user to fix). */
export function withoutColour(text: string, hex: string): string {
  return tokens(text)
    .filter((t) => {
      const rgb = parseHex(t);
      return rgb === null || hexOf(rgb) !== hex;
    })
    .join(", ");
}

/** The image pixel [column, row] under a point of an image shown at another size. */
export function pixelAt(
  x: number,
  y: number,
  shown: { width: number; height: number },
  natural: { width: number; height: number },
): [number, number] {
  const scale = (v: number, from: number, to: number) => Math.min(to - 1, Math.max(0, Math.floor((v * to) / from)));
  return [scale(x, shown.width, natural.width), scale(y, shown.height, natural.height)];
}
