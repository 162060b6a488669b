import type { OptionSpec } from "./argv.js"

/** `--backend lmdb|leveldb` of the data commands (Caffe's tools' `-backend`, default lmdb). */
export const dbBackendOption: OptionSpec = { name: "backend", type: "string", value: "lmdb|leveldb", description: "database backend (default lmdb)" }
