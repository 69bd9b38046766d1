// How masks are drawn over images: a colour per kind and filled or outlined, chosen by the
// user (a red fill vanishes on a pink image) and remembered across pages and reloads.
import { parseHex, type Rgb } from "../colours";
import { usePreference } from "../persisted";
import type { MaskKind } from "../types";

export interface MaskStyle {
  colours: Record<MaskKind, string>; // "#rrggbb"
  outline: boolean;
}

/** Colours that stand out on most images: saturated hues, and white and black. */
export const SWATCHES = ["#ef4444", "#facc15", "#22d3ee", "#22c55e", "#d946ef", "#2563eb", "#ffffff", "#000000"];

export const DEFAULT_STYLE: MaskStyle = { colours: { spurious: "#ef4444", object: "#2563eb" }, outline: false };

const HEX = /^#[0-9a-f]{6}$/i;

export function isMaskStyle(value: unknown): value is MaskStyle {
  const v = value as MaskStyle | null;
  return (
    typeof v === "object" && v !== null && typeof v.outline === "boolean" &&
    typeof v.colours === "object" && v.colours !== null &&
    HEX.test(String(v.colours.spurious)) && HEX.test(String(v.colours.object))
  );
}

/** A style's "#rrggbb" as [r, g, b] (checked by isMaskStyle on the way in). */
export function rgbOf(hex: string): Rgb {
  return parseHex(hex) ?? [0, 0, 0];
}

export function useMaskStyle() {
  return usePreference<MaskStyle>("maskStyle", structuredClone(DEFAULT_STYLE), isMaskStyle);
}
