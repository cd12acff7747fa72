/**
 * The depends_on graph of a workflow's steps: cycles and the layers steps can run in.
 */

export interface StepNode {
  name: string;
  dependsOn: readonly string[];
}

/**
 * Every distinct cycle, each as the step names in depends_on order with the first repeated at the
 * end (`["a", "b", "a"]` reads "a depends on b, b depends on a"). Unknown names are ignored here.
 */
export function findCycles(steps: readonly StepNode[]): string[][] {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const state = new Map<string, "visiting" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();

  const visit = (name: string): void => {
    state.set(name, "visiting");
    stack.push(name);
    for (const dependency of byName.get(name)?.dependsOn ?? []) {
      if (!byName.has(dependency)) continue;
      const dependencyState = state.get(dependency);
      if (dependencyState === "visiting") {
        const cycle = [...stack.slice(stack.indexOf(dependency)), dependency];
        const key = [...new Set(cycle)].sort().join("\u0000");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (dependencyState === undefined) {
        visit(dependency);
      }
    }
    stack.pop();
    state.set(name, "done");
  };

  for (const step of steps) if (!state.has(step.name)) visit(step.name);
  return cycles;
}

/**
 * Steps grouped so that each layer depends only on earlier layers; within a layer, steps keep
 * their declared order and may run concurrently. Expects a graph already checked for cycles and
 * unknown names, and throws if given one that is not.
 */
export function layersOf(steps: readonly StepNode[]): string[][] {
  const byName = new Map(steps.map((step) => [step.name, step]));
  const depth = new Map<string, number>();
  const depthOf = (name: string, path: readonly string[]): number => {
    const known = depth.get(name);
    if (known !== undefined) return known;
    if (path.includes(name)) throw new Error(`steps depend on each other in a cycle: ${[...path, name].join(" -> ")}`);
    const step = byName.get(name);
    if (step === undefined) throw new Error(`unknown step ${JSON.stringify(name)} in depends_on of ${JSON.stringify(path[path.length - 1])}`);
    const result = Math.max(-1, ...step.dependsOn.map((dependency) => depthOf(dependency, [...path, name]))) + 1;
    depth.set(name, result);
    return result;
  };
  const layers: string[][] = [];
  for (const step of steps) {
    const level = depthOf(step.name, []);
    while (layers.length <= level) layers.push([]);
    layers[level]?.push(step.name);
  }
  return layers;
}
