// The gallery's density: how large its thumbnails are, remembered across visits.
import { usePreference } from "./persisted";

export type Density = "small" | "medium" | "large";

/** Per density: the cell's minimum width (CSS px) and the thumbnail size to fetch (the
 * server makes 64, 128 and 256). */
export const DENSITIES: Record<Density, { cell: number; thumbnail: number }> = {
  small: { cell: 84, thumbnail: 64 },
  medium: { cell: 136, thumbnail: 128 },
  large: { cell: 220, thumbnail: 256 },
};

export function isDensity(value: unknown): value is Density {
  return value === "small" || value === "medium" || value === "large";
}

export function useDensity() {
  return usePreference<Density>("galleryDensity", "medium", isDensity);
}
