import type { BreakerEvent, BreakerObserver } from "../protection/observer.js";

/** What this call's admission was like, for its result: the wait for a slot, and what observe mode let through. */
export class AdmissionRecord implements BreakerObserver {
  waitedMs = 0;
  wouldHaveRejected: string | null = null;

  observe(event: BreakerEvent): void {
    if (event.kind === "admitted") {
      this.waitedMs = event.waitedMs;
      this.wouldHaveRejected = event.wouldHaveRejected;
    } else if (event.kind === "rejected") {
      this.waitedMs = event.waitedMs;
    }
  }
}
