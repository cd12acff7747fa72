// One process of the cache-volume throughput benchmark (bench/store-throughput.ts): the real
// cache-volume store, talking through the SDK client to its own engine double on a state dir
// shared with the other processes, does acquire + record pairs on one shared breaker.
//
//   tsx bench/workers/volume-worker.ts <volume> <breaker> <worker id>
//
// It prints {"ready":true} once loaded, then reads commands from stdin, one a line:
//   "open <stateDir>"  starts an engine double on that state dir and a client session to it,
//                      does one untimed pair (so the first exec's set-up is not timed), and
//                      prints {"opened":true};
//   "go <pairs>"       does that many pairs and prints {"start","end"} (absolute milliseconds,
//                      comparable between processes);
//   "close"            ends the session and the double, prints {"closed":true};
//   "exit".
// Loading tsx, the double and the SDK takes seconds per process, so the benchmark starts its
// workers once and opens a fresh state dir for each process count.
import { randomUUID } from "node:crypto";
import { withVolumeStore } from "../../tests/soak/helpers/volume-session.js";
import { BENCH_POLICY, commands, pairs, type Store } from "./pairs.js";

const [volume, breaker, id] = process.argv.slice(2);
if (!volume || !breaker || !id) throw new Error("usage: volume-worker <volume> <breaker> <id>");

const lines = commands();
const say = (o: unknown) => process.stdout.write(`${JSON.stringify(o)}\n`);
const parse = (line: string) => line.trim().split(/\s+/) as [string, string | undefined];

say({ ready: true });
for await (const line of lines) {
  const [command, arg] = parse(line);
  if (command === "exit") break;
  if (command !== "open" || !arg) throw new Error(`expected "open <stateDir>", got ${JSON.stringify(line)}`);
  await withVolumeStore(arg, volume, async (store: Store) => {
    await pairs(store, breaker, BENCH_POLICY, `${id}-warm-${randomUUID()}`, 1);
    say({ opened: true });
    for await (const inner of lines) {
      const [c, n] = parse(inner);
      if (c === "close") return;
      if (c !== "go") throw new Error(`unknown command ${JSON.stringify(inner)}`);
      const start = performance.timeOrigin + performance.now();
      await pairs(store, breaker, BENCH_POLICY, `${id}-${randomUUID()}`, Number(n));
      say({ start, end: performance.timeOrigin + performance.now() });
    }
  });
  say({ closed: true });
}
lines.close();
