import * as v from "valibot";
import { isSubscribableEvent } from "./catalog";
import { MAX_WEBHOOK_URL_LENGTH } from "./url-policy";

/**
 * The fields of the endpoint forms (new and edit). Whether the URL may be used here (public
 * HTTPS in production) is the domain's check, reported next to the same field.
 */
export const EndpointFieldEntries = {
  url: v.pipe(
    v.string("Enter the endpoint's URL."),
    v.trim(),
    v.nonEmpty("Enter the endpoint's URL."),
    v.maxLength(MAX_WEBHOOK_URL_LENGTH, `A webhook URL has at most ${MAX_WEBHOOK_URL_LENGTH} characters.`),
    v.url("Enter an absolute URL, like https://example.com/webhooks/spokedo."),
  ),
  description: v.optional(v.pipe(v.string(), v.trim(), v.maxLength(200, "A description has at most 200 characters.")), ""),
  // Checkboxes: one checked box arrives as a string, several as a list, none as nothing.
  events: v.pipe(
    v.optional(v.union([v.string(), v.array(v.string())], "Choose events from the list."), []),
    v.transform((value) => (Array.isArray(value) ? value : [value])),
    // Checked as a whole, so the message belongs to the field rather than to one box.
    v.check((events) => events.every(isSubscribableEvent), "Choose events from the list."),
    v.transform((events) => events.filter(isSubscribableEvent)),
    v.minLength(1, "Choose at least one event."),
  ),
  enabled: v.optional(v.literal("on")),
};
