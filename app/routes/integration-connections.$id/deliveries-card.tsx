import { Form } from "@remix-run/react";
import { DeliveryChart } from "~/components/delivery-chart";
import { SubmitButton } from "~/components/forms";
import { RelativeTime } from "~/components/time";
import type { PageData } from "./route";

export function DeliveriesCard({ data }: { data: PageData }) {
  const { now, redeliverable, connection } = data;
  const canRedeliver =
    data.can["connections.configure"] && redeliverable > 0 && connection.status !== "revoked" && connection.status !== "expired";
  return (
    <div className="card">
      <div className="card__header">
        <h2>Deliveries</h2>
        {canRedeliver ? (
          <Form method="post">
            <input type="hidden" name="intent" value="redeliver-failed" />
            <SubmitButton variant="secondary" match={{ name: "intent", value: "redeliver-failed" }} pendingText="Redelivering…">
              Redeliver {redeliverable} failed deliver{redeliverable === 1 ? "y" : "ies"}
            </SubmitButton>
          </Form>
        ) : null}
      </div>
      {/* No chart of nothing: a connection that never delivered shows only the sentence below. */}
      {data.history.some((point) => point.succeeded + point.failed > 0) ? <DeliveryChart series={data.history} /> : null}
      {data.latest.length ? (
        <table className="table">
          <thead>
            <tr>
              <th scope="col">Insight</th>
              <th scope="col">Intent</th>
              <th scope="col">Outcome</th>
              <th scope="col">When</th>
            </tr>
          </thead>
          <tbody>
            {data.latest.map((delivery) => (
              <tr key={delivery.id}>
                <td>
                  <a href={`/insights/${delivery.insight_id}`}>{delivery.title}</a>
                </td>
                <td data-label="Intent">{delivery.intent_name}</td>
                <td data-label="Outcome">
                  <span className={`badge delivery delivery--${delivery.status}`}>
                    {delivery.status === "succeeded" ? "Delivered" : delivery.status === "failed" ? "Failed" : "Pending"}
                  </span>
                  {delivery.item_url ? (
                    <>
                      {" "}
                      <a href={delivery.item_url} rel="noreferrer">
                        open
                      </a>
                    </>
                  ) : null}
                </td>
                <td data-label="When">
                  <RelativeTime value={delivery.created_at} now={now} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No insight has been delivered through this connection yet.</p>
      )}
    </div>
  );
}
