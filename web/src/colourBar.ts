// The saliency colour bar: the scale the server's map uses (its PNG's colours and alpha),
// so a reader can tell low from high. Every method but `gradient` is drawn in inferno with
// alpha equal to the level; `gradient` is the signed per-channel gradient around grey.

/** Inferno at levels 0, 32, …, 224, 255 as the server's cv2.COLORMAP_INFERNO gives them (RGB;
 * tests/test_web_colour_bar.py checks them against cv2). */
export const INFERNO_LEVELS = [0, 32, 64, 96, 128, 160, 192, 224, 255];
export const INFERNO: [number, number, number][] = [
  [0, 0, 4],
  [33, 12, 74],
  [87, 16, 110],
  [138, 34, 106],
  [188, 55, 84],
  [228, 90, 49],
  [249, 142, 9],
  [249, 203, 53],
  [252, 255, 164],
];

export interface Stop {
  at: number; // 0..1 along the bar
  rgb: [number, number, number];
  alpha: number; // 0..1
}

export interface ColourBar {
  stops: Stop[];
  low: string;
  high: string;
  caption: string;
}

/** The bar for `method`'s map as shown: over the image (alpha as the server sets it) or alone
 * (the heat-map-only view, opaque). */
export function colourBar(method: string, overlay: boolean): ColourBar {
  if (method === "gradient") {
    const ends: Stop[] = [
      { at: 0, rgb: [0, 0, 0], alpha: 1 },
      { at: 0.5, rgb: [128, 128, 128], alpha: overlay ? 0 : 1 },
      { at: 1, rgb: [255, 255, 255], alpha: 1 },
    ];
    return {
      stops: ends,
      low: "− lowers",
      high: "raises +",
      caption: "signed gradient per colour channel; grey: no effect",
    };
  }
  return {
    stops: INFERNO.map((rgb, i) => {
      const at = INFERNO_LEVELS[i] / 255;
      return { at, rgb, alpha: overlay ? at : 1 };
    }),
    low: "low",
    high: "high",
    caption: `inferno; high: the map's top 1 %${overlay ? "; low is transparent" : ""}`,
  };
}

/** A CSS left-to-right gradient through the stops. */
export function gradientCss(stops: Stop[]): string {
  const parts = stops.map(
    (s) => `rgba(${s.rgb.join(", ")}, ${Number(s.alpha.toFixed(3))}) ${Number((s.at * 100).toFixed(2))}%`,
  );
  return `linear-gradient(to right, ${parts.join(", ")})`;
}
