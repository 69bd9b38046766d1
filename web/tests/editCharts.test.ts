import { describe, expect, it } from "vitest";
import { chartPoints, extent, ticks, type RunLike } from "../src/editCharts";

const run: RunLike = {
  id: 1,
  version_id: 1,
  rows: [
    { edit: "identity", class_name: null, drop: 0 },
    { edit: "size(rate=0.05)", class_name: null, drop: 0.4 },
    { edit: "size(rate=0.1)", class_name: null, drop: 0.2 },
    { edit: "size(rate=0.1)", class_name: "3", drop: 0.9 },
    { edit: "size(rate=0.1) + ten-crop", class_name: null, drop: 0.1 },
    { edit: "complexity(strength=30.0)", class_name: null, drop: 0.3 },
    { edit: "background(source=noise)", class_name: null, drop: 0.5 },
  ],
  measures: {
    identity: { object_rate: 0.2, complexity: 10 },
    "size(rate=0.05)": { object_rate: 0.052, complexity: 10 },
    "size(rate=0.1)": { object_rate: 0.098, complexity: 10 },
    "complexity(strength=30.0)": { object_rate: 0.2, complexity: 25 },
    "background(source=noise)": { object_rate: 0.2, complexity: 5 },
  },
};

describe("edit charts", () => {
  it("takes the size edits and the control, by measured rate, overall rows only", () => {
    expect(chartPoints(run, "object_rate")).toEqual([
      { edit: "size(rate=0.05)", x: 0.052, drop: 40 },
      { edit: "size(rate=0.1)", x: 0.098, drop: 20 },
      { edit: "identity", x: 0.2, drop: 0 },
    ]);
  });

  it("takes the complexity edits and the control, by measured complexity", () => {
    expect(chartPoints(run, "complexity").map((p) => p.edit)).toEqual(["identity", "complexity(strength=30.0)"]);
  });

  it("skips a run stored before the measures existed", () => {
    expect(chartPoints({ ...run, measures: {} }, "object_rate")).toEqual([]);
  });

  it("pads the range, includes zero for drops and gives round ticks", () => {
    const scale = extent([10, 40], true);
    expect(scale.min).toBeLessThan(0);
    expect(scale.max).toBeGreaterThan(40);
    expect(ticks({ min: 0, max: 40 })).toEqual([0, 10, 20, 30, 40]);
    expect(extent([]).max).toBe(1);
  });
});
