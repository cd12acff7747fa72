import * as z from "zod/mini";
import type { BreakerPolicy } from "../core/policy.js";
import { permitSchema, policySchema } from "../core/serialize.js";
import type { Permit } from "../core/state.js";

/**
 * A permit and the policy it was issued under, as one opaque string a caller can keep
 * between `acquire` and `record`, even across separate `dagger call` runs.
 */
const tokenSchema = z.object({ v: z.literal(1), permit: permitSchema, policy: policySchema });

export function encodePermit(permit: Permit, policy: BreakerPolicy): string {
  return Buffer.from(JSON.stringify({ v: 1, permit, policy })).toString("base64url");
}

export function decodePermit(token: string): { permit: Permit; policy: BreakerPolicy } {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, "base64url").toString("utf8"));
  } catch {
    value = undefined;
  }
  const parsed = tokenSchema.safeParse(value);
  if (!parsed.success) {
    throw new Error("--permit is not a permit token: pass the `token` field of a permit returned by `acquire`, unchanged");
  }
  return { permit: parsed.data.permit, policy: parsed.data.policy };
}
