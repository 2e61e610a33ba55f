import LINEAR_SDL from "../../../shared/reference/linear/schema.graphql";
import { createEmulator, isEmulatedNetworkError, type Emulator } from "./index";
import { provideLinearSdl } from "./linear-schema";

provideLinearSdl(LINEAR_SDL);

/** Bindings from test/emulator/wrangler.toml ([vars]). */
interface EmulatorEnv {
  APP_ORIGIN?: string;
  EMULATOR_ORIGIN?: string;
}

// One emulator per isolate: its state lives as long as `wrangler dev` does,
// and tests reset it through POST /__emulator/reset.
let emulator: Emulator | undefined;

/**
 * A Worker cannot close its client's connection before answering, so a dropped connection
 * becomes the nearest thing: the status line, then a body that fails while it is read.
 */
function droppedConnection() {
  const body = new ReadableStream({
    pull(controller) {
      controller.error(new Error("Network connection lost."));
    },
  });
  return new Response(body, { status: 200, headers: { "Content-Type": "application/json; charset=utf-8" } });
}

export default {
  async fetch(request, env) {
    emulator ??= createEmulator({
      origin: env.EMULATOR_ORIGIN ?? new URL(request.url).origin,
      appOrigin: env.APP_ORIGIN ?? "http://localhost:8787",
    });
    try {
      return await emulator.handle(request);
    } catch (error) {
      if (isEmulatedNetworkError(error)) return droppedConnection();
      throw error;
    }
  },
} satisfies ExportedHandler<EmulatorEnv>;
