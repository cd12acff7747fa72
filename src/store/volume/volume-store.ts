import { randomUUID } from "node:crypto";
import { CacheSharingMode, dag, type CacheVolume } from "@dagger.io/dagger";
import type { StateRequest, StateResponse } from "../request.js";
import type { StateStore } from "../state-store.js";
import { STATE_OP_PROGRAM, STATE_OP_PROGRAM_SHA256 } from "./state-op-program.generated.js";

/**
 * A small image with Node.js to run the bundled state program, pinned by digest so every
 * engine runs the same bytes. Bump it together with the tag.
 */
export const STATE_IMAGE =
  "node:24-alpine@sha256:d32cdf619f63fe0471182d08996dd516c6275bb5fd31ae06e55a570bd9e1ad43";
export const DEFAULT_STATE_VOLUME = "circuit-breaker-state";
const MOUNT = "/state";
const PROGRAM = `/opt/circuit-breaker/state-op-${STATE_OP_PROGRAM_SHA256.slice(0, 12)}.mjs`;

/**
 * Breaker state in a Dagger cache volume. Each request is one exec that mounts the volume
 * LOCKED, so the engine serialises read-modify-write across concurrent `dagger call` runs.
 * Exec results are cached by their inputs and the volume's contents are not one of them, so
 * every exec carries a fresh nonce.
 */
export class VolumeStateStore implements StateStore {
  readonly description: string;

  constructor(
    private readonly volume: CacheVolume,
    volumeName: string,
  ) {
    this.description = `cache volume "${volumeName}"`;
  }

  async apply(request: StateRequest): Promise<StateResponse> {
    const stdout = await dag
      .container()
      .from(STATE_IMAGE)
      .withMountedCache(MOUNT, this.volume, { sharing: CacheSharingMode.Locked })
      .withNewFile(PROGRAM, STATE_OP_PROGRAM)
      .withEnvVariable("CB_STATE_DIR", MOUNT)
      .withEnvVariable("CB_REQUEST", JSON.stringify(request))
      .withEnvVariable("CB_NONCE", randomUUID())
      .withExec(["node", PROGRAM])
      .stdout();
    try {
      return JSON.parse(stdout) as StateResponse;
    } catch {
      throw new Error(`the state program in ${this.description} answered with something that is not JSON: ${stdout.slice(0, 200)}`);
    }
  }
}
