// The training curves as two chart panels (loss, accuracy) over epochs: which series each
// shows, from the epochs that have them, and how values read in the hover tooltip.
import type { EpochCurve } from "./types";

type Key = "train_loss" | "val_loss" | "train_accuracy" | "val_accuracy" | "test_accuracy";
export type PanelId = "loss" | "accuracy";

const SERIES: { key: Key; label: string; colour: string; panel: PanelId }[] = [
  { key: "train_loss", label: "train loss", colour: "#64748b", panel: "loss" },
  { key: "val_loss", label: "validation loss", colour: "#a855f7", panel: "loss" },
  { key: "train_accuracy", label: "train accuracy", colour: "#2563eb", panel: "accuracy" },
  { key: "val_accuracy", label: "validation accuracy", colour: "#16a34a", panel: "accuracy" },
  { key: "test_accuracy", label: "test accuracy", colour: "#dc2626", panel: "accuracy" },
];

export interface Series {
  label: string;
  colour: string;
  points: { x: number; y: number }[]; // x: epoch; y: loss, or accuracy in percent
}

export interface Panel {
  id: PanelId;
  title: string;
  series: Series[];
}

/** The loss and accuracy panels; a series with no value in any epoch is left out, and so is
 * an epoch without that value (validation and test are optional). */
export function curvePanels(epochs: EpochCurve[]): Panel[] {
  const panels: Panel[] = [
    { id: "loss", title: "Loss", series: [] },
    { id: "accuracy", title: "Accuracy (%)", series: [] },
  ];
  for (const s of SERIES) {
    const points = epochs
      .filter((e) => e[s.key] !== null)
      .map((e) => ({ x: e.epoch, y: (e[s.key] as number) * (s.panel === "accuracy" ? 100 : 1) }));
    if (points.length) panels.find((p) => p.id === s.panel)!.series.push({ label: s.label, colour: s.colour, points });
  }
  return panels;
}

/** A value as the tooltip shows it: a loss to 4 digits, an accuracy in percent. */
export function formatValue(panel: PanelId, value: number): string {
  return panel === "accuracy" ? `${value.toFixed(1)}%` : value.toPrecision(4);
}
