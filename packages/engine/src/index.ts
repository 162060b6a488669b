// Public API of @deepspark/engine. Append exports as modules land (one line per module).
export * from "./core/blob.js"
export * from "./core/rng.js"
export * from "./core/layer.js"
export * from "./core/registry.js"
export * from "./backend/backend.js"
