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

/** Seconds left, from the progress so far; null until there is enough to tell. */
export function secondsLeft(done: number, total: number, startedAt: string | null, now: number): number | null {
  if (!startedAt || done <= 0 || total <= done) return null;
  const elapsed = (now - Date.parse(startedAt)) / 1000;
  return elapsed > 0 ? (elapsed * (total - done)) / done : null;
}

export function duration(seconds: number | null): string {
  if (seconds === null) return "–";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** A server message (lower case, no full stop) as a sentence. */
export function sentence(text: string): string {
  const trimmed = text.trim();
  if (!trimmed) return "";
  const capital = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capital) ? capital : `${capital}.`;
}

/** What a finished auto-annotation job made (its `result`), in words. */
export function proposalsMade(result: Record<string, unknown>): string {
  const made = Number(result.proposals ?? 0);
  const empty = Number(result.empty ?? 0);
  const text = `${made} proposal${made === 1 ? "" : "s"} to review`;
  return empty ? `${text}; ${empty} image${empty === 1 ? "" : "s"} got no proposal (the method found nothing)` : text;
}

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

/** Bytes in binary units, as `robustar du` writes them. */
export function bytes(count: number): string {
  let value = count;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0 ? `${count} B` : `${value.toFixed(1)} ${UNITS[unit]}`;
}
