// One runner of the soak: random calls through the real cache-volume store, each state
// operation an exec in the engine double on a shared state dir.
//   tsx soak-worker.ts <stateDir> <volume> <breaker> <seed> <calls>
import { DEFAULT_POLICY, type BreakerPolicy } from "../../../lib/core/policy.js";
import type { Permit } from "../../../lib/core/state.js";
import { seededRandom } from "../../../lib/workflow/backoff.js";
import { withVolumeStore } from "./volume-session.js";

export const SOAK_POLICY: BreakerPolicy = {
  ...DEFAULT_POLICY,
  trip: { kind: "consecutive", threshold: 3 },
  resetTimeoutMs: 300,
  halfOpenMaxProbes: 2,
  halfOpenTimeoutMs: 60_000,
};

const [stateDir, volume, breaker, seed, calls] = process.argv.slice(2);
if (!stateDir || !volume || !breaker || !seed || !calls) throw new Error("usage: soak-worker <stateDir> <volume> <breaker> <seed> <calls>");
const random = seededRandom(Number(seed));
const sent = { acquires: 0, admitted: 0, rejected: 0, successes: 0, failures: 0, cancels: 0, maxProbesSeen: 0 };

await withVolumeStore(stateDir, volume, async (store) => {
  const held: Permit[] = [];
  for (let i = 0; i < Number(calls); i++) {
    if (held.length > 0 && random() < 0.6) {
      const permit = held.splice(Math.floor(random() * held.length), 1)[0] as Permit;
      if (random() < 0.1) {
        await store.apply({ op: "cancel", breaker, policy: SOAK_POLICY, permit });
        sent.cancels += 1;
      } else {
        const ok = random() < 0.55;
        const r = await store.apply({ op: "record", breaker, policy: SOAK_POLICY, permit, outcome: { ok, durationMs: 1, exitCode: ok ? null : 1 } });
        if (r.problems.length) throw new Error(r.problems[0]?.message);
        sent[ok ? "successes" : "failures"] += 1;
      }
      continue;
    }
    const r = await store.apply({ op: "acquire", breaker, policy: SOAK_POLICY, permitId: `${seed}-${i}`, expectedDurationMs: 0 });
    if (r.problems.length) throw new Error(r.problems[0]?.message);
    sent.acquires += 1;
    const state = r.states[0];
    sent.maxProbesSeen = Math.max(sent.maxProbesSeen, state?.probesInFlight.length ?? 0);
    if (r.decision?.admitted) {
      sent.admitted += 1;
      held.push(r.decision.permit);
    } else sent.rejected += 1;
  }
  for (const permit of held) {
    await store.apply({ op: "record", breaker, policy: SOAK_POLICY, permit, outcome: { ok: true, durationMs: 1 } });
    sent.successes += 1;
  }
});
console.log(JSON.stringify(sent));
