// The editor's tools and keyboard shortcuts: which action a key press asks for.

export type Tool = "brush" | "eraser" | "colour" | "superpixel" | "grabcut" | "saliency" | "model" | "pan";

export const TOOLS: { id: Tool; label: string; key: string }[] = [
  { id: "brush", label: "Brush", key: "b" },
  { id: "eraser", label: "Eraser", key: "e" },
  { id: "colour", label: "Colour range", key: "c" },
  { id: "superpixel", label: "Superpixels", key: "s" },
  { id: "grabcut", label: "GrabCut box", key: "g" },
  { id: "saliency", label: "Saliency threshold", key: "t" },
  { id: "model", label: "Segmentation model", key: "m" },
  { id: "pan", label: "Pan", key: "h" },
];

export type Action =
  | "save"
  | "undo"
  | "redo"
  | "pan"
  | "smaller"
  | "larger"
  | "visibility"
  | "fit"
  | "zoom-in"
  | "zoom-out"
  | "accept"
  | "discard"
  | "previous"
  | "next"
  | { tool: Tool };

export interface KeyPress {
  key: string;
  ctrlKey: boolean;
  metaKey: boolean;
  shiftKey: boolean;
  /** Tag of the focused element: typing in a field is not a shortcut (Ctrl combinations are). */
  tag?: string;
}

const PLAIN: Record<string, Action> = {
  " ": "pan",
  "[": "smaller",
  "]": "larger",
  v: "visibility",
  "0": "fit",
  "+": "zoom-in",
  "=": "zoom-in",
  "-": "zoom-out",
  Enter: "accept",
  Escape: "discard",
  ArrowLeft: "previous",
  ArrowRight: "next",
};

export function actionFor(press: KeyPress): Action | null {
  const command = press.ctrlKey || press.metaKey;
  if (!command && press.tag && ["INPUT", "SELECT", "TEXTAREA"].includes(press.tag)) return null;
  const key = press.key.length === 1 ? press.key.toLowerCase() : press.key;
  if (command) {
    if (key === "s") return "save";
    if (key === "y" || (key === "z" && press.shiftKey)) return "redo";
    return key === "z" ? "undo" : null;
  }
  if (key in PLAIN) return PLAIN[key];
  const tool = TOOLS.find((t) => t.key === key);
  return tool ? { tool: tool.id } : null;
}
