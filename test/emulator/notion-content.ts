// Page content as Notion's API takes and gives it: block and rich-text requests are checked
// against the limits Notion documents (developers.notion.com/reference/request-limits) and the
// shapes of @notionhq/client's request types; stored blocks are answered as its response types.
import type { BlockObjectRequest, BlockObjectResponse, RichTextItemResponse } from "@notionhq/client";
import { asText } from "./http";

type BlockType = NonNullable<BlockObjectRequest["type"]>;
type CodeLanguage = Extract<BlockObjectRequest, { code: unknown }>["code"]["language"];
type Color = NonNullable<NonNullable<Extract<BlockObjectRequest, { paragraph: unknown }>["paragraph"]["color"]>>;

/** Exactly the SDK's language union (checked both ways below). */
export const CODE_LANGUAGES = [
  "abap",
  "abc",
  "agda",
  "arduino",
  "ascii art",
  "assembly",
  "bash",
  "basic",
  "bnf",
  "c",
  "c#",
  "c++",
  "clojure",
  "coffeescript",
  "coq",
  "css",
  "dart",
  "dhall",
  "diff",
  "docker",
  "ebnf",
  "elixir",
  "elm",
  "erlang",
  "f#",
  "flow",
  "fortran",
  "gherkin",
  "glsl",
  "go",
  "graphql",
  "groovy",
  "haskell",
  "hcl",
  "html",
  "idris",
  "java",
  "javascript",
  "json",
  "julia",
  "kotlin",
  "latex",
  "less",
  "lisp",
  "livescript",
  "llvm ir",
  "lua",
  "makefile",
  "markdown",
  "markup",
  "matlab",
  "mathematica",
  "mermaid",
  "nix",
  "notion formula",
  "objective-c",
  "ocaml",
  "pascal",
  "perl",
  "php",
  "plain text",
  "powershell",
  "prolog",
  "protobuf",
  "purescript",
  "python",
  "r",
  "racket",
  "reason",
  "ruby",
  "rust",
  "sass",
  "scala",
  "scheme",
  "scss",
  "shell",
  "smalltalk",
  "solidity",
  "sql",
  "swift",
  "toml",
  "typescript",
  "vb.net",
  "verilog",
  "vhdl",
  "visual basic",
  "webassembly",
  "xml",
  "yaml",
  "java/c/c++/c#",
] as const satisfies readonly CodeLanguage[];
type Exhaustive<Listed, All> = [All] extends [Listed] ? true : never;
const languagesComplete: Exhaustive<(typeof CODE_LANGUAGES)[number], CodeLanguage> = true;

const BASE_COLORS = ["default", "gray", "brown", "orange", "yellow", "green", "blue", "purple", "pink", "red"] as const;
export const COLORS = [...BASE_COLORS, ...BASE_COLORS.map((color) => `${color}_background` as const)] as const satisfies readonly Color[];
const colorsComplete: Exhaustive<(typeof COLORS)[number], Color> = true;

/** The block types the emulator checks in depth (and reads back); other types of the SDK are stored as sent. */
export const CHECKED_BLOCK_TYPES = [
  "paragraph",
  "heading_1",
  "heading_2",
  "heading_3",
  "bulleted_list_item",
  "numbered_list_item",
  "quote",
  "to_do",
  "toggle",
  "code",
  "divider",
] as const satisfies readonly BlockType[];

/** Every block type a request may carry, per the SDK's BlockObjectRequest. */
export const REQUEST_BLOCK_TYPES = [
  ...CHECKED_BLOCK_TYPES,
  "embed",
  "bookmark",
  "image",
  "video",
  "pdf",
  "file",
  "audio",
  "equation",
  "breadcrumb",
  "table_of_contents",
  "link_to_page",
  "table_row",
  "table",
  "column_list",
  "column",
  "callout",
  "synced_block",
  "template",
] as const;
type RequestBlockType = (typeof REQUEST_BLOCK_TYPES)[number];
// Every listed type is a BlockObjectRequest type, and every BlockObjectRequest type is listed.
const requestTypesComplete: Exhaustive<RequestBlockType, BlockType> = true;
const requestTypesKnown: Exhaustive<BlockType, RequestBlockType> = true;
void [languagesComplete, colorsComplete, requestTypesComplete, requestTypesKnown];

const WITH_CHILDREN = new Set<string>([
  "paragraph",
  "heading_1",
  "heading_2",
  "heading_3",
  "bulleted_list_item",
  "numbered_list_item",
  "quote",
  "to_do",
  "toggle",
  "callout",
  "column",
  "column_list",
  "synced_block",
  "template",
  "table",
]);

export const LIMITS = {
  richTextContent: 2000,
  linkUrl: 2000,
  richTextArray: 100,
  blockArray: 100,
  blocksPerRequest: 1000,
  payloadBytes: 500_000,
  /** "up to two levels of nesting in a single request" (append block children). */
  nestingDepth: 2,
};

export class NotionValidationError extends Error {}

const fail = (message: string): never => {
  throw new NotionValidationError(message);
};

// Notion's wording: "body failed validation: body.children[0].paragraph.rich_text[0].text.content.length should be ≤ `2000`, instead was `2001`."
const tooLong = (path: string, max: number, actual: number) =>
  fail(`body failed validation: ${path}.length should be ≤ \`${max}\`, instead was \`${actual}\`.`);

export function validateRichText(value: unknown, path: string) {
  if (!Array.isArray(value)) fail(`body failed validation: ${path} should be an array, instead was \`${JSON.stringify(value)}\`.`);
  const items = value as unknown[];
  if (items.length > LIMITS.richTextArray) tooLong(path, LIMITS.richTextArray, items.length);
  items.forEach((raw, index) => {
    const at = `${path}[${index}]`;
    const item = raw as Record<string, unknown> | null;
    if (!item || typeof item !== "object")
      fail(`body failed validation: ${at} should be an object, instead was \`${JSON.stringify(raw)}\`.`);
    const kind = item!.type ?? (item!.text ? "text" : item!.mention ? "mention" : item!.equation ? "equation" : undefined);
    if (kind === "text") {
      const text = item!.text as { content?: unknown; link?: unknown } | undefined;
      if (!text || typeof text.content !== "string")
        fail(`body failed validation: ${at}.text.content should be defined, instead was \`undefined\`.`);
      // Notion counts UTF-16 code units, as JavaScript's length does.
      if ((text!.content as string).length > LIMITS.richTextContent)
        tooLong(`${at}.text.content`, LIMITS.richTextContent, (text!.content as string).length);
      if (text!.link !== undefined && text!.link !== null) {
        const url = (text!.link as { url?: unknown }).url;
        if (typeof url !== "string") fail(`body failed validation: ${at}.text.link.url should be defined, instead was \`undefined\`.`);
        if ((url as string).length > LIMITS.linkUrl) tooLong(`${at}.text.link.url`, LIMITS.linkUrl, (url as string).length);
        try {
          new URL(url as string);
        } catch {
          fail(`Invalid URL for link.`);
        }
      }
    } else if (kind !== "mention" && kind !== "equation") {
      fail(`body failed validation: ${at}.text should be defined, instead was \`undefined\`.`);
    }
    const annotations = item!.annotations as Record<string, unknown> | undefined;
    if (annotations !== undefined) {
      if (!annotations || typeof annotations !== "object") fail(`body failed validation: ${at}.annotations should be an object.`);
      for (const [name, flag] of Object.entries(annotations)) {
        if (name === "color") {
          if (!(COLORS as readonly string[]).includes(String(flag)))
            fail(
              `body failed validation: ${at}.annotations.color should be one of ${COLORS.map((c) => `"${c}"`).join(", ")}, instead was \`"${String(flag)}"\`.`,
            );
        } else if (["bold", "italic", "strikethrough", "underline", "code"].includes(name)) {
          if (typeof flag !== "boolean")
            fail(`body failed validation: ${at}.annotations.${name} should be a boolean, instead was \`${JSON.stringify(flag)}\`.`);
        } else {
          fail(`body failed validation: ${at}.annotations.${name} should be not present, instead was \`${JSON.stringify(flag)}\`.`);
        }
      }
    }
  });
}

/** Checks an array of block requests; returns how many blocks it holds, nested ones included. */
export function validateBlocks(value: unknown, path: string, depth = 1): number {
  if (!Array.isArray(value)) return fail(`body failed validation: ${path} should be an array, instead was \`${JSON.stringify(value)}\`.`);
  const blocks = value as unknown[];
  if (blocks.length > LIMITS.blockArray) tooLong(path, LIMITS.blockArray, blocks.length);
  let count = 0;
  blocks.forEach((raw, index) => {
    const at = `${path}[${index}]`;
    const block = raw as Record<string, unknown> | null;
    if (!block || typeof block !== "object")
      fail(`body failed validation: ${at} should be an object, instead was \`${JSON.stringify(raw)}\`.`);
    const type = (block!.type as string | undefined) ?? REQUEST_BLOCK_TYPES.find((candidate) => candidate in block!);
    if (!type || !(REQUEST_BLOCK_TYPES as readonly string[]).includes(type) || !(type in block!)) {
      fail(
        `body failed validation. Fix one: ${REQUEST_BLOCK_TYPES.map((candidate) => `${at}.${candidate} should be defined, instead was \`undefined\`.`).join(" ")}`,
      );
    }
    count += 1;
    const content = block![type!] as Record<string, unknown> | null;
    if (!content || typeof content !== "object")
      fail(`body failed validation: ${at}.${type} should be an object, instead was \`${JSON.stringify(content)}\`.`);
    if ((CHECKED_BLOCK_TYPES as readonly string[]).includes(type!) && type !== "divider") {
      validateRichText(content!.rich_text, `${at}.${type}.rich_text`);
      if (content!.color !== undefined && !(COLORS as readonly string[]).includes(asText(content!.color))) {
        fail(
          `body failed validation: ${at}.${type}.color should be one of ${COLORS.map((c) => `"${c}"`).join(", ")}, instead was \`"${asText(content!.color)}"\`.`,
        );
      }
    }
    if (type === "code") {
      if (!(CODE_LANGUAGES as readonly string[]).includes(String(content!.language))) {
        fail(
          `body failed validation: ${at}.code.language should be one of ${CODE_LANGUAGES.map((l) => `"${l}"`).join(", ")}, instead was \`${JSON.stringify(content!.language)}\`.`,
        );
      }
      if (content!.caption !== undefined) validateRichText(content!.caption, `${at}.code.caption`);
    }
    if (type === "to_do" && content!.checked !== undefined && typeof content!.checked !== "boolean") {
      fail(`body failed validation: ${at}.to_do.checked should be a boolean, instead was \`${JSON.stringify(content!.checked)}\`.`);
    }
    const children = content!.children;
    if (children !== undefined) {
      if (!WITH_CHILDREN.has(type!))
        fail(`body failed validation: ${at}.${type}.children should be not present, instead was \`${JSON.stringify(children)}\`.`);
      if (depth >= LIMITS.nestingDepth)
        fail(
          `body failed validation: ${at}.${type}.children should be not present, instead was \`${JSON.stringify(children).slice(0, 80)}\`.`,
        );
      count += validateBlocks(children, `${at}.${type}.children`, depth + 1);
    }
  });
  return count;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Request JSON must be well-formed UTF-16: a lone surrogate is not valid content. */
export function hasLoneSurrogate(value: unknown): boolean {
  if (typeof value === "string") return LONE_SURROGATE.test(value);
  if (Array.isArray(value)) return value.some(hasLoneSurrogate);
  if (value && typeof value === "object")
    return Object.entries(value).some(([key, member]) => hasLoneSurrogate(key) || hasLoneSurrogate(member));
  return false;
}

// ---------- stored blocks, answered as BlockObjectResponse ----------

export interface StoredBlock {
  id: string;
  pageId: string;
  parent: { type: "page_id"; page_id: string } | { type: "block_id"; block_id: string };
  type: string;
  content: Record<string, unknown>;
  childIds: string[];
  createdTime: string;
  createdBy: string;
}

export function richTextResponse(items: unknown): RichTextItemResponse[] {
  return ((items as Record<string, unknown>[] | undefined) ?? []).map((item) => {
    const annotations = {
      bold: false,
      italic: false,
      strikethrough: false,
      underline: false,
      code: false,
      color: "default" as const,
      ...(item.annotations as object | undefined),
    } as RichTextItemResponse["annotations"];
    if (item.text || item.type === "text") {
      const text = item.text as { content: string; link?: { url: string } | null };
      const link = text.link ?? null;
      return { type: "text", text: { content: text.content, link }, annotations, plain_text: text.content, href: link?.url ?? null };
    }
    const equation = item.equation as { expression: string } | undefined;
    if (equation) return { type: "equation", equation, annotations, plain_text: equation.expression, href: null };
    return { type: "text", text: { content: "", link: null }, annotations, plain_text: "", href: null };
  });
}

/** A stored block as GET /v1/blocks/{id}/children answers it. */
export function blockResponse(block: StoredBlock): BlockObjectResponse {
  const content: Record<string, unknown> = { ...block.content };
  delete content.children;
  if ("rich_text" in content) content.rich_text = richTextResponse(content.rich_text);
  if ("caption" in content) content.caption = richTextResponse(content.caption);
  if (block.type !== "divider" && block.type !== "code" && "rich_text" in content && content.color === undefined) content.color = "default";
  if (block.type === "to_do" && content.checked === undefined) content.checked = false;
  if (block.type === "code" && content.caption === undefined) content.caption = [];
  if (block.type.startsWith("heading_") && content.is_toggleable === undefined) content.is_toggleable = false;
  const user = { object: "user" as const, id: block.createdBy };
  return {
    object: "block",
    id: block.id,
    parent: block.parent,
    created_time: block.createdTime,
    last_edited_time: block.createdTime,
    created_by: user,
    last_edited_by: user,
    has_children: block.childIds.length > 0,
    archived: false,
    in_trash: false,
    type: block.type,
    [block.type]: content,
  } as unknown as BlockObjectResponse;
}
