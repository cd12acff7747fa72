import { parseState } from "../../core/serialize.js";
import type { WriteRequest } from "../apply.js";
import type { StateResponse } from "../request.js";

/**
 * Whether `text`, read after a write whose answer was lost (a dropped connection, a timeout
 * during a failover), shows that write applied: the permit the lost `acquire` would have issued
 * holds a probe or concurrency slot, or the permit a lost `record`/`cancel` reported is settled.
 * Then the request is done and must not be applied again: a second acquire would take a second
 * slot for one caller. Applying anything else again is harmless or caught by the core (a report
 * sent twice counts once); only the `admitted` or `rejections` counter of a plain admission or
 * refusal can count one more.
 */
export function showsApplied(request: WriteRequest, earlier: StateResponse, text: string | null): boolean {
  if (text === null) return false;
  let state;
  try {
    state = parseState(text, request.breaker);
  } catch {
    return false;
  }
  if (request.op === "acquire") {
    const decision = earlier.decision;
    if (!decision?.admitted) return false;
    const id = decision.permit.id;
    return state.probesInFlight.some((p) => p.id === id) || state.leases.some((p) => p.id === id);
  }
  if (request.op === "record" || request.op === "cancel") return state.settledPermits.includes(request.permit.id);
  return false;
}
