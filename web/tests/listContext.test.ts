import { describe, expect, it } from "vitest";
import { carriedQuery, listQuery, parseList, stepIn } from "../src/listContext";

describe("the list a user came from", () => {
  it("round-trips through the route query", () => {
    const query = listQuery("queue", [42, 7, 19]);
    expect(query).toEqual({ from: "queue", list: "42,7,19" });
    expect(parseList(query)).toEqual({ from: "queue", ids: [42, 7, 19] });
  });

  it("ignores an unknown source or a malformed list", () => {
    expect(parseList({})).toBeNull();
    expect(parseList({ from: "gallery", list: "1,2" })).toBeNull();
    expect(parseList({ from: "queue", list: "1,,2" })).toBeNull();
    expect(parseList({ from: "influence", list: "1,x" })).toBeNull();
    expect(parseList({ from: "influence" })).toBeNull();
    expect(parseList({ from: "constructor", list: "1" })).toBeNull();
    expect(parseList({ from: "work", list: "4,2" })).toEqual({ from: "work", ids: [4, 2] });
    expect(parseList({ from: ["influence", "queue"], list: ["5"] })).toEqual({ from: "influence", ids: [5] });
  });

  it("steps through the list, not the split", () => {
    const ids = [42, 7, 19];
    expect(stepIn(ids, 42)).toEqual({ index: 0, total: 3, previous_id: null, next_id: 7 });
    expect(stepIn(ids, 7)).toEqual({ index: 1, total: 3, previous_id: 42, next_id: 19 });
    expect(stepIn(ids, 19)).toEqual({ index: 2, total: 3, previous_id: 7, next_id: null });
  });

  it("gives way to the split's order for an image outside the list", () => {
    expect(stepIn([42, 7, 19], 8)).toBeNull();
  });

  it("keeps the gallery's filter and the list on links between image and editor", () => {
    const raw = { correct: "false", sort: "loss", page: "3", from: "queue", list: "4,5", proposal: "9" };
    expect(carriedQuery(raw)).toEqual({ correct: "false", sort: "loss", from: "queue", list: "4,5" });
    expect(carriedQuery({ label: "2" })).toEqual({ label: "2" });
  });
});
