import { createEmulator, type Emulator } from "./index";

/** Bindings from test/emulator/wrangler.toml ([vars]). */
interface EmulatorEnv {
  APP_ORIGIN?: string;
  EMULATOR_ORIGIN?: string;
}

// One emulator per isolate: its state lives as long as `wrangler dev` does,
// and tests reset it through POST /__emulator/reset.
let emulator: Emulator | undefined;

export default {
  async fetch(request, env) {
    emulator ??= createEmulator({
      origin: env.EMULATOR_ORIGIN ?? new URL(request.url).origin,
      appOrigin: env.APP_ORIGIN ?? "http://localhost:8787",
    });
    return emulator.handle(request);
  },
} satisfies ExportedHandler<EmulatorEnv>;
