#!/usr/bin/env node
/**
 * Builds the JavaScript that every `deepspark` command, worker thread, evaluator thread and trainer child
 * process runs (tsx stays for development: `npm run dev`). Run by `npm install` (`prepare`), `npm test`
 * (vitest's global setup) and `npm run bench` / `npm run demo`, so the build is never stale there.
 *
 * Why a bundler (esbuild) rather than `tsc -b` output for the runtime: loading effect, @effect/rpc and
 * @effect/platform-node module by module costs ≈ 0.9 s per process on this machine class before any of
 * our code runs; a tree-shaken bundle loads in a fraction of that, and every worker thread pays it.
 * The libraries under packages/ are also built one by one (packages/X/dist/index.js, their workspace
 * neighbours and npm dependencies left as imports) with declarations from `tsc -b tsconfig.build.json` (dist/types),
 * so @deepspark/caffe, @deepspark/data and @deepspark/engine can be published as they are.
 *
 *   node scripts/build.mjs              runtime bundle (dist/) and the packages' JavaScript
 *   node scripts/build.mjs --types      also the declarations of the packages and the runtime (tsc -b; slower)
 */
import * as esbuild from "esbuild"
import { execFileSync } from "node:child_process"
import { existsSync, readdirSync, rmSync } from "node:fs"
import path from "node:path"
import { fileURLToPath } from "node:url"

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..")
const started = Date.now()
const quiet = process.argv.includes("--quiet")

/** Bare imports kept out of the runtime bundle: everything but Effect, msgpackr and our own packages. */
const bundledPackages = [/^effect(\/|$)/, /^@effect\//, /^msgpackr(\/|$)/, /^@deepspark\//]
const externalizeOthers = (bundled) => ({
  name: "externalize-dependencies",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.path.startsWith("node:")) return { external: true }
      if (bundled.some((re) => re.test(args.path))) return undefined
      return { path: args.path, external: true }
    })
  }
})

const common = {
  bundle: true,
  format: "esm",
  platform: "node",
  target: "node20",
  sourcemap: "linked",
  logLevel: "warning",
  // Sources import our packages by their "source" condition (TypeScript), as vitest and tsc do.
  conditions: ["source"],
  // Marks code as running from a build: thread and child-process entries are resolved to dist/ files.
  define: { __DEEPSPARK_BUILT__: "true" },
  // ESM output loading CommonJS dependencies (pg, classic-level …) needs require().
  banner: { js: 'import { createRequire as __deepsparkCreateRequire } from "node:module"; const require = __deepsparkCreateRequire(import.meta.url);' }
}

/** The runtime: the CLI and everything it starts in other threads or processes, sharing chunks. */
const runtimeEntries = {
  deepspark: "src/cli/main.ts",
  index: "src/index.ts",
  "worker-entry": "src/worker/worker-entry.ts",
  "evaluator-entry": "src/center/evaluator-entry.ts",
  "trainer-child": "src/worker/trainer-child.ts",
  "remote-main": "src/cli/remote-main.ts",
  "decode-core": "packages/data/src/image/decode-core.mjs",
  demo: "examples/demo.ts",
  bench: "bench/main.ts"
}

/** Empties a dist/ folder of an earlier build's JavaScript, keeping tsc's declarations (dist/types). */
const clean = (dir) => {
  if (!existsSync(dir)) return
  for (const name of readdirSync(dir)) if (name !== "types") rmSync(path.join(dir, name), { recursive: true, force: true })
}

/**
 * One code-split ESM build of `entries` from `dir` into `dir`/dist, flat: every entry and chunk side by
 * side, so `new URL("./<entry>.js", import.meta.url)` finds an entry from any chunk
 * (src/launch/entry-points.ts) and bench/examples code keeps its depth below the root.
 */
const buildInto = async (dir, entries, bundled) => {
  clean(path.join(dir, "dist"))
  await esbuild.build({
    ...common,
    absWorkingDir: dir,
    entryPoints: entries,
    outdir: "dist",
    splitting: true,
    chunkNames: "[name]-[hash]",
    plugins: [externalizeOthers(bundled)]
  })
}

await buildInto(root, runtimeEntries, bundledPackages)

/** Each library package on its own: its neighbours and npm dependencies stay imports. */
for (const pkg of ["caffe", "data", "engine"]) {
  const entries = { index: "src/index.ts" }
  if (pkg === "data") entries["decode-core"] = "src/image/decode-core.mjs"
  await buildInto(path.join(root, "packages", pkg), entries, [])
}

if (process.argv.includes("--types")) {
  execFileSync(process.execPath, [path.join(root, "node_modules/typescript/bin/tsc"), "-b", "tsconfig.build.json"], {
    cwd: root,
    stdio: "inherit"
  })
}
if (!quiet) console.log(`deepspark: built dist/ and packages/*/dist in ${((Date.now() - started) / 1000).toFixed(1)} s`)
