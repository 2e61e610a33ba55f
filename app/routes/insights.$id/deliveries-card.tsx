import { Form } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { Pagination } from "~/components/pagination";
import { RelativeTime } from "~/components/time";
import type { InsightData } from "./route";

export function DeliveriesCard({ data }: { data: InsightData }) {
  const { insight, deliveries, now, page, pages, failed } = data;
  return (
    <div className="card">
      <div className="card__header">
        <h2>Deliveries</h2>
        {failed > 0 ? (
          <Form method="post">
            <input type="hidden" name="intent" value="retry-failed" />
            <SubmitButton variant="secondary" pendingText="Retrying…">
              Retry {failed} failed deliver{failed === 1 ? "y" : "ies"}
            </SubmitButton>
          </Form>
        ) : null}
      </div>
      {deliveries.length === 0 ? (
        <p className="muted">No intent was targeted, so nothing was delivered.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Intent</th>
              <th scope="col">Connection</th>
              <th scope="col">State</th>
              <th scope="col">Created item</th>
            </tr>
          </thead>
          <tbody>
            {deliveries.map((delivery) => (
              <tr key={delivery.id}>
                <td data-label="Intent">
                  {delivery.intentId ? <a href={`/intents/${delivery.intentId}`}>{delivery.intentName}</a> : delivery.intentName}
                </td>
                <td data-label="Connection">
                  {delivery.connectionId ? (
                    <a href={`/integration-connections/${delivery.connectionId}`}>{delivery.connectionName}</a>
                  ) : (
                    delivery.connectionName
                  )}
                </td>
                <td data-label="State">
                  <span className={`badge delivery delivery--${delivery.held ? "held" : delivery.status}`}>
                    {delivery.held
                      ? "Held"
                      : delivery.status === "pending"
                        ? delivery.attempts
                          ? "Retrying"
                          : "Pending"
                        : delivery.status === "succeeded"
                          ? "Delivered"
                          : "Failed"}
                  </span>
                  {delivery.held ? <span className="muted small"> until the connection is enabled</span> : null}
                  {delivery.nextAttemptAt && delivery.attempts ? (
                    <span className="muted small">
                      {" "}
                      next try <RelativeTime value={delivery.nextAttemptAt} now={now} />
                    </span>
                  ) : null}
                </td>
                <td data-label="Created item">
                  {delivery.itemUrl ? (
                    <a href={delivery.itemUrl} rel="noreferrer">
                      Open in {delivery.providerName}
                    </a>
                  ) : (
                    <span className="muted">—</span>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <Pagination page={page} pages={pages} href={(n) => `/insights/${insight.id}${n > 1 ? `?page=${n}` : ""}`} />
    </div>
  );
}
