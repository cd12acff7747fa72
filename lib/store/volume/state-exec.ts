import { randomUUID } from "node:crypto";
import { CacheSharingMode, dag, type CacheVolume, type Container } from "@dagger.io/dagger";
import type { StateRequest } from "../request.js";
import { STATE_OP_PROGRAM, STATE_OP_PROGRAM_SHA256 } from "./state-op-program.generated.js";
import { STATE_PROGRAM_LIMIT_SECONDS } from "./state-timeout.js";

/**
 * The image of the engine's own TypeScript runtime (dagger/dagger
 * sdk/typescript/runtime/tsdistconsts/consts.go at v0.21.8): every engine that runs this
 * module already has it, so a state exec never waits for a pull. Pinned by digest so every
 * engine runs the same bytes; bump it with the module's engineVersion.
 */
export const STATE_IMAGE =
  "node:24.13.1-alpine@sha256:4f696fbf39f383c1e486030ba6b289a5d9af541642fc78ab197e584a113b9c03";
const MOUNT = "/state";
const PROGRAM = `/opt/circuit-breaker/state-op-${STATE_OP_PROGRAM_SHA256.slice(0, 12)}.mjs`;

/**
 * The state program's argv. `timeout` (busybox in the image) kills a wedged program, so it
 * cannot hold the LOCKED volume for ever; KILL because a program stuck in I/O may not act on TERM,
 * and its writes are renames, so a kill never leaves half a state.
 */
export const STATE_PROGRAM_ARGV: readonly string[] = ["timeout", "-s", "KILL", String(STATE_PROGRAM_LIMIT_SECONDS), "node", PROGRAM];

/** Runs one state request and returns the program's stdout; an exec failure is thrown as the SDK's ExecError. */
export type StateExec = (request: StateRequest) => Promise<string>;

/**
 * One exec per request, with the volume mounted LOCKED, so the engine serialises
 * read-modify-write across concurrent `dagger call` runs. Exec results are cached by their
 * inputs and the volume's contents are not one of them, so every exec carries a fresh nonce.
 */
export function stateExecOn(volume: CacheVolume, container: () => Container = () => dag.container()): StateExec {
  return (request) =>
    container()
      .from(STATE_IMAGE)
      .withMountedCache(MOUNT, volume, { sharing: CacheSharingMode.Locked })
      .withNewFile(PROGRAM, STATE_OP_PROGRAM)
      .withEnvVariable("CB_STATE_DIR", MOUNT)
      .withEnvVariable("CB_REQUEST", JSON.stringify(request))
      .withEnvVariable("CB_NONCE", randomUUID())
      .withExec([...STATE_PROGRAM_ARGV])
      .stdout();
}
