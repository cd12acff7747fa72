/**
 * Durations as people type and read them: a whole number and one unit, `45s`, `90m`, `12h`,
 * `30d`. Parsing is strict (no spaces, no fractions, no mixed units, no zero), because the
 * value decides which breakers a prune deletes: a typo must fail, not mean something else.
 */

const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type Unit = keyof typeof UNIT_MS;

const DURATION = /^([1-9][0-9]*)([smhd])$/;

/** The duration in milliseconds, or null when `text` is not one number followed by s, m, h or d. */
export function parseDuration(text: string): number | null {
  const match = DURATION.exec(text);
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2] as Unit];
  return Number.isSafeInteger(ms) ? ms : null;
}

/** A compact duration for reading: its largest unit and the next one when not zero, `40d 2h`, `3h`, `45s`, `0s`. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const units = ["d", "h", "m", "s"] as const;
  const counts = units.map((unit, i) => {
    const whole = Math.floor((seconds * 1000) / UNIT_MS[unit]);
    const larger = units[i - 1];
    return larger === undefined ? whole : whole % (UNIT_MS[larger] / UNIT_MS[unit]);
  });
  const first = counts.findIndex((n) => n > 0);
  if (first === -1) return "0s";
  const next = counts[first + 1] ?? 0;
  return next > 0 ? `${counts[first]}${units[first]} ${next}${units[first + 1]}` : `${counts[first]}${units[first]}`;
}
