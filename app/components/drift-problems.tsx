/** What SpokeDo's check found wrong with what settings point at (config drift), field by field. */
export function DriftProblems({
  problems,
  className,
}: {
  problems: { field: string; label: string; message: string }[];
  className?: string;
}) {
  return (
    <ul className={className}>
      {problems.map((problem) => (
        <li key={`${problem.field}:${problem.message}`}>
          {problem.label}: {problem.message}
        </li>
      ))}
    </ul>
  );
}
