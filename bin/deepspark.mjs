#!/usr/bin/env node
// The `deepspark` command: runs the built CLI (dist/, made by `npm install` / `npm run build`).
// `npm run dev -- …` runs the TypeScript sources instead.
import { existsSync } from "node:fs"

const built = new URL("../dist/deepspark.js", import.meta.url)
if (!existsSync(built)) {
  console.error("deepspark: dist/deepspark.js is missing — run `npm run build` (npm install runs it), or `npm run dev -- …` to run the sources")
  process.exit(2)
}
await import(built.href)
