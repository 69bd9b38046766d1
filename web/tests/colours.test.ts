import { describe, expect, it } from "vitest";
import { nextTick, reactive, ref } from "vue";
import { colourList, hexOf, notColours, parseHex, pixelAt, withColour, withoutColour } from "../src/colours";
import { useStoredValues } from "../src/persisted";

describe("colours", () => {
  it("reads hex with or without # and in short form, and writes it back", () => {
    expect(parseHex("#e6194b")).toEqual([230, 25, 75]);
    expect(parseHex("3CB44B")).toEqual([60, 180, 75]);
    expect(parseHex("#f0a")).toEqual([255, 0, 170]);
    expect(parseHex("#12345")).toBeNull();
    expect(parseHex("red")).toBeNull();
    expect(hexOf([0, 130, 200])).toBe("#0082c8");
  });

  it("lists each colour once, whatever the separators, and names the typos", () => {
    expect(colourList("#E6194B, 3cb44b;#e6194b  #fff")).toEqual(["#e6194b", "#3cb44b", "#ffffff"]);
    expect(notColours("#e6194b, #zzz, blue")).toEqual(["#zzz", "blue"]);
  });

  it("adds a picked colour once and removes it by its hex, keeping typed text", () => {
    const text = withColour("#e6194b oops", [60, 180, 75]);
    expect(text).toBe("#e6194b, oops, #3cb44b");
    expect(withColour(text, [230, 25, 75])).toBe(text); // already there
    expect(withoutColour("#E6194B, oops, #3cb44b", "#e6194b")).toBe("oops, #3cb44b");
  });

  it("maps a point on a scaled-up image to the pixel under it, inside the image", () => {
    const shown = { width: 192, height: 192 };
    const natural = { width: 32, height: 32 };
    expect(pixelAt(0, 0, shown, natural)).toEqual([0, 0]);
    expect(pixelAt(5.9, 6, shown, natural)).toEqual([0, 1]);
    expect(pixelAt(191.5, 100, shown, natural)).toEqual([31, 16]);
    expect(pixelAt(192, -3, shown, natural)).toEqual([31, 0]); // the edge, not outside
  });
});

describe("useStoredValues", () => {
  it("puts back a workspace's stored values once its name is known, and writes changes", async () => {
    localStorage.setItem("robustar.review.ws", JSON.stringify({ colours: "#ff0000", tolerance: 30, bad: { x: 1 } }));
    const name = ref<string | null>(null);
    const form = reactive<Record<string, unknown>>({ colours: "", tolerance: 12 });
    useStoredValues(() => (name.value ? `review.${name.value}` : null), form);
    expect(form.colours).toBe("");
    name.value = "ws";
    await nextTick();
    expect(form).toEqual({ colours: "#ff0000", tolerance: 30 }); // not objects
    form.tolerance = 5;
    await nextTick();
    expect(JSON.parse(localStorage.getItem("robustar.review.ws")!)).toEqual({ colours: "#ff0000", tolerance: 5 });
    expect(localStorage.getItem("robustar.review.other")).toBeNull();
  });
});
