// MAD (/api/v1/mad): registered models, pool scoring, rounds, the rating queue and ratings,
// picks and strong labels, fine-tuning, the per-round table and the model ranking.
import { API, errorFrom, withCsrf, withParams } from "./api";
import type { components } from "./api-schema";

type Schemas = components["schemas"];
export type MadModel = Schemas["Competitor"];
export type MadRound = Schemas["RoundInfo"];
export type MadCandidate = Schemas["CandidateInfo"];
export type MadNext = Schemas["NextOut"];
export type MadOpinion = Schemas["Opinion"];
export type MadAgreement = Schemas["Agreement"];
export type MadTable = Schemas["RoundsTable"];
export type MadRanking = Schemas["Ranking"];
export type MadRating = Schemas["Rating"];

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const response = await fetch(API + path, withCsrf(init));
  if (!response.ok) throw await errorFrom(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

function send(body: unknown, method = "POST"): RequestInit {
  return { method, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

/** The rater name in local mode (the server uses the signed-in account in team mode). */
const rater = (name: string) => (name.trim() ? { rater: name.trim() } : {});

export const madApi = {
  models: () => call<MadModel[]>("/mad/models"),
  add: (version: number, imageSize: number | null) =>
    call<MadModel>("/mad/models", send({ version, ...(imageSize ? { image_size: imageSize } : {}) })),
  score: () => call<{ id: number }>("/mad/score", send({})),
  rounds: () => call<MadRound[]>("/mad/rounds"),
  newRound: (threshold: number) => call<MadRound>("/mad/rounds", send({ threshold })),
  round: (id: number) => call<MadRound>(`/mad/rounds/${id}`),
  next: (round: number, name: string) => call<MadNext>(withParams(`/mad/rounds/${round}/next`, rater(name))),
  rate: (round: number, imageId: number, score: number, name: string) =>
    call<MadRating>(`/mad/rounds/${round}/ratings`, send({ image_id: imageId, score, ...rater(name) })),
  undo: (round: number, name: string) => call<MadRating | null>(`/mad/rounds/${round}/undo`, send(rater(name))),
  opinions: (round: number) => call<MadOpinion[]>(`/mad/rounds/${round}/opinions`),
  agreement: (round: number) => call<MadAgreement>(`/mad/rounds/${round}/agreement`),
  pick: (round: number) => call<{ train: number[]; test: number[] }>(`/mad/rounds/${round}/pick`, send({})),
  queue: (round: number) => call<MadCandidate[]>(`/mad/rounds/${round}/queue`),
  label: (round: number, imageId: number, label: string) =>
    call<void>(`/mad/rounds/${round}/labels/${imageId}`, send({ label }, "PUT")),
  finetune: (round: number, epochs: number) => call<{ id: number }>(`/mad/rounds/${round}/finetune`, send({ epochs })),
  table: () => call<MadTable>("/mad/table"),
  ranking: () => call<MadRanking>("/mad/ranking"),
};

export function ratingsUrl(round: number, format: "csv" | "json"): string {
  return withParams(`${API}/mad/rounds/${round}/ratings`, { format, history: true });
}

export function imageUrl(id: number): string {
  return `${API}/images/${id}/file`;
}

/** The 1-5 absolute category scale (0: out of domain), as the keys rate. */
export const SCALE: [number, string][] = [
  [1, "bad"],
  [2, "poor"],
  [3, "fair"],
  [4, "good"],
  [5, "excellent"],
  [0, "out of domain"],
];
