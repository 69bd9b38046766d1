// Between masks and pixels the browser can handle: PNG blobs, canvases, overlays.
import { BinaryMask, type Box } from "./mask";

function canvas(width: number, height: number): HTMLCanvasElement {
  const c = document.createElement("canvas");
  c.width = width;
  c.height = height;
  return c;
}

/** The mask as an opaque black-and-white PNG (0 and 255), which the server accepts as binary. */
export function maskToPng(mask: BinaryMask): Promise<Blob> {
  const c = canvas(mask.width, mask.height);
  const ctx = c.getContext("2d")!;
  const image = ctx.createImageData(mask.width, mask.height);
  for (let i = 0; i < mask.data.length; i++) {
    const v = mask.data[i] ? 255 : 0;
    image.data[i * 4] = v;
    image.data[i * 4 + 1] = v;
    image.data[i * 4 + 2] = v;
    image.data[i * 4 + 3] = 255;
  }
  ctx.putImageData(image, 0, 0);
  return pngOf(c);
}

function pngOf(c: HTMLCanvasElement): Promise<Blob> {
  return new Promise((resolve, reject) =>
    c.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("PNG encoding failed"))), "image/png"),
  );
}

/** The image with every pixel made opaque: a saliency map's colours alone, without the alpha
 * that lets the image show through (the heat-map-only view). */
export async function opaque(source: Blob): Promise<Blob> {
  const pixels = await pixelsOf(source);
  for (let i = 3; i < pixels.data.length; i += 4) pixels.data[i] = 255;
  const c = canvas(pixels.width, pixels.height);
  c.getContext("2d")!.putImageData(pixels, 0, 0);
  return pngOf(c);
}

/** RGBA pixels of an image blob or URL at its native size. */
export async function pixelsOf(source: Blob | string): Promise<ImageData> {
  const blob = typeof source === "string" ? await (await fetch(source)).blob() : source;
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: "none", premultiplyAlpha: "none" });
  const c = canvas(bitmap.width, bitmap.height);
  const ctx = c.getContext("2d", { willReadFrequently: true })!;
  ctx.drawImage(bitmap, 0, 0);
  return ctx.getImageData(0, 0, bitmap.width, bitmap.height);
}

export async function pngToMask(blob: Blob, width: number, height: number): Promise<BinaryMask> {
  const pixels = await pixelsOf(blob);
  if (pixels.width !== width || pixels.height !== height)
    throw new Error(`the mask is ${pixels.width}x${pixels.height}, the image ${width}x${height}`);
  const mask = new BinaryMask(width, height);
  for (let i = 0; i < mask.data.length; i++) mask.data[i] = pixels.data[i * 4] > 127 ? 1 : 0;
  return mask;
}

/** Draw the pixels of `mask` inside `box` onto an overlay canvas in one colour. */
export function drawOverlay(
  ctx: CanvasRenderingContext2D,
  mask: BinaryMask | Uint8Array,
  width: number,
  box: Box,
  colour: [number, number, number],
): void {
  const data = mask instanceof BinaryMask ? mask.data : mask;
  const image = ctx.createImageData(box.w, box.h);
  for (let row = 0; row < box.h; row++) {
    for (let col = 0; col < box.w; col++) {
      if (!data[(box.y + row) * width + box.x + col]) continue;
      const o = (row * box.w + col) * 4;
      image.data[o] = colour[0];
      image.data[o + 1] = colour[1];
      image.data[o + 2] = colour[2];
      image.data[o + 3] = 255;
    }
  }
  ctx.putImageData(image, box.x, box.y);
}
