import type { ReactNode } from "react";
import type { MarkdownNode } from "~/lib/providers/markdown.server";

/**
 * Renders an insight body's Markdown from the tree the server parsed (app/lib/providers/
 * markdown.server.ts) with React elements only: raw HTML in the text stays text, links keep to
 * http(s) and mailto, images become links (the CSP allows no outside images). Headings start one
 * level below the page's own.
 */
export function Markdown({ nodes }: { nodes: MarkdownNode[] }) {
  return <div className="markdown">{renderAll(nodes)}</div>;
}

function renderAll(nodes: MarkdownNode[] | undefined): ReactNode[] {
  return (nodes ?? []).map((node, index) => render(node, index));
}

function render(node: MarkdownNode, key: number): ReactNode {
  const children = renderAll(node.children);
  switch (node.type) {
    case "paragraph":
      return <p key={key}>{children}</p>;
    case "heading": {
      const level = Math.min(6, (node.depth ?? 1) + 1);
      const Tag = `h${level}` as "h2";
      return <Tag key={key}>{children}</Tag>;
    }
    case "text":
    case "html":
      return node.value ?? "";
    case "strong":
      return <strong key={key}>{children}</strong>;
    case "emphasis":
      return <em key={key}>{children}</em>;
    case "delete":
      return <del key={key}>{children}</del>;
    case "inlineCode":
      return <code key={key}>{node.value}</code>;
    case "code":
      return (
        <pre key={key}>
          <code>{node.value}</code>
        </pre>
      );
    case "break":
      return <br key={key} />;
    case "blockquote":
      return <blockquote key={key}>{children}</blockquote>;
    case "list":
      return node.ordered ? (
        <ol key={key} start={node.start ?? undefined}>
          {children}
        </ol>
      ) : (
        <ul key={key}>{children}</ul>
      );
    case "listItem":
      return (
        <li key={key}>
          {node.checked === true ? "☑ " : node.checked === false ? "☐ " : null}
          {children}
        </li>
      );
    case "link":
      return node.url ? (
        <a key={key} href={node.url} rel="noreferrer nofollow">
          {children}
        </a>
      ) : (
        <span key={key}>{children}</span>
      );
    case "image":
      return node.url ? (
        <a key={key} href={node.url} rel="noreferrer nofollow">
          {node.value || node.url}
        </a>
      ) : null;
    case "thematicBreak":
      return <hr key={key} />;
    case "table":
      return (
        <div key={key} className="table-scroll">
          <table className="table table--grid">
            <tbody>{children}</tbody>
          </table>
        </div>
      );
    case "tableRow":
      return <tr key={key}>{children}</tr>;
    case "tableCell":
      return <td key={key}>{children}</td>;
    default:
      return children.length ? <span key={key}>{children}</span> : null;
  }
}
