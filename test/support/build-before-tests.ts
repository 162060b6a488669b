import { execFileSync } from "node:child_process"
import path from "node:path"
import { fileURLToPath } from "node:url"

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")

/**
 * vitest global setup: rebuilds dist/ (the runtime bundle, a few seconds) so that tests which start the
 * built `deepspark` command, its worker threads or child processes run the sources under test, never an
 * earlier build. DEEPSPARK_SKIP_BUILD=1 skips it (when dist/ was just built).
 */
export default function setup(): void {
  if (process.env.DEEPSPARK_SKIP_BUILD === "1") return
  execFileSync(process.execPath, [path.join(repoRoot, "scripts/build.mjs"), "--quiet"], { cwd: repoRoot, stdio: "inherit" })
}
