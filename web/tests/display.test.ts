import { afterEach, describe, expect, it } from "vitest";
import { nextTick } from "vue";
import { colourBar, gradientCss, INFERNO } from "../src/colourBar";
import { curvePanels, formatValue } from "../src/curves";
import { DENSITIES, isDensity, useDensity } from "../src/density";
import { BinaryMask, maskOutline } from "../src/editor/mask";
import { DEFAULT_STYLE, isMaskStyle, rgbOf } from "../src/editor/maskStyle";
import { readPreference } from "../src/persisted";
import type { EpochCurve } from "../src/types";

describe("saliency colour bar", () => {
  it("runs through inferno from black to pale yellow, transparent at the low end over the image", () => {
    const over = colourBar("gradcam", true);
    expect(over.stops[0]).toEqual({ at: 0, rgb: INFERNO[0], alpha: 0 });
    expect(over.stops.at(-1)).toEqual({ at: 1, rgb: [252, 255, 164], alpha: 1 });
    expect(over.stops.map((s) => s.at)).toEqual([...over.stops.map((s) => s.at)].sort((a, b) => a - b));
    expect([over.low, over.high]).toEqual(["low", "high"]);
    expect(over.caption).toContain("transparent");
  });

  it("is opaque when the map is shown alone", () => {
    expect(colourBar("gradcam", false).stops.every((s) => s.alpha === 1)).toBe(true);
  });

  it("shows the signed gradient around grey", () => {
    const bar = colourBar("gradient", true);
    expect(bar.stops.map((s) => s.rgb)).toEqual([[0, 0, 0], [128, 128, 128], [255, 255, 255]]);
    expect(bar.stops[1].alpha).toBe(0); // no effect: the image shows through
    expect(bar.low).toContain("−");
  });

  it("writes a CSS gradient with every stop in place", () => {
    const css = gradientCss(colourBar("gradcam", true).stops);
    expect(css.startsWith("linear-gradient(to right, rgba(0, 0, 4, 0) 0%,")).toBe(true);
    expect(css).toContain("rgba(188, 55, 84, 0.502) 50.2%");
    expect(css.endsWith("rgba(252, 255, 164, 1) 100%)")).toBe(true);
  });
});

function epoch(n: number, extra: Partial<EpochCurve> = {}): EpochCurve {
  return {
    epoch: n,
    train_loss: 1 / n,
    train_accuracy: 0.5,
    val_loss: null,
    val_accuracy: null,
    test_accuracy: null,
    learning_rate: 0.01,
    seconds: 1,
    ...extra,
  };
}

describe("training curves", () => {
  it("splits loss and accuracy, in percent, over epochs", () => {
    const [loss, accuracy] = curvePanels([epoch(1, { val_accuracy: 0.25 }), epoch(2, { val_accuracy: 0.75 })]);
    expect(loss.id).toBe("loss");
    expect(loss.series.map((s) => s.label)).toEqual(["train loss"]);
    expect(loss.series[0].points).toEqual([{ x: 1, y: 1 }, { x: 2, y: 0.5 }]);
    expect(accuracy.series.map((s) => s.label)).toEqual(["train accuracy", "validation accuracy"]);
    expect(accuracy.series[1].points).toEqual([{ x: 1, y: 25 }, { x: 2, y: 75 }]);
  });

  it("leaves out the epochs a series has no value for", () => {
    const [, accuracy] = curvePanels([epoch(1), epoch(2, { test_accuracy: 0.4 })]);
    expect(accuracy.series.find((s) => s.label === "test accuracy")!.points).toEqual([{ x: 2, y: 40 }]);
  });

  it("reads values as the tooltip shows them", () => {
    expect(formatValue("accuracy", 45.04)).toBe("45.0%");
    expect(formatValue("loss", 0.123456)).toBe("0.1235");
  });
});

describe("mask style", () => {
  it("outlines a mask: its edge pixels only", () => {
    const mask = new BinaryMask(5, 5);
    for (let y = 1; y < 4; y++) for (let x = 1; x < 4; x++) mask.data[y * 5 + x] = 1;
    const outline = maskOutline(mask);
    expect(outline.reduce((a, b) => a + b, 0)).toBe(8); // the 3x3 block less its centre
    expect(outline[2 * 5 + 2]).toBe(0);
  });

  it("counts the image's border as an edge", () => {
    const mask = new BinaryMask(3, 3, new Uint8Array(9).fill(1));
    expect(Array.from(maskOutline(mask))).toEqual([1, 1, 1, 1, 0, 1, 1, 1, 1]);
  });

  it("reads colours and refuses a malformed stored style", () => {
    expect(rgbOf("#ef4444")).toEqual([239, 68, 68]);
    expect(isMaskStyle(DEFAULT_STYLE)).toBe(true);
    expect(isMaskStyle({ colours: { spurious: "red", object: "#2563eb" }, outline: false })).toBe(false);
    expect(isMaskStyle({ colours: { spurious: "#ef4444" }, outline: false })).toBe(false);
    expect(isMaskStyle(null)).toBe(false);
  });
});

describe("remembered preferences", () => {
  afterEach(() => window.localStorage.clear());

  it("falls back on a missing, invalid or unparsable value", () => {
    expect(readPreference("galleryDensity", "medium", isDensity)).toBe("medium");
    window.localStorage.setItem("robustar.galleryDensity", JSON.stringify("huge"));
    expect(readPreference("galleryDensity", "medium", isDensity)).toBe("medium");
    window.localStorage.setItem("robustar.galleryDensity", "{not json");
    expect(readPreference("galleryDensity", "medium", isDensity)).toBe("medium");
  });

  it("writes a change back and reads it on the next visit", async () => {
    const density = useDensity();
    expect(density.value).toBe("medium");
    density.value = "large";
    await nextTick();
    expect(window.localStorage.getItem("robustar.galleryDensity")).toBe('"large"');
    expect(useDensity().value).toBe("large");
    expect(DENSITIES.large.thumbnail).toBe(256);
  });
});
