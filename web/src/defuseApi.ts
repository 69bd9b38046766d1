// Defuse (/api/v1/defuse): runs (VAE), the error search, regions with decoded samples and
// labels, the correction sweep and its report.
import { API, errorFrom, withCsrf, withParams } from "./api";
import type { components } from "./api-schema";

type Schemas = components["schemas"];
export type DefuseRun = Schemas["DefuseRunInfo"];
export type DefuseRegion = Schemas["RegionInfo"];
export type DefuseSample = Schemas["DecodedOut"];
export type DefuseReport = Schemas["CorrectionReport"];

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(API + path, withCsrf(init));
  if (!response.ok) throw await errorFrom(response);
  return (await response.json()) as T;
}

function send(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

export const defuseApi = {
  runs: () => call<DefuseRun[]>("/defuse/runs"),
  regions: (run: number) => call<DefuseRegion[]>(`/defuse/runs/${run}/regions`),
  samples: (run: number, region: number) => call<DefuseSample[]>(`/defuse/runs/${run}/regions/${region}/samples`),
  label: (run: number, region: number, label: string | null, unrecognisable = false) =>
    call<DefuseRegion>(`/defuse/runs/${run}/regions/${region}/label`, send({ label, unrecognisable }, "PUT")),
  correct: (run: number, epochs: number) => call<{ id: number }>(`/defuse/runs/${run}/correct`, send({ epochs })),
  report: async (run: number): Promise<DefuseReport | null> => {
    const response = await fetch(withParams(`${API}/defuse/runs/${run}/report`, {}), withCsrf());
    if (response.status === 400) return null; // no correction yet
    if (!response.ok) throw await errorFrom(response);
    return (await response.json()) as DefuseReport;
  },
};

export function previewUrl(run: number): string {
  return `${API}/defuse/runs/${run}/preview`;
}
