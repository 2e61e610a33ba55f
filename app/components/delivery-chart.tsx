const WIDTH = 600;
const HEIGHT = 140;
const PLOT_TOP = 10;
const PLOT_BOTTOM = 116;

function dayLabel(day: number) {
  return new Date(day * 86_400_000).toISOString().slice(5, 10);
}

/** Deliveries per day, succeeded stacked under failed: plain SVG, rendered on the server. */
export function DeliveryChart({ series }: { series: { day: number; succeeded: number; failed: number }[] }) {
  const totals = series.map((point) => point.succeeded + point.failed);
  const max = Math.max(1, ...totals);
  const slot = WIDTH / series.length;
  const bar = Math.max(2, slot - 4);
  const scale = (count: number) => (count / max) * (PLOT_BOTTOM - PLOT_TOP);
  const succeeded = series.reduce((sum, point) => sum + point.succeeded, 0);
  const failed = series.reduce((sum, point) => sum + point.failed, 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        role="img"
        aria-label={`Last ${series.length} days: ${succeeded} deliveries succeeded, ${failed} failed.`}
      >
        <line className="chart__axis" x1={0} x2={WIDTH} y1={PLOT_BOTTOM} y2={PLOT_BOTTOM} />
        {series.map((point, index) => {
          const x = index * slot + (slot - bar) / 2;
          const okHeight = scale(point.succeeded);
          const failHeight = scale(point.failed);
          return (
            <g key={point.day}>
              <title>{`${dayLabel(point.day)}: ${point.succeeded} succeeded, ${point.failed} failed`}</title>
              {point.succeeded ? <rect className="chart__ok" x={x} width={bar} y={PLOT_BOTTOM - okHeight} height={okHeight} /> : null}
              {point.failed ? (
                <rect className="chart__failed" x={x} width={bar} y={PLOT_BOTTOM - okHeight - failHeight} height={failHeight} />
              ) : null}
            </g>
          );
        })}
        <text className="chart__label" x={0} y={HEIGHT - 4}>
          {dayLabel(series[0]!.day)}
        </text>
        <text className="chart__label" x={WIDTH} y={HEIGHT - 4} textAnchor="end">
          {dayLabel(series[series.length - 1]!.day)}
        </text>
        <text className="chart__label" x={WIDTH} y={PLOT_TOP} textAnchor="end">
          {max}/day
        </text>
      </svg>
      <figcaption className="muted small">
        <span className="legend legend--ok" /> {succeeded} succeeded · <span className="legend legend--failed" /> {failed} failed, last{" "}
        {series.length} days
      </figcaption>
    </figure>
  );
}
