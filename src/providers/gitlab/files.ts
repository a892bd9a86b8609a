import { ProviderError } from "../../errors.js";
import { encodePath } from "./client.js";
import { isNotFound, type GitLabContext } from "./context.js";
import { TreeEntryWire } from "./schema.js";

/**
 * A file's text, or null when there is no file at `path`. The raw-file endpoint alone cannot tell
 * a missing file from a submodule at the path (both 404), and answers a symlink's target path as if
 * it were the file: a policy read that way would be silently the default, or nonsense. So the entry
 * is looked up in its directory's tree first (one request; the raw read follows only for a file):
 * a submodule, a symlink or a directory at the path is a clear error. Any answer other than 404
 * (a 5xx, a rate limit, a refusal) is an error too, never "no file".
 */
export async function readFile(
  context: GitLabContext,
  projectPath: string,
  path: string,
  ref?: string,
): Promise<string | null> {
  const id = encodePath(projectPath);
  const slash = path.lastIndexOf("/");
  const directory = slash >= 0 ? path.slice(0, slash) : "";
  const name = path.slice(slash + 1);
  let entry: TreeEntryWire | undefined;
  try {
    const entries = context.client.pages(`/projects/${id}/repository/tree`, TreeEntryWire, {
      ...(directory ? { path: directory } : {}),
      ...(ref ? { ref } : {}),
    });
    for await (const candidate of entries) {
      if (candidate.name === name) entry = candidate;
    }
  } catch (error) {
    // No such directory, ref or project (or one hidden from the token, which GitLab also answers 404).
    if (isNotFound(error)) return null;
    throw error;
  }
  if (!entry) return null;
  const where = `${projectPath}:${path}${ref ? `@${ref}` : ""}`;
  const problem =
    entry.type === "commit" || entry.mode === "160000"
      ? "a submodule"
      : entry.mode === "120000"
        ? "a symbolic link"
        : entry.type !== "blob"
          ? "a directory"
          : null;
  if (problem) {
    throw new ProviderError(`${where} is ${problem}, not a file: soc2-bot reads only a regular file there`, {
      host: "gitlab",
    });
  }
  return context.client.getText(
    `/projects/${id}/repository/files/${encodeURIComponent(path)}/raw`,
    ref ? { ref } : {},
  );
}
