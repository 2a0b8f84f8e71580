import type { CommandContext } from "../spec.ts";
import { versionInfo, versionText } from "../version.ts";

export function run(ctx: CommandContext): Promise<number> {
  const info = versionInfo();
  ctx.io.print(ctx.values.json ? JSON.stringify(info) + "\n" : versionText(info));
  return Promise.resolve(0);
}
