import { Form } from "@remix-run/react";
import type { IndexData } from "./route";

export function Filters({ data }: { data: IndexData }) {
  return (
    // Folded on phones (open while a filter is applied); always shown on wider screens.
    <details className="filters-disclosure card" open={data.filtered}>
      <summary>Search, filter and sort{data.filtered ? " (filtered)" : ""}</summary>
      <Form method="get" className="filters" role="search">
        <label>
          <span className="field__label">Search</span>
          <input type="search" name="q" defaultValue={data.filters.q} placeholder="Name or account…" maxLength={50} />
        </label>
        <label>
          <span className="field__label">Provider</span>
          <select name="provider" defaultValue={data.filters.provider}>
            <option value="">All providers</option>
            {data.providers.map((provider) => (
              <option key={provider.id} value={provider.id}>
                {provider.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          <span className="field__label">Status</span>
          <select name="status" defaultValue={data.filters.status}>
            <option value="">Any status</option>
            <option value="active">Active</option>
            <option value="expired">Expired</option>
            <option value="error">Error</option>
            <option value="revoked">Revoked</option>
          </select>
        </label>
        <label>
          <span className="field__label">Delivering</span>
          <select name="state" defaultValue={data.filters.state}>
            <option value="">Enabled or disabled</option>
            <option value="enabled">Enabled</option>
            <option value="disabled">Disabled</option>
          </select>
        </label>
        <label>
          <span className="field__label">Sort by</span>
          <select name="sort" defaultValue={data.filters.sort}>
            <option value="name">Name</option>
            <option value="last_used">Last used</option>
            <option value="status">Status (problems first)</option>
          </select>
        </label>
        <label className="checkbox">
          <input type="checkbox" name="unused" value="1" defaultChecked={data.filters.unused} />
          Not used in 90 days
        </label>
        <div className="filters__actions">
          <button type="submit" className="button button--secondary">
            Apply
          </button>
          {data.filtered ? <a href="/integration-connections">Clear</a> : null}
        </div>
      </Form>
    </details>
  );
}
