#!/usr/bin/env node
// Runs a TypeScript entry point with tsx registered in this process. Worker threads use the same
// bootstrap (tsx's --import does not carry into worker_threads on Node 20).
import { register } from "tsx/esm/api"
import { pathToFileURL } from "node:url"
import path from "node:path"

register()
const [entry, ...rest] = process.argv.slice(2)
if (!entry) {
  console.error("usage: run-ts.mjs FILE.ts [args...]")
  process.exit(2)
}
process.argv = [process.argv[0], entry, ...rest]
await import(pathToFileURL(path.resolve(entry)).href)
