import { Form } from "@remix-run/react";
import { SubmitButton } from "~/components/forms";
import { formatExact } from "~/lib/platform/format";

export function OtherAccountPrompt({
  pending,
  current,
  providerName,
}: {
  pending: { accountLabel: string; expiresAt: number };
  current: string;
  providerName: string;
}) {
  return (
    <div className="card card--warning" role="alert">
      <h2>You authorized a different {providerName} account</h2>
      <p>
        This connection belongs to <strong>{current}</strong>, but {providerName} just authorized <strong>{pending.accountLabel}</strong>.
        Intents using this connection would deliver to the other account from now on. Switch only if that is what you want (this choice is
        open until {formatExact(pending.expiresAt)}).
      </p>
      <div className="actions">
        <Form method="post">
          <input type="hidden" name="intent" value="confirm-account" />
          <SubmitButton variant="danger" match={{ name: "intent", value: "confirm-account" }} pendingText="Switching…">
            Use {pending.accountLabel}
          </SubmitButton>
        </Form>
        <Form method="post">
          <input type="hidden" name="intent" value="cancel-account" />
          <SubmitButton variant="secondary" match={{ name: "intent", value: "cancel-account" }} pendingText="Keeping…">
            Keep {current}
          </SubmitButton>
        </Form>
      </div>
    </div>
  );
}
