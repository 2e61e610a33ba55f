const LABELS = { active: "Active", expired: "Expired", error: "Error", revoked: "Revoked" } as const;

export function StatusBadge({ status }: { status: keyof typeof LABELS }) {
  return <span className={`badge status status--${status}`}>{LABELS[status]}</span>;
}
