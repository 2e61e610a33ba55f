/**
 * Page links for a list: Previous and Next, and the page numbers around the current one (the
 * first and last always), so a long list can be crossed in a click or two.
 */
export function Pagination({ page, pages, href }: { page: number; pages: number; href: (page: number) => string }) {
  if (pages <= 1) return null;
  return (
    <nav className="pagination" aria-label="Pages">
      {page > 1 ? (
        <a href={href(page - 1)} rel="prev">
          ← Previous
        </a>
      ) : (
        <span />
      )}
      <ol className="pagination__pages">
        {pageNumbers(page, pages).map((number, index) =>
          number === null ? (
            <li key={`gap-${index}`} aria-hidden="true">
              …
            </li>
          ) : (
            <li key={number}>
              {number === page ? (
                <span aria-current="page">
                  <span className="visually-hidden">Page </span>
                  {number}
                  <span className="visually-hidden"> of {pages}</span>
                </span>
              ) : (
                <a href={href(number)} aria-label={`Page ${number}`}>
                  {number}
                </a>
              )}
            </li>
          ),
        )}
      </ol>
      {page < pages ? (
        <a href={href(page + 1)} rel="next">
          Next →
        </a>
      ) : (
        <span />
      )}
    </nav>
  );
}

/** 1 … 4 5 [6] 7 8 … 48: the first, the last, and two either side of the current page; null is a gap. */
export function pageNumbers(page: number, pages: number): (number | null)[] {
  const shown = new Set([1, pages]);
  for (let number = page - 2; number <= page + 2; number++) if (number >= 1 && number <= pages) shown.add(number);
  const sorted = [...shown].sort((a, b) => a - b);
  const numbers: (number | null)[] = [];
  for (const [index, number] of sorted.entries()) {
    const previous = sorted[index - 1];
    if (previous !== undefined && number - previous === 2) numbers.push(previous + 1);
    else if (previous !== undefined && number - previous > 2) numbers.push(null);
    numbers.push(number);
  }
  return numbers;
}
