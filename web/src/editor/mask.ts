// Pure operations on a binary mask (one byte per pixel, 0 or 1) at the image's native size.

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

export class BinaryMask {
  readonly data: Uint8Array;

  constructor(
    readonly width: number,
    readonly height: number,
    data?: Uint8Array,
  ) {
    this.data = data ?? new Uint8Array(width * height);
  }

  count(): number {
    let n = 0;
    for (let i = 0; i < this.data.length; i++) n += this.data[i];
    return n;
  }

  /** Copy of the pixels inside `box`, row by row. */
  read(box: Box): Uint8Array {
    const out = new Uint8Array(box.w * box.h);
    for (let row = 0; row < box.h; row++) {
      const start = (box.y + row) * this.width + box.x;
      out.set(this.data.subarray(start, start + box.w), row * box.w);
    }
    return out;
  }

  write(box: Box, pixels: Uint8Array): void {
    for (let row = 0; row < box.h; row++) {
      this.data.set(pixels.subarray(row * box.w, (row + 1) * box.w), (box.y + row) * this.width + box.x);
    }
  }
}

/** Grow `box` (or start one) to contain the given rectangle, clipped to the mask. */
export function unionBox(box: Box | null, x0: number, y0: number, x1: number, y1: number, mask: BinaryMask): Box | null {
  const left = Math.max(0, Math.min(x0, box ? box.x : x0));
  const top = Math.max(0, Math.min(y0, box ? box.y : y0));
  const right = Math.min(mask.width, Math.max(x1, box ? box.x + box.w : x1));
  const bottom = Math.min(mask.height, Math.max(y1, box ? box.y + box.h : y1));
  if (right <= left || bottom <= top) return box;
  return { x: left, y: top, w: right - left, h: bottom - top };
}

/** Set (value 1) or clear (value 0) a filled disc; returns the touched box. */
export function paintDisc(mask: BinaryMask, cx: number, cy: number, radius: number, value: 0 | 1): Box | null {
  const r = Math.max(0.5, radius);
  const x0 = Math.max(0, Math.floor(cx - r));
  const x1 = Math.min(mask.width - 1, Math.ceil(cx + r));
  const y0 = Math.max(0, Math.floor(cy - r));
  const y1 = Math.min(mask.height - 1, Math.ceil(cy + r));
  if (x1 < x0 || y1 < y0) return null;
  const r2 = r * r;
  for (let y = y0; y <= y1; y++) {
    const dy = y + 0.5 - cy;
    for (let x = x0; x <= x1; x++) {
      const dx = x + 0.5 - cx;
      if (dx * dx + dy * dy <= r2) mask.data[y * mask.width + x] = value;
    }
  }
  return { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** A brush segment: discs every half radius from (ax, ay) to (bx, by). */
export function paintLine(
  mask: BinaryMask,
  ax: number,
  ay: number,
  bx: number,
  by: number,
  radius: number,
  value: 0 | 1,
): Box | null {
  const length = Math.hypot(bx - ax, by - ay);
  const steps = Math.max(1, Math.ceil(length / Math.max(0.5, radius / 2)));
  let box: Box | null = null;
  for (let i = 0; i <= steps; i++) {
    const t = i / steps;
    const touched = paintDisc(mask, ax + (bx - ax) * t, ay + (by - ay) * t, radius, value);
    if (touched) box = unionBox(box, touched.x, touched.y, touched.x + touched.w, touched.y + touched.h, mask);
  }
  return box;
}

function close(rgba: Uint8ClampedArray, i: number, r: number, g: number, b: number, tolerance: number): boolean {
  return (
    Math.abs(rgba[i] - r) <= tolerance &&
    Math.abs(rgba[i + 1] - g) <= tolerance &&
    Math.abs(rgba[i + 2] - b) <= tolerance
  );
}

/**
 * Pixels whose colour is within `tolerance` (per channel, 0-255) of the pixel at (x, y):
 * everywhere (global) or only those connected to it (contiguous, 4-neighbourhood).
 */
export function colourRange(
  rgba: Uint8ClampedArray,
  width: number,
  height: number,
  x: number,
  y: number,
  tolerance: number,
  contiguous: boolean,
): Uint8Array {
  const out = new Uint8Array(width * height);
  const seed = (y * width + x) * 4;
  const [r, g, b] = [rgba[seed], rgba[seed + 1], rgba[seed + 2]];
  if (!contiguous) {
    for (let p = 0; p < width * height; p++) if (close(rgba, p * 4, r, g, b, tolerance)) out[p] = 1;
    return out;
  }
  const stack = new Int32Array(width * height);
  let top = 0;
  stack[top++] = y * width + x;
  out[y * width + x] = 1;
  while (top > 0) {
    const p = stack[--top];
    const px = p % width;
    const neighbours = [px > 0 ? p - 1 : -1, px < width - 1 ? p + 1 : -1, p - width, p + width];
    for (const q of neighbours) {
      if (q < 0 || q >= width * height || out[q]) continue;
      if (close(rgba, q * 4, r, g, b, tolerance)) {
        out[q] = 1;
        stack[top++] = q;
      }
    }
  }
  return out;
}

/** Pixels that carry `label` in a label map. */
export function labelRegion(labels: Int32Array, label: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) if (labels[i] === label) out[i] = 1;
  return out;
}

/** Set (value 1) or clear (value 0) every selected pixel; returns the touched box. */
export function applySelection(mask: BinaryMask, selection: Uint8Array, value: 0 | 1): Box | null {
  let x0 = mask.width, y0 = mask.height, x1 = -1, y1 = -1;
  for (let i = 0; i < selection.length; i++) {
    if (!selection[i]) continue;
    mask.data[i] = value;
    const x = i % mask.width;
    const y = (i - x) / mask.width;
    if (x < x0) x0 = x;
    if (x > x1) x1 = x;
    if (y < y0) y0 = y;
    if (y > y1) y1 = y;
  }
  return x1 < 0 ? null : { x: x0, y: y0, w: x1 - x0 + 1, h: y1 - y0 + 1 };
}

/** Label map from the server's RGB encoding (label = R + 256 G). */
export function decodeLabels(rgba: Uint8ClampedArray): Int32Array {
  const labels = new Int32Array(rgba.length / 4);
  for (let i = 0; i < labels.length; i++) labels[i] = rgba[i * 4] + 256 * rgba[i * 4 + 1];
  return labels;
}

/** Pixels on the border between two labels (right or lower neighbour differs). */
export function labelEdges(labels: Int32Array, width: number): Uint8Array {
  const out = new Uint8Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const x = i % width;
    if ((x < width - 1 && labels[i] !== labels[i + 1]) || (i + width < labels.length && labels[i] !== labels[i + width]))
      out[i] = 1;
  }
  return out;
}

/** The mask's boundary: set pixels with an unset 4-neighbour or on the image's edge (the
 * outline view, which leaves what is under the mask visible). */
export function maskOutline(mask: BinaryMask): Uint8Array {
  const { width, height, data } = mask;
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    if (!data[i]) continue;
    const x = i % width;
    const y = (i - x) / width;
    const edge =
      x === 0 || y === 0 || x === width - 1 || y === height - 1 ||
      !data[i - 1] || !data[i + 1] || !data[i - width] || !data[i + width];
    if (edge) out[i] = 1;
  }
  return out;
}
