import { describe, expect, it } from "vitest";
import { DEFAULT_QUERY, filterParams, pageOf, parseQuery, toUrlQuery, update } from "../src/query";

describe("parseQuery", () => {
  it("reads every field", () => {
    const q = parseQuery({
      label: "3",
      predicted: "5",
      correct: "false",
      min_confidence: "0.25",
      max_confidence: "0.9",
      annotated: "true",
      sort: "loss",
      order: "desc",
      page: "4",
      page_size: "50",
    });
    expect(q).toEqual({
      label: 3,
      predicted: 5,
      correct: false,
      minConfidence: 0.25,
      maxConfidence: 0.9,
      annotated: true,
      suspicious: null,
      versus: null,
      flip: "changed",
      sort: "loss",
      order: "desc",
      page: 4,
      pageSize: 50,
    });
  });

  it("reads a comparison with another model version", () => {
    const q = parseQuery({ versus: "2", flip: "fixed" });
    expect([q.versus, q.flip]).toEqual([2, "fixed"]);
    expect(filterParams(q)).toEqual({ versus: "2", flip: "fixed" });
    expect(parseQuery({ flip: "sideways" }).flip).toBe("changed");
  });

  it("falls back to defaults for nonsense", () => {
    const q = parseQuery({
      label: "-1",
      predicted: "x",
      correct: "maybe",
      min_confidence: "2",
      sort: "colour",
      order: "sideways",
      page: "0",
      page_size: "7",
    });
    expect(q).toEqual(DEFAULT_QUERY);
  });

  it("takes the first of repeated parameters", () => {
    expect(parseQuery({ label: ["2", "4"] }).label).toBe(2);
  });
});

describe("URL round trip", () => {
  it("leaves defaults out and reads back the same state", () => {
    expect(toUrlQuery(DEFAULT_QUERY)).toEqual({});
    const q = { ...DEFAULT_QUERY, correct: true, sort: "confidence" as const, page: 3 };
    expect(parseQuery(toUrlQuery(q))).toEqual(q);
  });

  it("keeps the page out of the filter parameters", () => {
    const q = { ...DEFAULT_QUERY, label: 1, page: 9, pageSize: 25 };
    expect(filterParams(q)).toEqual({ label: "1" });
  });
});

describe("update", () => {
  it("returns to page 1 when a filter changes", () => {
    const q = { ...DEFAULT_QUERY, page: 5 };
    expect(update(q, { correct: false }).page).toBe(1);
    expect(update(q, { pageSize: 50 }).page).toBe(1);
  });

  it("keeps filters when only the page changes", () => {
    const q = { ...DEFAULT_QUERY, label: 2, page: 5 };
    expect(update(q, { page: 6 })).toEqual({ ...q, page: 6 });
  });
});

describe("pageOf", () => {
  it("maps a 0-based index to its 1-based page", () => {
    expect(pageOf(0, 100)).toBe(1);
    expect(pageOf(99, 100)).toBe(1);
    expect(pageOf(100, 100)).toBe(2);
    expect(pageOf(260, 25)).toBe(11);
  });
});
