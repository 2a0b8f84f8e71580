/**
 * kmsenv: envelope encryption for local data with Alibaba Cloud KMS.
 *
 * @module
 */

import { systemIo } from "./src/cli/io.ts";
import { runCli } from "./src/cli/run.ts";

if (import.meta.main) {
  Deno.exit(await runCli(Deno.args, systemIo()));
}
