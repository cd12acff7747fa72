import { describe, expect, it } from "vitest";
import { editDistance, suggestNearest } from "../../lib/config/suggest.js";

describe("editDistance", () => {
  it.each([
    ["image", "image", 0],
    ["imgae", "image", 1], // a swap of neighbours is one edit
    ["", "abc", 3],
    ["kitten", "sitting", 3],
    ["retries", "retry", 3],
  ] as const)("%s -> %s is %i", (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe("suggestNearest", () => {
  const keys = ["name", "image", "command", "env", "workdir", "depends_on", "timeout_seconds", "retries", "secrets"];

  it("suggests a key within max(2, length/3) edits", () => {
    expect(suggestNearest("imgae", keys)).toBe("image");
    expect(suggestNearest("dependson", keys)).toBe("depends_on");
    expect(suggestNearest("dependsOn", keys)).toBe("depends_on");
    expect(suggestNearest("timeout", keys)).toBeUndefined();
    expect(suggestNearest("timeout_secs", keys)).toBe("timeout_seconds");
    expect(suggestNearest("secret", keys)).toBe("secrets");
  });

  it("suggests nothing for far-off words", () => {
    expect(suggestNearest("zzzz", keys)).toBeUndefined();
    expect(suggestNearest("x", ["abc"])).toBeUndefined();
  });
});
