import { createServer } from "node:net";
import type { Service } from "@dagger.io/dagger";
import { beforeAll, describe, expect, it } from "vitest";
import { DEFAULT_POLICY } from "../../lib/core/policy.js";
import { withStateStore, type StoreChoice } from "../../lib/dagger/state-store-choice.js";
import { RedisStateStore, RedisUnavailableError } from "../../lib/store/redis/index.js";
import { CircuitBreaker } from "../../src/index.js";

/**
 * The module's failure policy when the caller names a Redis and no policy, for every form of
 * Redis the constructor takes: fail-closed. The choice goes through the module's own constructor
 * and store choice, and a call against a Redis nobody listens at is refused, not let through.
 * No server is started: every address is a loopback port that was free a moment ago.
 */

let port: number;

async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

beforeAll(async () => {
  port = await unusedPort();
});

/** A Service as the engine would hand it over: started, with an endpoint. */
function service(endpoint: string): Service {
  const svc = { start: async () => svc, endpoint: async () => endpoint };
  return svc as unknown as Service;
}

type Form = [string, () => CircuitBreaker];
const forms: Form[] = [
  ["--redis-url", () => new CircuitBreaker(undefined, undefined, `redis://127.0.0.1:${port}`)],
  ["--redis (a Service)", () => new CircuitBreaker(undefined, service(`redis://127.0.0.1:${port}`))],
  [
    "--redis-sentinels",
    () => new CircuitBreaker(undefined, undefined, undefined, undefined, undefined, undefined, undefined, [`127.0.0.1:${port}`], "mymaster", undefined, undefined, undefined, 0.3),
  ],
  [
    "--redis-cluster-nodes",
    () => new CircuitBreaker(undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, undefined, [`127.0.0.1:${port}`], undefined, 0.3),
  ],
];

describe("the module's Redis failure policy when none is given", () => {
  for (const [form, make] of forms) {
    it(`is fail-closed for ${form}: the store says so, and an acquire with Redis unreachable is refused`, async () => {
      const face = make();
      expect(face.redisFailurePolicy).toBeUndefined();
      const choice: StoreChoice = { ...face, redisTimeoutMs: 200 };
      await withStateStore(choice, async (store) => {
        expect(store).toBeInstanceOf(RedisStateStore);
        expect((store as RedisStateStore).failurePolicy).toBe("fail-closed");
        const error = await store
          .apply({ op: "acquire", breaker: "deploy", policy: DEFAULT_POLICY, permitId: "p", expectedDurationMs: 0 })
          .then(
            (r) => r,
            (e: unknown) => e,
          );
        expect(error).toBeInstanceOf(RedisUnavailableError);
        expect((error as Error).message).toContain("the protected call was not run (failure policy: fail-closed)");
      });
    });
  }
});
