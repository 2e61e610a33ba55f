import * as v from "valibot";
import { describeConfigValue } from "./config-form";
import { optionalMappings, optionalText } from "./config-schema";
import { ProviderError } from "./errors";
import {
  asRecord,
  asString,
  basicAuth,
  jsonObject,
  NO_BUDGET_HEADERS,
  parseJson,
  providerError,
  providerFetch,
  type ErrorVocabulary,
  type ProviderResponse,
} from "./http.server";
import { splitText, toNotionBlocks } from "./markdown.server";
import type { Choice, ProviderContext, ProviderModule, StoredTokens, TargetProblem } from "./types";

// Pinned: from 2025-09-03 on, pages are created under data sources instead of databases.
export const NOTION_VERSION = "2022-06-28";

const ERRORS: ErrorVocabulary = { unauthorized: ["unauthorized"], rateLimited: ["rate_limited"], defaultRetryAfterSeconds: 1 };

/** Notion errors: `{object: "error", status, code, message}`. */
function readNotionError(response: ProviderResponse) {
  const data = parseJson(response.text) as Record<string, unknown> | undefined;
  return { code: asString(data?.code) ?? asString(data?.error), message: asString(data?.message) ?? (data ? undefined : response.text) };
}

function notionError(response: ProviderResponse, secrets: (string | null)[]) {
  return providerError(response, ERRORS, readNotionError, secrets);
}

function notionHeaders(tokens: StoredTokens) {
  return { Authorization: `Bearer ${tokens.accessToken}`, "Notion-Version": NOTION_VERSION };
}

async function getBotUser(context: ProviderContext, tokens: StoredTokens) {
  const response = await providerFetch(context, `${context.endpoints.api}/v1/users/me`, { headers: notionHeaders(tokens) });
  if (!response.ok) throw notionError(response, [tokens.accessToken]);
  return jsonObject(response);
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

export const notion: ProviderModule = {
  id: "notion",
  name: "Notion",
  icon: "/providers/notion.svg",
  summary: "Create pages in a database, with default property values.",
  defaultEndpoints: { web: "https://api.notion.com", api: "https://api.notion.com" },
  env: { clientId: "NOTION_CLIENT_ID", clientSecret: "NOTION_CLIENT_SECRET", webUrl: "NOTION_WEB_URL", apiUrl: "NOTION_API_URL" },
  oauth: {
    protocol: "oauth2",
    authorizeUrl: "{web}/v1/oauth/authorize",
    tokenUrl: "{api}/v1/oauth/token",
    // Notion has no scopes: access comes from the integration's capabilities and the pages picked.
    scopes: [],
    scopeSeparator: " ",
    pkce: false,
    clientAuthentication: "basic",
    authorizeParams: { owner: "user" },
  },
  async fetchIdentity(context, tokens) {
    const bot = await getBotUser(context, tokens);
    const botId = asString(bot.id);
    const botInfo = (bot.bot ?? {}) as Record<string, unknown>;
    const workspaceName = asString(botInfo.workspace_name) ?? asString(bot.name) ?? "Notion workspace";
    if (!botId) throw new ProviderError("malformed_response", "GET /v1/users/me answered without an id.");
    const owner = (botInfo.owner ?? {}) as Record<string, unknown>;
    const ownerUser = (owner.user ?? {}) as Record<string, unknown>;
    const ownerName = asString(ownerUser.name);
    return {
      // Notion recommends the bot id as the key of a stored connection.
      accountId: botId,
      label: workspaceName,
      url: null,
      details: { workspace: workspaceName, bot_id: botId, ...(ownerName ? { authorized_by: ownerName } : {}) },
    };
  },
  // The refresh token when held: it ends this authorization even after the access token expired.
  async revoke(context, tokens) {
    const token = tokens.refreshToken ?? tokens.accessToken;
    const response = await providerFetch(context, `${context.endpoints.api}/v1/oauth/revoke`, {
      method: "POST",
      headers: { Authorization: basicAuth(context.credentials), "Content-Type": "application/json", "Notion-Version": NOTION_VERSION },
      body: JSON.stringify({ token }),
    });
    if (!response.ok) throw notionError(response, [tokens.accessToken, tokens.refreshToken, context.credentials.clientSecret]);
  },
  rateLimit: {
    read: NO_BUDGET_HEADERS,
    description:
      "An average of three requests per second per integration. Notion reports no remaining budget: a 429's Retry-After pauses every delivery through the connection.",
  },
  configSchema: v.object({
    databaseId: optionalText({ max: 36, pattern: UUID, message: "Use the database ID from its URL: 32 hexadecimal characters." }),
    propertyMappings: optionalMappings({ maxRows: 20, keyLabel: "property name" }),
  }),
  configFields: [
    {
      name: "databaseId",
      label: "Database",
      type: "text",
      placeholder: "2f26ee68df3a4d3a9f1c3e5a1b7c9d0e",
      hint: "Only databases shared with the integration in Notion are listed. Typed by hand: the ID from its URL.",
    },
    {
      name: "propertyMappings",
      whenUnset: "pages get only their title and body",
      label: "Properties",
      type: "mappings",
      hint: "Database property → value, e.g. Status → Inbox. The title property receives the insight title.",
    },
  ],
  overridableFields: ["databaseId", "propertyMappings"],
  requiredForDelivery: ["databaseId"],
  async checkTargets(context, tokens, { config, typed }) {
    const { databaseId } = config as { databaseId?: string };
    const propertyMappings = mappingTexts(config.propertyMappings);
    if (!databaseId) return [];
    const response = await providerFetch(context, `${context.endpoints.api}/v1/databases/${encodeURIComponent(databaseId)}`, {
      headers: notionHeaders(tokens),
    });
    if (response.status === 404) {
      return [{ field: "databaseId", message: `Database ${databaseId} does not exist, or is no longer shared with the integration.` }];
    }
    if (!response.ok) throw notionError(response, [tokens.accessToken]);
    const database = jsonObject(response);
    if (database.in_trash === true || database.archived === true) {
      return [{ field: "databaseId", message: `Database ${databaseId} is in the trash: pages cannot be added to it.` }];
    }
    const properties = asRecord(database.properties);
    const types = (name: string) => asString(asRecord(properties[name]).type) ?? "";
    const people = Object.keys(propertyMappings).some((name) => types(name) === "people") ? await listPeople(context, tokens) : [];
    const problems: TargetProblem[] = [];
    const stored: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(propertyMappings)) {
      const property = properties[name];
      let problem =
        property === undefined ? `The database has no property named ${name} any more.` : mappingProblem(name, asRecord(property), value);
      if (!problem && types(name) === "people") {
        const resolved = resolvePeople(people, value);
        if (resolved.ok) stored[name] = resolved.people;
        else problem = `${name} is a people property; "${resolved.entry}": ${resolved.reason}.`;
      } else if (!problem) stored[name] = typedMapping(types(name), value);
      if (problem) problems.push({ field: "propertyMappings", message: problem });
    }
    // Checked against their properties: stored typed (numbers, booleans, option lists, people by id).
    if (!problems.length && Object.keys(propertyMappings).length) typed?.("propertyMappings", stored);
    return problems;
  },
  choices: {
    // Databases shared with the integration (Notion's search finds nothing else; trashed ones are left out).
    databaseId: {
      async list(context, tokens, { limit }) {
        const choices: Choice[] = [];
        let cursor: string | null = null;
        do {
          const response = await providerFetch(context, `${context.endpoints.api}/v1/search`, {
            method: "POST",
            headers: { ...notionHeaders(tokens), "Content-Type": "application/json" },
            body: JSON.stringify({
              filter: { property: "object", value: "database" },
              sort: { timestamp: "last_edited_time", direction: "descending" },
              page_size: 100,
              ...(cursor ? { start_cursor: cursor } : {}),
            }),
          });
          if (!response.ok) throw notionError(response, [tokens.accessToken]);
          const page = jsonObject(response);
          for (const database of Array.isArray(page.results) ? page.results.map(asRecord) : []) {
            const id = asString(database.id);
            if (!id || database.in_trash === true || database.archived === true) continue;
            choices.push({ value: id, label: plainTitle(database.title) || "Untitled database" });
          }
          cursor = page.has_more === true ? (asString(page.next_cursor) ?? null) : null;
        } while (cursor && choices.length < limit);
        choices.sort((a, b) => a.label.localeCompare(b.label));
        return { choices: choices.slice(0, limit), truncated: choices.length > limit || cursor !== null };
      },
    },
    // The database's properties a mapping can set, with their types and options.
    propertyMappings: {
      dependsOn: "databaseId",
      async list(context, tokens, { parent }) {
        const response = await providerFetch(context, `${context.endpoints.api}/v1/databases/${encodeURIComponent(parent ?? "")}`, {
          headers: notionHeaders(tokens),
        });
        if (!response.ok) throw notionError(response, [tokens.accessToken]);
        const properties = Object.values(asRecord(jsonObject(response).properties)).map(asRecord);
        const choices = properties
          .filter((property) => MAPPABLE.has(asString(property.type) ?? ""))
          .map((property) => {
            const type = asString(property.type) ?? "";
            const options = asRecord(property[type]).options;
            const names = Array.isArray(options) ? options.map((option) => asString(asRecord(option).name) ?? "").filter(Boolean) : [];
            const name = asString(property.name) ?? "";
            return { value: name, label: name, kind: type, ...(names.length ? { options: names } : {}) };
          })
          .filter((choice) => choice.value)
          .sort((a, b) => a.label.localeCompare(b.label));
        return { choices, truncated: false };
      },
    },
  },
  async deliver(context, tokens, input) {
    const { databaseId } = input.config as { databaseId: string };
    const propertyMappings = mappingTexts(input.config.propertyMappings);
    // Property values must match their type in the database, so read its schema first.
    const schemaResponse = await providerFetch(context, `${context.endpoints.api}/v1/databases/${encodeURIComponent(databaseId)}`, {
      headers: notionHeaders(tokens),
    });
    if (!schemaResponse.ok) throw notionError(schemaResponse, [tokens.accessToken]);
    const schema = jsonObject(schemaResponse).properties as Record<string, { type?: string }> | undefined;
    const types = Object.fromEntries(Object.entries(schema ?? {}).map(([name, property]) => [name, property?.type ?? ""]));
    const titleProperty = Object.keys(types).find((name) => types[name] === "title");
    if (!titleProperty) throw new ProviderError("client_error", "The database has no title property.");
    const properties: Record<string, unknown> = { [titleProperty]: { title: [{ text: { content: splitText(input.title, 2000)[0]! } }] } };
    let people: NotionPerson[] | null = null;
    for (const [name, value] of Object.entries(propertyMappings)) {
      const type = types[name];
      if (!type) throw new ProviderError("client_error", `The database has no property named ${name}.`);
      if (type !== "people") {
        properties[name] = notionPropertyValue(type, value);
        continue;
      }
      // Checked mappings hold the people's ids; one saved unverified is resolved now.
      const stored = asRecord(input.config.propertyMappings)[name];
      let ids = Array.isArray(stored) ? stored.map((item) => asString(asRecord(item).id) ?? "") : [];
      if (!ids.length || ids.includes("")) {
        people ??= await listPeople(context, tokens);
        const resolved = resolvePeople(people, value);
        if (!resolved.ok) throw new ProviderError("client_error", `${name}: "${resolved.entry}": ${resolved.reason}.`);
        ids = resolved.people.map((person) => person.id);
      }
      properties[name] = { people: ids.map((id) => ({ id })) };
    }
    const response = await providerFetch(context, `${context.endpoints.api}/v1/pages`, {
      creates: true,
      method: "POST",
      headers: { ...notionHeaders(tokens), "Content-Type": "application/json" },
      body: JSON.stringify({
        parent: { database_id: databaseId },
        properties,
        children: [...toNotionBlocks(input.body, MAX_BLOCKS - 1), footer(input.idempotencyKey)],
      }),
    });
    if (!response.ok) throw notionError(response, [tokens.accessToken]);
    const page = jsonObject(response);
    const id = asString(page.id);
    if (!id) throw new ProviderError("malformed_response", "The created page has no id.");
    return { id, url: asString(page.url) ?? null };
  },
  // Pages created since the attempt began, with the same title, whose footer names this delivery.
  async findDelivered(context, tokens, input) {
    const { databaseId } = input.config as { databaseId: string };
    const title = splitText(input.title, 2000)[0]!;
    const wanted = footerText(input.idempotencyKey);
    // Notion keeps created_time to the minute.
    const since = new Date(Math.floor((input.since - 60_000) / 60_000) * 60_000).toISOString();
    let cursor: string | undefined;
    for (let round = 0; round < LOOKUP_PAGES; round++) {
      const response = await providerFetch(context, `${context.endpoints.api}/v1/databases/${encodeURIComponent(databaseId)}/query`, {
        method: "POST",
        headers: { ...notionHeaders(tokens), "Content-Type": "application/json" },
        body: JSON.stringify({
          filter: { timestamp: "created_time", created_time: { on_or_after: since } },
          sorts: [{ timestamp: "created_time", direction: "descending" }],
          page_size: 100,
          ...(cursor ? { start_cursor: cursor } : {}),
        }),
      });
      if (!response.ok) throw notionError(response, [tokens.accessToken]);
      const data = jsonObject(response);
      const pages = Array.isArray(data.results) ? data.results.map(asRecord) : [];
      for (const page of pages.filter((candidate) => pageTitle(candidate) === title)) {
        const id = asString(page.id);
        if (id && (await pageMentions(context, tokens, id, wanted))) return { id, url: asString(page.url) ?? null };
      }
      cursor = data.has_more === true ? asString(data.next_cursor) : undefined;
      if (!cursor) break;
    }
    return null;
  },
};

const MAX_BLOCKS = 100;
const LOOKUP_PAGES = 3;

function pageTitle(page: Record<string, unknown>): string | undefined {
  const property = Object.values(asRecord(page.properties))
    .map(asRecord)
    .find((candidate) => candidate.type === "title");
  return Array.isArray(property?.title) ? property.title.map((part) => asString(asRecord(part).plain_text) ?? "").join("") : undefined;
}

async function pageMentions(context: ProviderContext, tokens: StoredTokens, pageId: string, text: string) {
  const response = await providerFetch(context, `${context.endpoints.api}/v1/blocks/${encodeURIComponent(pageId)}/children?page_size=100`, {
    headers: notionHeaders(tokens),
  });
  if (!response.ok) throw notionError(response, [tokens.accessToken]);
  const blocks = jsonObject(response).results;
  return Array.isArray(blocks) && blocks.some((block) => JSON.stringify(block).includes(text));
}

function footerText(key: string) {
  return `Sent by SpokeDo · ref ${key}`;
}

/** The delivery's reference, in a quiet last paragraph (Notion has no hidden place on a page). */
function footer(key: string) {
  return {
    object: "block",
    type: "paragraph",
    paragraph: { rich_text: [{ type: "text", text: { content: footerText(key) }, annotations: { color: "gray" } }] },
  };
}

/**
 * Whether a mapped value can be written to a property of the database as it is now: the type
 * still takes a value from text, and the text means something of that type. Select options are
 * created by Notion on write; status options cannot be.
 */
function mappingProblem(name: string, property: Record<string, unknown>, value: string): string | null {
  const type = asString(property.type) ?? "";
  const options = () =>
    (Array.isArray(asRecord(property[type]).options) ? (asRecord(property[type]).options as unknown[]) : []).map(
      (option) => asString(asRecord(option).name) ?? "",
    );
  switch (type) {
    case "title":
      return `${name} is the title property: it receives the insight's title, so the mapping is ignored.`;
    case "number":
      return value.trim() !== "" && Number.isFinite(Number(value)) ? null : `${name} is a number property; "${value}" is not a number.`;
    case "date":
      return ISO_DATE.test(value) && !Number.isNaN(Date.parse(value))
        ? null
        : `${name} is a date property; "${value}" is not an ISO 8601 date (like 2026-12-31).`;
    case "checkbox":
      return /^(true|false|yes|no|1|0)$/i.test(value) ? null : `${name} is a checkbox; use true or false, not "${value}".`;
    case "status":
      return options().includes(value) ? null : `${name} has no status named "${value}" (Notion cannot create status options).`;
    case "select":
    case "multi_select":
    case "rich_text":
    case "url":
    case "email":
    case "phone_number":
    case "people":
      return null;
    default:
      return `${name} is a ${type.replaceAll("_", " ")} property, which cannot be set from a mapping.`;
  }
}

/** Property types a mapping can set (the title takes the insight's title). */
const MAPPABLE = new Set([
  "number",
  "date",
  "checkbox",
  "status",
  "select",
  "multi_select",
  "rich_text",
  "url",
  "email",
  "phone_number",
  "people",
]);

/** A Notion rich-text array as plain text. */
function plainTitle(value: unknown): string {
  return (Array.isArray(value) ? value : [])
    .map((part) => asString(asRecord(part).plain_text) ?? "")
    .join("")
    .trim();
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,3})?)?(?:Z|[+-]\d{2}:\d{2})?)?$/;

/** Stored mappings (typed once checked, text before) as the text a person typed. */
function mappingTexts(value: unknown): Record<string, string> {
  return Object.fromEntries(Object.entries(asRecord(value)).map(([name, item]) => [name, describeConfigValue(item)]));
}

/** A person of the workspace, as a people mapping names them. */
interface NotionPerson {
  id: string;
  name: string;
  email: string | null;
}

const PEOPLE_PAGES = 10;

/** The workspace's people (GET /v1/users, by cursor), for people mappings. */
async function listPeople(context: ProviderContext, tokens: StoredTokens): Promise<NotionPerson[]> {
  const people: NotionPerson[] = [];
  let cursor: string | null = null;
  for (let page = 0; page < PEOPLE_PAGES; page++) {
    const query = new URLSearchParams({ page_size: "100", ...(cursor ? { start_cursor: cursor } : {}) });
    const response = await providerFetch(context, `${context.endpoints.api}/v1/users?${query}`, { headers: notionHeaders(tokens) });
    if (!response.ok) throw notionError(response, [tokens.accessToken]);
    const body = jsonObject(response);
    for (const user of Array.isArray(body.results) ? body.results.map(asRecord) : []) {
      const id = asString(user.id);
      if (id && user.type === "person")
        people.push({ id, name: asString(user.name) ?? "", email: asString(asRecord(user.person).email) ?? null });
    }
    cursor = body.has_more === true ? (asString(body.next_cursor) ?? null) : null;
    if (!cursor) break;
  }
  return people;
}

type PeopleResolution = { ok: true; people: { id: string; label: string }[] } | { ok: false; entry: string; reason: string };

/**
 * A people mapping ("ada@example.com, Grace Hopper") resolved against the workspace: each entry by
 * e-mail, else by a name only one person has. Stored as {id, label} so the form shows what was typed.
 */
function resolvePeople(people: NotionPerson[], value: string): PeopleResolution {
  const resolved: { id: string; label: string }[] = [];
  for (const entry of value
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean)) {
    const wanted = entry.toLowerCase();
    const byEmail = people.find((person) => person.email?.toLowerCase() === wanted);
    const byName = people.filter((person) => person.name.toLowerCase() === wanted);
    if (byEmail) resolved.push({ id: byEmail.id, label: byEmail.email! });
    else if (byName.length === 1) resolved.push({ id: byName[0]!.id, label: byName[0]!.email ?? byName[0]!.name });
    else {
      const reason = byName.length
        ? "more than one person has that name: use their e-mail"
        : "no one in the workspace has that name or e-mail";
      return { ok: false, entry, reason };
    }
  }
  return { ok: true, people: resolved };
}

/** A checked mapping as stored: numbers and checkboxes typed, multi-select options as a list. */
function typedMapping(type: string, value: string): unknown {
  switch (type) {
    case "number":
      return Number(value);
    case "checkbox":
      return ["true", "yes", "1"].includes(value.toLowerCase());
    case "multi_select":
      return value
        .split(",")
        .map((item) => item.trim())
        .filter(Boolean);
    default:
      return value;
  }
}

function notionPropertyValue(type: string, value: string): unknown {
  switch (type) {
    case "title":
    case "rich_text":
      return { [type]: [{ text: { content: value.slice(0, 2000) } }] };
    case "select":
    case "status":
      return { [type]: { name: value } };
    case "multi_select":
      return {
        multi_select: value
          .split(",")
          .map((item) => ({ name: item.trim() }))
          .filter((item) => item.name),
      };
    case "url":
    case "email":
    case "phone_number":
      return { [type]: value };
    case "number":
      return { number: Number(value) };
    case "checkbox":
      return { checkbox: ["true", "yes", "1"].includes(value.toLowerCase()) };
    case "date":
      return { date: { start: value } };
    default:
      throw new ProviderError("client_error", `Properties of type ${type} cannot be set from a mapping.`);
  }
}
