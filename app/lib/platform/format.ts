const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ["year", 365 * 24 * 3600_000],
  ["month", 30 * 24 * 3600_000],
  ["week", 7 * 24 * 3600_000],
  ["day", 24 * 3600_000],
  ["hour", 3600_000],
  ["minute", 60_000],
];

const relative = new Intl.RelativeTimeFormat("en", { numeric: "auto" });

/** "3 days ago" / "in 2 hours", relative to `now` (passed from the loader so SSR and hydration agree). */
export function formatRelative(timestamp: number, now: number): string {
  const difference = timestamp - now;
  for (const [unit, size] of UNITS) {
    if (Math.abs(difference) >= size) return relative.format(Math.round(difference / size), unit);
  }
  return difference >= 0 ? "in less than a minute" : "just now";
}

/** The exact instant, unambiguous for a team spread over time zones. */
export function formatExact(timestamp: number): string {
  return `${new Date(timestamp).toISOString().replace("T", " ").slice(0, 16)} UTC`;
}
