/**
 * Durations as people write them in a spec or on the command line: a whole number and a unit,
 * `90m`, `72h`, `14d`. One unit only: `1d12h` is written `36h`.
 */
const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86400 } as const;
type Unit = keyof typeof UNIT_SECONDS;

export const DURATION_PATTERN = /^([1-9]\d{0,5})([smhd])$/;

/** Seconds in `text`, or `undefined` when it is not a duration such as `72h`. */
export function parseDuration(text: string): number | undefined {
  const match = DURATION_PATTERN.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_SECONDS[match[2] as Unit];
}

/** The largest whole unit that writes `seconds` exactly: 259200 -> `3d`, 5400 -> `90m`. */
export function formatDuration(seconds: number): string {
  for (const unit of ['d', 'h', 'm'] as const) {
    if (seconds % UNIT_SECONDS[unit] === 0 && seconds >= UNIT_SECONDS[unit]) return `${seconds / UNIT_SECONDS[unit]}${unit}`;
  }
  return `${seconds}s`;
}
