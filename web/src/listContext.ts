// The list a user came from (the suspicious queue, an influence panel's column), carried in
// the route query as `from` and `list` (ids in order), so previous / next on the image and
// annotation pages walk that list instead of the whole split.
import { api } from "./api";
import { filterParams, parseQuery } from "./query";
import type { Neighbours } from "./types";

export type ListSource = "queue" | "influence" | "work";
export interface ListContext {
  from: ListSource;
  ids: number[];
}

/** What the pages call each list ("3 of 16 in the …"). */
export const LIST_NAMES: Record<ListSource, string> = {
  queue: "suspicious queue",
  influence: "influence list",
  work: "work queue",
};

function first(value: unknown): string | null {
  const v = Array.isArray(value) ? value[0] : value;
  return typeof v === "string" && v !== "" ? v : null;
}

/** The list in a route query, or null when there is none or it makes no sense. */
export function parseList(raw: Record<string, unknown>): ListContext | null {
  const from = first(raw.from);
  const list = first(raw.list);
  if (from === null || !Object.hasOwn(LIST_NAMES, from) || list === null || !/^\d+(,\d+)*$/.test(list)) return null;
  return { from: from as ListSource, ids: list.split(",").map(Number) };
}

/** The route query that carries `ids` as the list from `from`. */
export function listQuery(from: ListSource, ids: number[]): Record<string, string> {
  return { from, list: ids.join(",") };
}

/** Where `id` stands in the list and its neighbours there; null when it is not in the list
 * (the pages then fall back to the split's order). */
export function stepIn(ids: number[], id: number): Neighbours | null {
  const index = ids.indexOf(id);
  if (index < 0) return null;
  return {
    index,
    total: ids.length,
    previous_id: index > 0 ? ids[index - 1] : null,
    next_id: index < ids.length - 1 ? ids[index + 1] : null,
  };
}

/** The query a link between the image and annotation pages keeps: the gallery's filter and
 * sort, and the list when there is one. */
export function carriedQuery(raw: Record<string, unknown>): Record<string, string> {
  const list = parseList(raw);
  return { ...filterParams(parseQuery(raw)), ...(list ? listQuery(list.from, list.ids) : {}) };
}

/** The neighbours of `id` in the list it came from, else in the split's filtered order. */
export async function neighboursOf(
  id: number,
  split: string,
  raw: Record<string, unknown>,
): Promise<Neighbours & { from: ListSource | null }> {
  const list = parseList(raw);
  const inList = list ? stepIn(list.ids, id) : null;
  if (list && inList) return { ...inList, from: list.from };
  return { ...(await api.neighbours(id, { split, ...filterParams(parseQuery(raw)) })), from: null };
}
