/**
 * The update rules' public surface: the registry (rule objects by name) and the kernels they compute
 * with. One file per rule lives in ./rules/; the interface every rule implements in ./update-rule.ts.
 */
export * from "./kernels.js"
export * from "./rule-registry.js"
export type * from "./update-rule.js"
export { composeMessage } from "./update-rule.js"
