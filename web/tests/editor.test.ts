import { describe, expect, it } from "vitest";
import { cropSnapshot, EditHistory } from "../src/editor/history";
import {
  applySelection,
  BinaryMask,
  colourRange,
  decodeLabels,
  labelEdges,
  labelRegion,
  paintDisc,
  paintLine,
} from "../src/editor/mask";
import { actionFor, type KeyPress } from "../src/editor/shortcuts";
import { fitted, zoomAbout } from "../src/editor/viewport";

function rgbaOf(colours: number[][], width: number): Uint8ClampedArray {
  const out = new Uint8ClampedArray(colours.length * 4);
  colours.forEach(([r, g, b], i) => out.set([r, g, b, 255], i * 4));
  expect(colours.length % width).toBe(0);
  return out;
}

describe("painting", () => {
  it("fills a disc and reports its box", () => {
    const mask = new BinaryMask(10, 10);
    const box = paintDisc(mask, 5, 5, 2, 1);
    expect(box).toEqual({ x: 3, y: 3, w: 5, h: 5 });
    expect(mask.count()).toBe(12); // pixel centres within radius 2 of (5, 5)
    paintDisc(mask, 5, 5, 2, 0);
    expect(mask.count()).toBe(0);
  });

  it("clips at the border", () => {
    const mask = new BinaryMask(4, 4);
    expect(paintDisc(mask, 0, 0, 1.5, 1)).toEqual({ x: 0, y: 0, w: 3, h: 3 });
    expect(mask.count()).toBe(1); // only pixel (0, 0) has its centre within 1.5 of the corner
    expect(paintDisc(mask, -10, -10, 1, 1)).toBeNull();
  });

  it("draws a gap-free line", () => {
    const mask = new BinaryMask(20, 5);
    paintLine(mask, 1, 2.5, 18, 2.5, 1, 1);
    for (let x = 1; x < 18; x++) expect(mask.data[2 * 20 + x]).toBe(1);
  });
});

describe("colour range", () => {
  // 4x2 image: red red blue red / red blue blue red
  const R = [200, 10, 10];
  const B = [10, 10, 200];
  const rgba = rgbaOf([R, R, B, R, R, B, B, R], 4);

  it("selects every close colour globally", () => {
    expect(Array.from(colourRange(rgba, 4, 2, 0, 0, 5, false))).toEqual([1, 1, 0, 1, 1, 0, 0, 1]);
  });

  it("selects only connected pixels when contiguous", () => {
    expect(Array.from(colourRange(rgba, 4, 2, 0, 0, 5, true))).toEqual([1, 1, 0, 0, 1, 0, 0, 0]);
  });

  it("widens with the tolerance", () => {
    expect(colourRange(rgba, 4, 2, 0, 0, 255, true).reduce((a, b) => a + b, 0)).toBe(8);
  });
});

describe("labels", () => {
  it("decodes the server's RGB label encoding", () => {
    const rgba = new Uint8ClampedArray([3, 0, 0, 255, 4, 1, 0, 255]);
    expect(Array.from(decodeLabels(rgba))).toEqual([3, 260]);
  });

  it("selects a region and finds edges", () => {
    const labels = new Int32Array([0, 0, 1, 0, 0, 1]);
    expect(Array.from(labelRegion(labels, 1))).toEqual([0, 0, 1, 0, 0, 1]);
    expect(Array.from(labelEdges(labels, 3))).toEqual([0, 1, 0, 0, 1, 0]);
  });

  it("applies a selection and returns its box", () => {
    const mask = new BinaryMask(3, 2);
    expect(applySelection(mask, new Uint8Array([0, 0, 1, 0, 0, 1]), 1)).toEqual({ x: 2, y: 0, w: 1, h: 2 });
    expect(applySelection(mask, new Uint8Array(6), 1)).toBeNull();
  });
});

describe("history", () => {
  it("undoes and redoes patches and forgets redo after a new edit", () => {
    const mask = new BinaryMask(8, 8);
    const history = new EditHistory(10);
    const snapshot = mask.data.slice();
    const box = paintDisc(mask, 4, 4, 2, 1)!;
    history.record(mask, box, cropSnapshot(snapshot, 8, box));
    const painted = mask.data.slice();
    expect(history.undo(mask)).toEqual(box);
    expect(mask.count()).toBe(0);
    history.redo(mask);
    expect(mask.data).toEqual(painted);
    history.undo(mask);
    const again = paintDisc(mask, 1, 1, 1, 1)!;
    history.record(mask, again, new Uint8Array(again.w * again.h));
    expect(history.canRedo).toBe(false);
  });

  it("keeps at most `limit` steps", () => {
    const mask = new BinaryMask(60, 1);
    const history = new EditHistory(50);
    for (let x = 0; x < 60; x++) {
      const box = { x, y: 0, w: 1, h: 1 };
      const before = mask.read(box);
      mask.data[x] = 1;
      history.record(mask, box, before);
    }
    let steps = 0;
    while (history.undo(mask)) steps++;
    expect(steps).toBe(50);
    expect(mask.count()).toBe(10);
  });
});

describe("viewport", () => {
  it("keeps the pixel under the cursor when zooming", () => {
    const view = { scale: 2, x: 10, y: 20 };
    const next = zoomAbout(view, 1.5, 110, 220);
    const before = [(110 - view.x) / view.scale, (220 - view.y) / view.scale];
    const after = [(110 - next.x) / next.scale, (220 - next.y) / next.scale];
    expect(after[0]).toBeCloseTo(before[0]);
    expect(after[1]).toBeCloseTo(before[1]);
    expect(zoomAbout(view, 1000, 0, 0).scale).toBe(64);
  });

  it("fits the image in the stage, centred", () => {
    const view = fitted(800, 400, 200, 200);
    expect(view.scale).toBeCloseTo(1.9);
    expect(view.x).toBeCloseTo((800 - 380) / 2);
    expect(view.y).toBeCloseTo((400 - 380) / 2);
  });
});

describe("shortcuts", () => {
  const press = (key: string, extra: Partial<KeyPress> = {}): KeyPress => ({
    key,
    ctrlKey: false,
    metaKey: false,
    shiftKey: false,
    ...extra,
  });

  it("maps command keys, plain keys and tool letters", () => {
    expect(actionFor(press("s", { ctrlKey: true }))).toBe("save");
    expect(actionFor(press("Z", { ctrlKey: true, shiftKey: true }))).toBe("redo");
    expect(actionFor(press("z", { metaKey: true }))).toBe("undo");
    expect(actionFor(press("y", { ctrlKey: true }))).toBe("redo");
    expect(actionFor(press("]"))).toBe("larger");
    expect(actionFor(press("ArrowRight"))).toBe("next");
    expect(actionFor(press("G"))).toEqual({ tool: "grabcut" });
    expect(actionFor(press("q"))).toBeNull();
  });

  it("leaves typing in a field alone, except command keys", () => {
    expect(actionFor(press("b", { tag: "INPUT" }))).toBeNull();
    expect(actionFor(press("s", { tag: "INPUT", ctrlKey: true }))).toBe("save");
  });
});
