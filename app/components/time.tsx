import { formatExact, formatRelative } from "~/lib/platform/format";

/** A relative time ("3 days ago") with the exact time in its title; "never" when empty. */
export function RelativeTime({ value, now, never = "never" }: { value: number | null; now: number; never?: string }) {
  if (value === null) return <span className="muted">{never}</span>;
  return (
    <time dateTime={new Date(value).toISOString()} title={formatExact(value)}>
      {formatRelative(value, now)}
    </time>
  );
}
