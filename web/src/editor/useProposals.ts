// Machine proposals shown in green before the user adds them: GrabCut, the segmentation
// model and a thresholded saliency map all end in the same place.
import { reactive, ref, shallowRef } from "vue";
import { api, ApiError } from "../api";
import type { ImageDetail } from "../types";
import { pixelsOf, pngToMask } from "./codec";

export function useProposals(
  image: () => ImageDetail | null,
  shown: () => void,
  failed: (e: ApiError) => void,
  saliencyMap: () => string, // the URL of the saliency map the threshold tool cuts
) {
  const proposal = shallowRef<Uint8Array | null>(null);
  const grab = reactive({ box: null as number[] | null, fg: [] as number[][], bg: [] as number[][] });
  const clicks = reactive({ points: [] as number[][], labels: [] as number[] });
  // The map last fetched (its URL names method and class) and its alpha channel.
  const salient = reactive({ threshold: 0.5, source: "", alpha: null as Uint8ClampedArray | null });
  const segmentation = ref<{ configured: boolean; how_to: string } | null>(null);

  /** Run one proposal source; its mask (native size, 0/1) replaces the shown proposal. */
  async function propose(source: (target: ImageDetail) => Promise<Uint8Array>): Promise<void> {
    const target = image();
    if (!target) return;
    try {
      proposal.value = await source(target);
      shown();
    } catch (e) {
      failed(e instanceof ApiError ? e : new ApiError(0, String(e)));
    }
  }

  async function fromPng(png: Blob, target: ImageDetail): Promise<Uint8Array> {
    return (await pngToMask(png, target.width, target.height)).data;
  }

  const grabCut = () =>
    grab.box ? propose(async (t) => fromPng(await api.grabcut(t.id, grab.box!, grab.fg, grab.bg), t)) : undefined;

  const segment = () =>
    clicks.points.length
      ? propose(async (t) => fromPng(await api.segment(t.id, clicks.points, clicks.labels), t))
      : undefined;

  /** Pixels where the model looks most: the heat map's alpha above the threshold. */
  const saliency = () =>
    propose(async (t) => {
      if (salient.source !== saliencyMap() || !salient.alpha) {
        salient.source = saliencyMap();
        salient.alpha = (await pixelsOf(salient.source)).data;
      }
      const level = salient.threshold * 255;
      const out = new Uint8Array(t.width * t.height);
      for (let i = 0; i < out.length; i++) out[i] = salient.alpha[i * 4 + 3] >= level ? 1 : 0;
      return out;
    });

  async function loadSegmentation(): Promise<void> {
    segmentation.value ??= await api.segmentation();
  }

  function discard(): void {
    proposal.value = null;
    grab.box = null;
    grab.fg = [];
    grab.bg = [];
    clicks.points = [];
    clicks.labels = [];
    shown();
  }

  /** A new image: nothing proposed, no cached saliency. */
  function reset(): void {
    salient.alpha = null;
    salient.source = "";
    discard();
  }

  return { proposal, grab, clicks, salient, segmentation, grabCut, segment, saliency, loadSegmentation, discard, reset };
}
