import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { findCycles, layersOf, type StepNode } from "../../lib/config/step-graph.js";

/** Random acyclic graphs: a step may only depend on steps declared before it... then shuffled. */
const dag: fc.Arbitrary<StepNode[]> = fc
  .integer({ min: 1, max: 12 })
  .chain((size) =>
    fc.tuple(
      fc.tuple(...Array.from({ length: size }, (_, i) => fc.subarray(Array.from({ length: i }, (_, j) => `s${j}`)))),
      fc.shuffledSubarray(Array.from({ length: size }, (_, i) => i), { minLength: size, maxLength: size }),
    ),
  )
  .map(([deps, order]) => order.map((i) => ({ name: `s${i}`, dependsOn: deps[i] ?? [] })));

describe("layersOf", () => {
  it("places every step once, after all of its dependencies, as early as possible", () => {
    fc.assert(
      fc.property(dag, (steps) => {
        const layers = layersOf(steps);
        const layerOf = new Map(layers.flatMap((layer, index) => layer.map((name) => [name, index] as const)));
        expect([...layerOf.keys()].sort()).toEqual(steps.map((s) => s.name).sort());
        expect(layers.flat()).toHaveLength(steps.length);
        for (const step of steps) {
          const own = layerOf.get(step.name) ?? -1;
          const deepest = Math.max(-1, ...step.dependsOn.map((d) => layerOf.get(d) ?? Infinity));
          expect(own).toBe(deepest + 1);
        }
        // Declared order is kept inside a layer.
        for (const layer of layers) {
          const declared = steps.map((s) => s.name).filter((name) => layer.includes(name));
          expect(layer).toEqual(declared);
        }
        expect(findCycles(steps)).toEqual([]);
      }),
      { seed: 7, numRuns: 300 },
    );
  });

  it("throws on a cycle instead of looping", () => {
    expect(() => layersOf([{ name: "a", dependsOn: ["b"] }, { name: "b", dependsOn: ["a"] }])).toThrow(
      "steps depend on each other in a cycle: a -> b -> a",
    );
  });
});

describe("findCycles", () => {
  it("finds each cycle once, in depends_on order, ignoring unknown names", () => {
    const steps: StepNode[] = [
      { name: "a", dependsOn: ["b", "ghost"] },
      { name: "b", dependsOn: ["c"] },
      { name: "c", dependsOn: ["a", "b"] },
      { name: "d", dependsOn: ["d"] },
      { name: "e", dependsOn: ["a"] },
    ];
    expect(findCycles(steps)).toEqual([
      ["a", "b", "c", "a"],
      ["b", "c", "b"],
      ["d", "d"],
    ]);
  });

  it("reports a cycle whenever a back edge is added to an acyclic graph", () => {
    fc.assert(
      fc.property(dag, (steps) => {
        // Make the first step depend on a step that (transitively) depends on it, if one exists.
        const first = steps[0];
        const dependent = steps.find((s) => s.dependsOn.includes(first?.name ?? ""));
        if (first === undefined || dependent === undefined) return;
        const cyclic = steps.map((s) => (s === first ? { ...s, dependsOn: [...s.dependsOn, dependent.name] } : s));
        const cycles = findCycles(cyclic);
        expect(cycles.length).toBeGreaterThan(0);
        for (const cycle of cycles) expect(cycle[0]).toBe(cycle[cycle.length - 1]);
      }),
      { seed: 11, numRuns: 300 },
    );
  });
});
