// The gallery's filter, sort and page, kept in the URL so a view can be bookmarked and shared.
import type { Split } from "./types";

export type SortKey = "name" | "id" | "loss" | "confidence" | "suspicion";
export type Order = "asc" | "desc";

export interface GalleryQuery {
  label: number | null;
  predicted: number | null;
  correct: boolean | null;
  minConfidence: number | null;
  maxConfidence: number | null;
  annotated: boolean | null;
  suspicious: boolean | null;
  versus: number | null;
  flip: "changed" | "fixed" | "broken";
  sort: SortKey;
  order: Order;
  page: number;
  pageSize: number;
}

export const PAGE_SIZES = [25, 50, 100, 200];
const SORTS: SortKey[] = ["name", "id", "loss", "confidence", "suspicion"];

export const DEFAULT_QUERY: GalleryQuery = {
  label: null,
  predicted: null,
  correct: null,
  minConfidence: null,
  maxConfidence: null,
  annotated: null,
  suspicious: null,
  versus: null,
  flip: "changed",
  sort: "name",
  order: "asc",
  page: 1,
  pageSize: 100,
};

type RawQuery = Record<string, unknown>;

function first(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === "string" && v !== "" ? v : null;
}

function optionalBool(value: unknown): boolean | null {
  const text = first(value);
  return text === "true" ? true : text === "false" ? false : null;
}

function nonNegativeInt(value: unknown): number | null {
  const text = first(value);
  if (text === null || !/^\d+$/.test(text)) return null;
  return Number(text);
}

function unitFloat(value: unknown): number | null {
  const text = first(value);
  if (text === null) return null;
  const n = Number(text);
  return Number.isFinite(n) && n >= 0 && n <= 1 ? n : null;
}

/** Read the URL query; values that make no sense fall back to their defaults. */
export function parseQuery(raw: RawQuery): GalleryQuery {
  const sort = first(raw.sort) as SortKey | null;
  const pageSize = nonNegativeInt(raw.page_size);
  return {
    label: nonNegativeInt(raw.label),
    predicted: nonNegativeInt(raw.predicted),
    correct: optionalBool(raw.correct),
    minConfidence: unitFloat(raw.min_confidence),
    maxConfidence: unitFloat(raw.max_confidence),
    annotated: optionalBool(raw.annotated),
    suspicious: optionalBool(raw.suspicious),
    versus: nonNegativeInt(raw.versus),
    flip: first(raw.flip) === "fixed" ? "fixed" : first(raw.flip) === "broken" ? "broken" : "changed",
    sort: sort && SORTS.includes(sort) ? sort : DEFAULT_QUERY.sort,
    order: first(raw.order) === "desc" ? "desc" : "asc",
    page: Math.max(1, nonNegativeInt(raw.page) ?? 1),
    pageSize: pageSize && PAGE_SIZES.includes(pageSize) ? pageSize : DEFAULT_QUERY.pageSize,
  };
}

/** The filter and sort as API / URL parameters (snake_case), defaults left out. */
export function filterParams(q: GalleryQuery): Record<string, string> {
  const out: Record<string, string> = {};
  if (q.label !== null) out.label = String(q.label);
  if (q.predicted !== null) out.predicted = String(q.predicted);
  if (q.correct !== null) out.correct = String(q.correct);
  if (q.minConfidence !== null) out.min_confidence = String(q.minConfidence);
  if (q.maxConfidence !== null) out.max_confidence = String(q.maxConfidence);
  if (q.annotated !== null) out.annotated = String(q.annotated);
  if (q.suspicious !== null) out.suspicious = String(q.suspicious);
  if (q.versus !== null) out.versus = String(q.versus);
  if (q.versus !== null && q.flip !== "changed") out.flip = q.flip;
  if (q.sort !== DEFAULT_QUERY.sort) out.sort = q.sort;
  if (q.order !== DEFAULT_QUERY.order) out.order = q.order;
  return out;
}

/** The full URL query of a gallery page, defaults left out. */
export function toUrlQuery(q: GalleryQuery): Record<string, string> {
  const out = filterParams(q);
  if (q.page !== 1) out.page = String(q.page);
  if (q.pageSize !== DEFAULT_QUERY.pageSize) out.page_size = String(q.pageSize);
  return out;
}

/** A changed filter or sort starts again at page 1; a page change keeps everything else. */
export function update(q: GalleryQuery, change: Partial<GalleryQuery>): GalleryQuery {
  const resetsPage = Object.keys(change).some((k) => k !== "page");
  return { ...q, ...change, page: resetsPage ? 1 : (change.page ?? q.page) };
}

/** The page (1-based) of the gallery on which the item at `index` (0-based) appears. */
export function pageOf(index: number, pageSize: number): number {
  return Math.floor(index / pageSize) + 1;
}

export function isSplit(value: unknown): value is Split {
  return value === "train" || value === "validation" || value === "test" || value === "pool";
}
