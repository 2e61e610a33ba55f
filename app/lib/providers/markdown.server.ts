import type { Nodes, PhrasingContent, Root, RootContent } from "mdast";
import { fromMarkdown } from "mdast-util-from-markdown";
import { gfmFromMarkdown } from "mdast-util-gfm";
import { gfm } from "micromark-extension-gfm";

/**
 * Insight bodies are Markdown (CommonMark with GitHub's extensions), parsed once with the
 * unified family's mdast parser and rendered in each provider's own terms: GitHub, Linear and
 * Trello take Markdown as it is; Slack gets mrkdwn; Notion gets blocks with rich text; SpokeDo's
 * insight page gets a plain tree it renders with React (never raw HTML). Decision 022.
 */
export function parseMarkdown(text: string): Root {
  return fromMarkdown(text, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
}

// ---------- Slack mrkdwn ----------

/** Slack's three control characters (docs.slack.dev: formatting text for app surfaces). */
export function escapeSlack(text: string) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

function slackInline(nodes: PhrasingContent[]): string {
  return nodes.map(slackPhrase).join("");
}

function slackPhrase(node: PhrasingContent): string {
  switch (node.type) {
    case "text":
      return escapeSlack(node.value);
    case "strong":
      return `*${slackInline(node.children)}*`;
    case "emphasis":
      return `_${slackInline(node.children)}_`;
    case "delete":
      return `~${slackInline(node.children)}~`;
    case "inlineCode":
      return `\`${escapeSlack(node.value)}\``;
    case "break":
      return "\n";
    case "link": {
      const label = slackInline(node.children);
      return safeUrl(node.url) ? `<${node.url.replace(/[|>]/g, encodeURIComponent)}|${label.replace(/[|>]/g, "")}>` : label;
    }
    case "image":
      return safeUrl(node.url) ? `<${node.url.replace(/[|>]/g, encodeURIComponent)}|${escapeSlack(node.alt || node.url)}>` : "";
    case "html":
      return escapeSlack(node.value);
    default:
      return "children" in node ? slackInline(node.children) : "value" in node ? escapeSlack(String(node.value)) : "";
  }
}

function slackBlock(node: RootContent, indent = ""): string {
  switch (node.type) {
    case "paragraph":
      return indent + slackInline(node.children);
    case "heading":
      return `${indent}*${slackInline(node.children)}*`;
    case "code":
      return `\`\`\`\n${escapeSlack(node.value)}\n\`\`\``;
    case "blockquote":
      return node.children
        .map((child) => slackBlock(child))
        .join("\n")
        .split("\n")
        .map((line) => `> ${line}`)
        .join("\n");
    case "list":
      return node.children
        .map((item, index) => {
          const bullet = node.ordered ? `${(node.start ?? 1) + index}.` : "•";
          const check = item.checked === true ? "☑ " : item.checked === false ? "☐ " : "";
          const [first, ...rest] = item.children;
          const head = first ? slackBlock(first).trimStart() : "";
          const tail = rest.map((child) => slackBlock(child, `${indent}    `));
          return [`${indent}${bullet} ${check}${head}`, ...tail].join("\n");
        })
        .join("\n");
    case "thematicBreak":
      return "───";
    case "table":
      return node.children.map((row) => row.children.map((cell) => slackInline(cell.children)).join(" | ")).join("\n");
    case "html":
      return escapeSlack(node.value);
    default:
      return "children" in node ? (node.children as RootContent[]).map((child) => slackBlock(child, indent)).join("\n") : "";
  }
}

/** Markdown → Slack mrkdwn: bold, italics, strikethrough, code, links, lists and quotes in Slack's syntax. */
export function toSlackMrkdwn(markdown: string): string {
  return parseMarkdown(markdown)
    .children.map((node) => slackBlock(node))
    .join("\n\n");
}

// ---------- Notion blocks ----------

/** Notion caps a text object at 2,000 UTF-16 units and a rich text array at 100 objects. */
const NOTION_TEXT_UNITS = 2000;
const NOTION_RICH_TEXT_ITEMS = 100;

interface Annotations {
  bold?: boolean;
  italic?: boolean;
  strikethrough?: boolean;
  code?: boolean;
}

interface NotionText {
  type: "text";
  text: { content: string; link?: { url: string } };
  annotations?: Annotations;
}

export type NotionBlock = { object: "block"; type: string } & Record<string, unknown>;

/** Chunks of at most `maxUnits` UTF-16 units that never split a surrogate pair. */
export function splitText(text: string, maxUnits: number): string[] {
  const chunks: string[] = [];
  let current = "";
  for (const codePoint of text) {
    if (current.length + codePoint.length > maxUnits) {
      chunks.push(current);
      current = "";
    }
    current += codePoint;
  }
  if (current || chunks.length === 0) chunks.push(current);
  return chunks;
}

function richText(nodes: PhrasingContent[], annotations: Annotations = {}, link?: string): NotionText[] {
  const out: NotionText[] = [];
  const push = (content: string, extra: Annotations = {}) => {
    const merged = { ...annotations, ...extra };
    const active = Object.fromEntries(Object.entries(merged).filter(([, on]) => on)) as Annotations;
    for (const chunk of splitText(content, NOTION_TEXT_UNITS)) {
      if (!chunk) continue;
      out.push({
        type: "text",
        text: { content: chunk, ...(link ? { link: { url: link } } : {}) },
        ...(Object.keys(active).length ? { annotations: active } : {}),
      });
    }
  };
  for (const node of nodes) {
    switch (node.type) {
      case "text":
        push(node.value);
        break;
      case "inlineCode":
        push(node.value, { code: true });
        break;
      case "break":
        push("\n");
        break;
      case "strong":
        out.push(...richText(node.children, { ...annotations, bold: true }, link));
        break;
      case "emphasis":
        out.push(...richText(node.children, { ...annotations, italic: true }, link));
        break;
      case "delete":
        out.push(...richText(node.children, { ...annotations, strikethrough: true }, link));
        break;
      case "link":
        out.push(...richText(node.children, annotations, safeUrl(node.url) ? node.url : link));
        break;
      case "image":
        if (safeUrl(node.url)) out.push(...richText([{ type: "text", value: node.alt || node.url }], annotations, node.url));
        break;
      case "html":
        push(node.value);
        break;
      default:
        if ("children" in node) out.push(...richText(node.children, annotations, link));
    }
  }
  return out.slice(0, NOTION_RICH_TEXT_ITEMS);
}

/** Languages Notion's code block accepts (a few common aliases mapped); anything else is "plain text". */
const CODE_LANGUAGE_ALIASES: Record<string, string> = {
  js: "javascript",
  javascript: "javascript",
  ts: "typescript",
  typescript: "typescript",
  py: "python",
  python: "python",
  sh: "shell",
  shell: "shell",
  bash: "bash",
  json: "json",
  sql: "sql",
  go: "go",
  rust: "rust",
  ruby: "ruby",
  rb: "ruby",
  java: "java",
  html: "html",
  css: "css",
  yaml: "yaml",
  yml: "yaml",
  markdown: "markdown",
  md: "markdown",
  diff: "diff",
  c: "c",
  cpp: "c++",
  "c++": "c++",
  csharp: "c#",
  "c#": "c#",
  php: "php",
  kotlin: "kotlin",
  swift: "swift",
  docker: "docker",
  dockerfile: "docker",
  graphql: "graphql",
  toml: "toml",
  xml: "xml",
};

function block(type: string, content: Record<string, unknown>): NotionBlock {
  return { object: "block", type, [type]: content };
}

function textBlock(type: string, nodes: PhrasingContent[], extra: Record<string, unknown> = {}): NotionBlock {
  return block(type, { rich_text: richText(nodes), ...extra });
}

/** Phrasing content of a block's children, for blocks Notion holds as one line of rich text (quotes, list items). */
function phrasing(node: Nodes): PhrasingContent[] {
  if (node.type === "paragraph" || node.type === "heading" || node.type === "tableCell") return node.children;
  if ("children" in node) {
    const parts = (node.children as Nodes[]).map(phrasing).filter((part) => part.length);
    return parts.flatMap((part, index) => (index ? [{ type: "break" }, ...part] : part));
  }
  if (node.type === "code" || node.type === "inlineCode" || node.type === "text") return [{ type: "text", value: node.value }];
  return [];
}

function notionBlocks(node: RootContent, depth: number): NotionBlock[] {
  switch (node.type) {
    case "paragraph":
      return [textBlock("paragraph", node.children)];
    case "heading":
      return [textBlock(`heading_${Math.min(3, node.depth)}`, node.children)];
    case "code": {
      const language = CODE_LANGUAGE_ALIASES[(node.lang ?? "").toLowerCase()] ?? "plain text";
      return [block("code", { rich_text: richText([{ type: "text", value: node.value }]), language })];
    }
    case "blockquote":
      return [textBlock("quote", phrasing(node))];
    case "list":
      return node.children.map((item) => {
        const type =
          item.checked !== null && item.checked !== undefined ? "to_do" : node.ordered ? "numbered_list_item" : "bulleted_list_item";
        const [first, ...rest] = item.children;
        // Notion takes two levels of nesting in one request: deeper lists are flattened into their parent.
        const children = depth < 1 ? rest.flatMap((child) => notionBlocks(child, depth + 1)) : [];
        const text = depth < 1 ? (first ? phrasing(first) : []) : phrasing(item);
        return textBlock(type, text, {
          ...(type === "to_do" ? { checked: item.checked === true } : {}),
          ...(children.length ? { children } : {}),
        });
      });
    case "thematicBreak":
      return [block("divider", {})];
    case "table":
      return node.children.map((row) =>
        textBlock(
          "paragraph",
          row.children.flatMap((cell, index) => (index ? [{ type: "text", value: " | " }, ...cell.children] : cell.children)),
        ),
      );
    case "html":
      return [textBlock("paragraph", [{ type: "text", value: node.value }])];
    default:
      return "children" in node ? (node.children as RootContent[]).flatMap((child) => notionBlocks(child, depth)) : [];
  }
}

/**
 * Markdown → Notion blocks (headings, paragraphs, lists, to-dos, code, quotes, dividers) with rich
 * text annotations and links, within Notion's limits: `maxBlocks` top-level blocks per request
 * (the last one says the rest was cut), 2,000 units per text object, 100 per rich text array.
 */
export function toNotionBlocks(markdown: string, maxBlocks: number): NotionBlock[] {
  const blocks = parseMarkdown(markdown).children.flatMap((node) => notionBlocks(node, 0));
  if (blocks.length <= maxBlocks) return blocks;
  return [
    ...blocks.slice(0, maxBlocks - 1),
    textBlock("paragraph", [
      { type: "text", value: `… ${blocks.length - maxBlocks + 1} more blocks were cut (Notion takes ${maxBlocks} per request).` },
    ]),
  ];
}

// ---------- SpokeDo's own page ----------

/** A Markdown node as the insight page renders it: a type, its text or children, and the few attributes it uses. */
export interface MarkdownNode {
  type: string;
  value?: string;
  depth?: number;
  ordered?: boolean;
  start?: number | null;
  checked?: boolean | null;
  url?: string;
  lang?: string | null;
  children?: MarkdownNode[];
}

/** The parsed body without positions, links limited to http(s) and mailto: safe to render, cheap to send. */
export function markdownTree(markdown: string): MarkdownNode[] {
  const strip = (node: Nodes): MarkdownNode => {
    const out: MarkdownNode = { type: node.type };
    if ("value" in node && typeof node.value === "string") out.value = node.value;
    if (node.type === "heading") out.depth = node.depth;
    if (node.type === "list") {
      out.ordered = node.ordered ?? false;
      out.start = node.start ?? null;
    }
    if (node.type === "listItem") out.checked = node.checked ?? null;
    if (node.type === "code") out.lang = node.lang ?? null;
    if (node.type === "link" || node.type === "image") out.url = safeUrl(node.url) || node.url.startsWith("mailto:") ? node.url : undefined;
    if (node.type === "image") out.value = node.alt ?? "";
    if ("children" in node) {
      // A tight list item's paragraphs are its lines, not paragraphs (as CommonMark renders them).
      const children = node.children as Nodes[];
      const tight = node.type === "listItem" && !node.spread;
      out.children = (tight ? children.flatMap((child) => (child.type === "paragraph" ? child.children : [child])) : children).map(strip);
    }
    return out;
  };
  return parseMarkdown(markdown).children.map(strip);
}

function safeUrl(url: string) {
  return /^https?:\/\/[^\s]+$/i.test(url);
}
