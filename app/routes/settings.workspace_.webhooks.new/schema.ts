import * as v from "valibot";
import { EndpointFieldEntries } from "~/lib/webhooks/validation";

export const NewEndpointSchema = v.object(EndpointFieldEntries);
