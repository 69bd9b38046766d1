// Saliency settings and the current map of one image, shared by the image page and the
// annotation page: which method, for which class, shown or not, and the map as a blob URL.
import { reactive, toRef, watch } from "vue";
import { saliencyUrl } from "./api";
import { opaque } from "./editor/codec";
import { useMethodChoice } from "./methods";

export interface SaliencySettings {
  show: boolean;
  method: string;
  target: number | null; // null: the predicted class
  opacity: number;
  mapOnly: boolean; // the map alone, opaque, without the image under it
}

export function useSaliency(id: () => number, available: () => boolean) {
  const settings = reactive<SaliencySettings>({ show: false, method: "", target: null, opacity: 0.7, mapOnly: false });
  useMethodChoice("saliency", toRef(settings, "method"));
  const state = reactive({ loading: false, error: "", share: null as number | null, target: null as number | null, url: "", opaqueUrl: "" });

  /** The URL to show: the map over the image, or alone and opaque. */
  const shown = () => (settings.mapOnly ? state.opaqueUrl : state.url);

  /** The map's URL for the current settings (its alpha channel is the normalised saliency). */
  const url = () => saliencyUrl(id(), settings.method, settings.target);

  let latest = 0; // a slower answer to older settings must not replace the newer map

  async function load(): Promise<void> {
    if (!settings.show || !available()) return;
    const request = ++latest;
    state.loading = true;
    state.error = "";
    try {
      const response = await fetch(url());
      if (!response.ok) throw new Error((await response.json()).detail ?? response.statusText);
      const map = await response.blob();
      const opaqueMap = await opaque(map);
      if (request !== latest) return;
      const share = response.headers.get("x-mask-share");
      state.share = share === null ? null : Number(share);
      state.target = Number(response.headers.get("x-target"));
      for (const old of [state.url, state.opaqueUrl]) if (old) URL.revokeObjectURL(old);
      state.url = URL.createObjectURL(map);
      state.opaqueUrl = URL.createObjectURL(opaqueMap);
    } catch (e) {
      if (request === latest) state.error = String(e instanceof Error ? e.message : e);
    } finally {
      if (request === latest) state.loading = false;
    }
  }
  watch([() => settings.show, () => settings.method, () => settings.target, id], load);

  return { settings, state, url, shown, load };
}
