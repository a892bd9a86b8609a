/**
 * The `.env` file the app's manifest flow writes (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET,
 * WEBHOOK_PROXY_URL) and people keep their settings in, read by the command line and the app alike.
 */
import { existsSync } from "node:fs";
import { resolve } from "node:path";

/**
 * Loads `path` (default `.env` in the working directory) into process.env when the file exists,
 * with Node's own parser. A variable already set in the environment keeps its value: an explicit
 * `GITHUB_TOKEN=… soc2-bot audit` always wins over the file. Returns the file read, if any.
 */
export function loadEnvFile(path = ".env"): string | undefined {
  const file = resolve(path);
  if (!existsSync(file)) return undefined;
  process.loadEnvFile(file);
  return file;
}
