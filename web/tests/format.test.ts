import { describe, expect, it } from "vitest";
import { cellColour, cellText, className, duration, number, percent, proposalsMade, secondsLeft, sentence } from "../src/format";

describe("formatting", () => {
  it("shows missing values as a dash", () => {
    expect(percent(null)).toBe("–");
    expect(number(undefined)).toBe("–");
    expect(className(["a"], null)).toBe("–");
  });

  it("formats numbers", () => {
    expect(percent(0.3591)).toBe("35.9%");
    expect(percent(1, 0)).toBe("100%");
    expect(number(6.28799)).toBe("6.288");
    expect(className(["cat", "dog"], 1)).toBe("dog");
    expect(className(["cat"], 4)).toBe("#4");
  });

  it("turns a server message into a sentence", () => {
    expect(sentence("the index is missing")).toBe("The index is missing.");
    expect(sentence("Done already.")).toBe("Done already.");
    expect(sentence("  ")).toBe("");
  });
});

describe("confusion colours", () => {
  it("leaves empty cells blank and scales with the row share", () => {
    expect(cellColour(0, 10, false)).toBe("transparent");
    expect(cellColour(3, 0, true)).toBe("transparent");
    expect(cellColour(10, 10, true)).toBe("rgba(37, 99, 235, 0.900)");
    expect(cellColour(1, 10, false)).toBe("rgba(220, 38, 38, 0.198)");
  });

  it("switches to white text on strong cells", () => {
    expect(cellText(9, 10)).toBe("#fff");
    expect(cellText(2, 10)).toBe("inherit");
  });
});

describe("time left", () => {
  it("extrapolates from the progress so far", () => {
    const started = "2026-01-01T00:00:00Z";
    const now = Date.parse(started) + 10_000;
    expect(secondsLeft(25, 100, started, now)).toBe(30);
    expect(secondsLeft(0, 100, started, now)).toBeNull();
    expect(secondsLeft(100, 100, started, now)).toBeNull();
    expect(secondsLeft(5, 10, null, now)).toBeNull();
  });

  it("reads like a person would say it", () => {
    expect(duration(null)).toBe("–");
    expect(duration(42.4)).toBe("42 s");
    expect(duration(125)).toBe("2 min 5 s");
    expect(duration(7260)).toBe("2 h 1 min");
  });
});

describe("proposalsMade", () => {
  it("says how many proposals wait and how many images got none", () => {
    expect(proposalsMade({ proposals: 3, empty: 0 })).toBe("3 proposals to review");
    expect(proposalsMade({ proposals: 1, empty: 2 })).toBe("1 proposal to review; 2 images got no proposal (the method found nothing)");
    expect(proposalsMade({})).toBe("0 proposals to review");
  });
});
