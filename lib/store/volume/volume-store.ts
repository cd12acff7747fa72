import { isExecFailure } from "../../dagger/exec-failure.js";
import type { StateRequest, StateResponse } from "../request.js";
import type { StateStore } from "../state-store.js";
import type { StateExec } from "./state-exec.js";
import {
  giveUpAfter,
  PROGRAM_KILLED_EXIT_CODES,
  STATE_PROGRAM_LIMIT_SECONDS,
  STATE_WAIT_LIMIT_MS,
  StateTimeoutError,
} from "./state-timeout.js";

export const DEFAULT_STATE_VOLUME = "circuit-breaker-state";

/**
 * Breaker state in a Dagger cache volume, each request one exec (see `stateExecOn`). Both the
 * program and the wait for it are bounded, so a wedged exec fails this call with a message
 * instead of hanging it, and never counts against a breaker.
 */
export class VolumeStateStore implements StateStore {
  readonly description: string;

  constructor(
    private readonly exec: StateExec,
    volumeName: string,
    private readonly waitLimitMs: number = STATE_WAIT_LIMIT_MS,
  ) {
    this.description = `cache volume "${volumeName}"`;
  }

  async apply(request: StateRequest): Promise<StateResponse> {
    let stdout: string;
    try {
      stdout = await giveUpAfter(this.exec(request), this.waitLimitMs, () =>
        new StateTimeoutError("wait", request, this.description, this.waitLimitMs / 1000),
      );
    } catch (e) {
      if (isExecFailure(e) && PROGRAM_KILLED_EXIT_CODES.includes(e.exitCode)) {
        throw new StateTimeoutError("program", request, this.description, STATE_PROGRAM_LIMIT_SECONDS);
      }
      throw e;
    }
    try {
      return JSON.parse(stdout) as StateResponse;
    } catch {
      throw new Error(`the state program in ${this.description} answered with something that is not JSON: ${stdout.slice(0, 200)}`);
    }
  }
}
