// Small display helpers shared by the views.

export function percent(value: number | null | undefined, digits = 1): string {
  return value === null || value === undefined ? "–" : `${(100 * value).toFixed(digits)}%`;
}

export function number(value: number | null | undefined, digits = 3): string {
  return value === null || value === undefined ? "–" : value.toFixed(digits);
}

export function className(classes: string[], index: number | null | undefined): string {
  if (index === null || index === undefined) return "–";
  return classes[index] ?? `#${index}`;
}

/**
 * Background of a confusion-matrix cell: the share of the row (true class) it holds, so rare
 * classes are as readable as common ones. Diagonal cells are blue, mistakes red.
 */
export function cellColour(count: number, rowTotal: number, diagonal: boolean): string {
  if (count === 0 || rowTotal === 0) return "transparent";
  const share = count / rowTotal;
  const alpha = (0.12 + 0.78 * share).toFixed(3);
  return diagonal ? `rgba(37, 99, 235, ${alpha})` : `rgba(220, 38, 38, ${alpha})`;
}

/** Text on a cell must stay readable on the strongest colours. */
export function cellText(count: number, rowTotal: number): string {
  return rowTotal > 0 && count / rowTotal > 0.55 ? "#fff" : "inherit";
}
