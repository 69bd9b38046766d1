// Attribute edits (/api/v1/edits): the edits and their ranges, the live preview, benchmark
// jobs and their stored tables.
import { API, errorFrom, withCsrf, withParams } from "./api";
import type { components } from "./api-schema";

type Schemas = components["schemas"];
export type EditInfo = Schemas["MethodInfo"];
export type EditPreview = Schemas["PreviewOut"];
export type EditRun = Schemas["RunInfo"];
export type EditRow = Schemas["Row"];
export type EditFlip = Schemas["FlipOut"];
export type EditOptions = Record<string, string | number>;

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(API + path, withCsrf(init));
  if (!response.ok) throw await errorFrom(response);
  return (await response.json()) as T;
}

function post(body: unknown): RequestInit {
  return { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export const editsApi = {
  list: () => call<EditInfo[]>("/edits"),
  preview: (imageId: number, name: string, options: EditOptions, seed: number) =>
    call<EditPreview>("/edits/preview", post({ image_id: imageId, edit: { name, options }, seed })),
  runs: () => call<EditRun[]>("/edits/runs"),
  flips: (run: number) => call<EditFlip[]>(withParams(`/edits/runs/${run}/flips`, { limit: 50 })),
  benchmark: (split: string, seeds: number, limit: number | null, tenCrop = false) =>
    call<{ id: number }>("/edits/benchmark", post({ split, seeds, ten_crop: tenCrop, ...(limit ? { limit } : {}) })),
};

export function tableUrl(runs: number[], format: "markdown" | "html"): string {
  const search = new URLSearchParams(runs.map((r) => ["runs", String(r)]));
  search.set("format", format);
  return `${API}/edits/table?${search.toString()}`;
}
