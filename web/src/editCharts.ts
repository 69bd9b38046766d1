// The points of the robustness charts: a run's drop (points) against the measured object
// pixel rate of its size edits, and against the measured background complexity of its
// complexity edits; the identity control is the unedited end of both axes. Pure, so tested.

export interface RunLike {
  id: number;
  version_id: number;
  rows: { edit: string; class_name: string | null; drop: number }[];
  measures: Record<string, Record<string, number>>;
}

export type Axis = "object_rate" | "complexity";

export interface Point {
  edit: string;
  x: number;
  drop: number; // points
}

const WANTED: Record<Axis, (edit: string) => boolean> = {
  object_rate: (edit) => edit === "identity" || edit.startsWith("size("),
  complexity: (edit) => edit === "identity" || edit.startsWith("complexity("),
};

/** The run's points along the axis, ordered by x (ten-crop rows are left out). */
export function chartPoints(run: RunLike, axis: Axis): Point[] {
  const points: Point[] = [];
  for (const row of run.rows) {
    const x = run.measures[row.edit]?.[axis];
    if (row.class_name !== null || x === undefined || !WANTED[axis](row.edit)) continue;
    points.push({ edit: row.edit, x, drop: 100 * row.drop });
  }
  return points.sort((a, b) => a.x - b.x);
}

export interface Scale {
  min: number;
  max: number;
}

/** A range holding every value (and 0 for the drop), padded so points sit inside. */
export function extent(values: number[], withZero = false): Scale {
  const all = withZero ? [0, ...values] : values;
  if (!all.length) return { min: 0, max: 1 };
  let min = Math.min(...all);
  let max = Math.max(...all);
  if (max === min) [min, max] = [min - 1, max + 1];
  const pad = (max - min) * 0.08;
  return { min: min - pad, max: max + pad };
}

/** Evenly spaced tick values inside the scale (about `count`). */
export function ticks(scale: Scale, count = 4): number[] {
  const raw = (scale.max - scale.min) / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(scale.min / step) * step; v <= scale.max + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}
