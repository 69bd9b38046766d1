// Zoom and pan of the editor's stage: screen pixels <-> image pixels.
import { reactive, type Ref } from "vue";

export interface View {
  scale: number;
  x: number;
  y: number;
}

/** Scale about a screen point, so the image pixel under it stays under it. */
export function zoomAbout(view: View, factor: number, sx: number, sy: number): View {
  const scale = Math.min(64, Math.max(0.05, view.scale * factor));
  return { scale, x: sx - ((sx - view.x) * scale) / view.scale, y: sy - ((sy - view.y) * scale) / view.scale };
}

/** The view that shows the whole image, centred, with a small margin. */
export function fitted(stageWidth: number, stageHeight: number, width: number, height: number): View {
  const scale = Math.min(stageWidth / width, stageHeight / height) * 0.95;
  return { scale, x: (stageWidth - width * scale) / 2, y: (stageHeight - height * scale) / 2 };
}

export function circleStyle(view: View, x: number, y: number, radius: number): Record<string, string> {
  return {
    left: `${view.x + x * view.scale}px`,
    top: `${view.y + y * view.scale}px`,
    width: `${2 * radius * view.scale}px`,
    height: `${2 * radius * view.scale}px`,
  };
}

export function rectStyle(view: View, box: number[]): Record<string, string> {
  const [x0, y0] = [Math.min(box[0], box[2]), Math.min(box[1], box[3])];
  const [x1, y1] = [Math.max(box[0], box[2]), Math.max(box[1], box[3])];
  return {
    left: `${view.x + x0 * view.scale}px`,
    top: `${view.y + y0 * view.scale}px`,
    width: `${(x1 - x0) * view.scale}px`,
    height: `${(y1 - y0) * view.scale}px`,
  };
}

export function useViewport(stage: Ref<HTMLDivElement | null>, image: () => { width: number; height: number } | null) {
  const view = reactive<View>({ scale: 1, x: 0, y: 0 });

  function fit(): void {
    const size = image();
    if (stage.value && size) Object.assign(view, fitted(stage.value.clientWidth, stage.value.clientHeight, size.width, size.height));
  }

  function zoomCentre(factor: number): void {
    if (stage.value) Object.assign(view, zoomAbout(view, factor, stage.value.clientWidth / 2, stage.value.clientHeight / 2));
  }

  function onWheel(event: WheelEvent): void {
    const rect = stage.value!.getBoundingClientRect();
    Object.assign(view, zoomAbout(view, Math.exp(-event.deltaY * 0.0015), event.clientX - rect.left, event.clientY - rect.top));
  }

  function toImage(event: PointerEvent): [number, number] {
    const rect = stage.value!.getBoundingClientRect();
    return [(event.clientX - rect.left - view.x) / view.scale, (event.clientY - rect.top - view.y) / view.scale];
  }

  return { view, fit, zoomCentre, onWheel, toImage };
}
