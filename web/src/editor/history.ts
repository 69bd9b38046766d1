// Undo and redo as patches: the pixels of the changed box before and after each edit.
import type { BinaryMask, Box } from "./mask";

export interface Patch {
  box: Box;
  before: Uint8Array;
  after: Uint8Array;
}

export class EditHistory {
  private done: Patch[] = [];
  private undone: Patch[] = [];

  constructor(readonly limit = 100) {}

  get canUndo(): boolean {
    return this.done.length > 0;
  }

  get canRedo(): boolean {
    return this.undone.length > 0;
  }

  /** Record an edit, given the mask's pixels in `box` before it (the mask holds the after). */
  record(mask: BinaryMask, box: Box, before: Uint8Array): void {
    this.done.push({ box, before, after: mask.read(box) });
    if (this.done.length > this.limit) this.done.shift();
    this.undone = [];
  }

  undo(mask: BinaryMask): Box | null {
    const patch = this.done.pop();
    if (!patch) return null;
    mask.write(patch.box, patch.before);
    this.undone.push(patch);
    return patch.box;
  }

  redo(mask: BinaryMask): Box | null {
    const patch = this.undone.pop();
    if (!patch) return null;
    mask.write(patch.box, patch.after);
    this.done.push(patch);
    return patch.box;
  }

  clear(): void {
    this.done = [];
    this.undone = [];
  }
}

/** Snapshot helper: the whole mask before an edit whose extent is not known yet (a stroke). */
export function cropSnapshot(snapshot: Uint8Array, width: number, box: Box): Uint8Array {
  const out = new Uint8Array(box.w * box.h);
  for (let row = 0; row < box.h; row++) {
    const start = (box.y + row) * width + box.x;
    out.set(snapshot.subarray(start, start + box.w), row * box.w);
  }
  return out;
}
