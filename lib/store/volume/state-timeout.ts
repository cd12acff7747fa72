import type { StateRequest } from "../request.js";

/**
 * How long the state program may run before `timeout` kills it. It reads, transitions and
 * writes a few kB in milliseconds, so only a wedged program ever reaches 30 s; the limit
 * bounds how long one exec can hold the LOCKED volume that every breaker on the engine waits for.
 */
export const STATE_PROGRAM_LIMIT_SECONDS = 30;

/**
 * How long the module waits for a state exec's answer: its own program limit plus one more,
 * so an exec queued on the lock behind one that ran to its full limit still answers. Past
 * that the engine itself is stuck (an interrupted LOCKED exec can hang: dagger/dagger#12871).
 */
export const STATE_WAIT_LIMIT_MS = 2 * STATE_PROGRAM_LIMIT_SECONDS * 1000;

/**
 * Exit codes of a state program stopped by `timeout -s KILL`: busybox's `timeout` execs the
 * program in its own place, so the exec dies of SIGKILL (128 + 9); coreutils' reports 137 too.
 */
export const PROGRAM_KILLED_EXIT_CODES: readonly number[] = [137];

/** Which limit ended the operation: the module stopped waiting, or `timeout` killed the program. */
export type StateLimit = "wait" | "program";

/** A state exec ran out of time. The call fails; nothing about it is counted against a breaker. */
export class StateTimeoutError extends Error {
  override name = "StateTimeoutError";
  constructor(
    readonly limit: StateLimit,
    readonly request: StateRequest,
    store: string,
    readonly seconds: number,
  ) {
    super(stateTimeoutMessage(limit, request, store, seconds));
  }
}

const list = (names: string[]) => names.map((n) => `"${n}"`).join(", ");

/** What timed out, what is known about the state afterwards, and what to do. */
export function stateTimeoutMessage(limit: StateLimit, request: StateRequest, store: string, seconds: number): string {
  const what =
    request.op === "read"
      ? `state read of ${request.breakers === null ? "every breaker" : `breaker(s) ${list(request.breakers)}`}`
      : request.op === "prune"
        ? `state prune of every breaker${request.dryRun ? " (dry run)" : ""}`
        : `state operation "${request.op}" on breaker "${request.breaker}"`;
  const stopped =
    limit === "wait"
      ? `${what} got no answer from ${store} within ${seconds} s, so this call stopped waiting and failed.`
      : `${what} in ${store} was killed at its ${seconds} s limit, so this call failed.`;
  let known: string;
  if (request.op === "read" || (request.op === "prune" && request.dryRun)) {
    known = `A ${request.op === "read" ? "read" : "dry run"} changes nothing: breaker state is as it was.`;
  } else if (request.op === "prune") {
    known =
      (limit === "wait"
        ? "Which breakers were removed is not known: the exec may still be queued for the volume lock and run later."
        : "Some breakers may have been removed and others not.") +
      " Each breaker is either whole or gone, and only breakers the prune judged unused are ever removed, so running it again is safe.";
  } else if (limit === "wait") {
    known =
      `Whether breaker "${request.breaker}" was changed is not known: the exec may still be queued for the volume lock ` +
      "and run later. Its state is never left half-written.";
  } else {
    known =
      `Breaker "${request.breaker}" holds either its state from before this call or this change, never a half-written ` +
      "one: the program writes to a temporary file and renames it.";
  }
  const consequence =
    request.op === "acquire"
      ? " Nothing was run under the breaker and nothing was counted against it (should the exec still have taken a " +
        "permit, the permit goes unused and expires like a dead probe)."
      : request.op === "record"
        ? " The protected call had already run; its outcome may not have been recorded."
        : "";
  return (
    `${stopped} ${known}${consequence} Retry the call. If this keeps happening, an exec may be wedged holding the ` +
    "volume lock: restart the Dagger engine (see https://github.com/dagger/dagger/issues/12871)."
  );
}

/**
 * Settles with `work`, or rejects with `expired()` after `ms`. Work left running is not
 * awaited; its late failure is swallowed, the call has already failed with `expired()`.
 */
export function giveUpAfter<T>(work: Promise<T>, ms: number, expired: () => Error): Promise<T> {
  work.catch(() => undefined);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(expired()), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
