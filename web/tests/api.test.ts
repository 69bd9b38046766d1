import { afterEach, describe, expect, it, vi } from "vitest";
import { api, ApiError, errorFrom, thumbnailUrl, withParams } from "../src/api";

afterEach(() => vi.unstubAllGlobals());

describe("withParams", () => {
  it("drops empty values and encodes the rest", () => {
    expect(withParams("/images", { split: "test", label: null, sort: "", page: 2 })).toBe(
      "/images?split=test&page=2",
    );
    expect(withParams("/x")).toBe("/x");
  });

  it("carries the fingerprint prefix in media URLs", () => {
    expect(thumbnailUrl(7, "abcdef0123456789")).toBe(
      "/api/v1/images/7/thumbnail?size=128&v=abcdef012345",
    );
  });
});

describe("errors", () => {
  it("reads our detail and fix", async () => {
    const response = new Response(JSON.stringify({ detail: "image 9 does not exist", fix: "list ids" }), {
      status: 404,
    });
    const error = await errorFrom(response);
    expect(error.status).toBe(404);
    expect(error.message).toBe("image 9 does not exist");
    expect(error.fix).toBe("list ids");
  });

  it("reads a validation error and the version a conflict found", async () => {
    const invalid = { detail: "invalid request: query.page: Input should be greater than or equal to 1", fix: "correct those fields" };
    const error = await errorFrom(new Response(JSON.stringify(invalid), { status: 422 }));
    expect(error.message).toBe(invalid.detail);
    expect(error.fix).toBe("correct those fields");
    const stale = { detail: "mask version 1 is outdated", fix: "reload", current_version: 3 };
    expect((await errorFrom(new Response(JSON.stringify(stale), { status: 409 }))).currentVersion).toBe(3);
  });

  it("keeps the status line for bodies that are not JSON", async () => {
    const error = await errorFrom(new Response("<html>", { status: 502, statusText: "Bad Gateway" }));
    expect(error.message).toBe("502 Bad Gateway");
  });

  it("turns a network failure into a message that says what to check", async () => {
    vi.stubGlobal("fetch", vi.fn().mockRejectedValue(new TypeError("Failed to fetch")));
    await expect(api.workspace()).rejects.toBeInstanceOf(ApiError);
    await expect(api.workspace()).rejects.toMatchObject({ status: 0, fix: "Is `robustar serve` running?" });
  });

  it("throws ApiError on a non-2xx answer", async () => {
    vi.stubGlobal(
      "fetch",
      vi.fn().mockResolvedValue(new Response(JSON.stringify({ detail: "nope" }), { status: 400 })),
    );
    await expect(api.images({ split: "test" })).rejects.toMatchObject({ status: 400, message: "nope" });
  });

  it("queues predictions of a version for the splits a comparison needs", async () => {
    const fetch = vi.fn().mockResolvedValue(new Response(JSON.stringify({ id: 4 }), { status: 202 }));
    vi.stubGlobal("fetch", fetch);
    expect((await api.predict(3, ["train", "test"])).id).toBe(4);
    const [url, init] = fetch.mock.calls[0];
    expect([String(url), init.method]).toEqual(["/api/v1/jobs/predict", "POST"]);
    expect(JSON.parse(init.body)).toEqual({ version: 3, splits: ["train", "test"] });
  });
});
