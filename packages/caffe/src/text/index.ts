export { PrototxtError } from "./PrototxtError.js"
export { parsePrototxt, parsePrototxtEffect, printPrototxt } from "./prototxt.js"
export type { ParseOptions } from "./parse.js"
export type { PrintOptions } from "./print.js"
export { parsePrototxtWith } from "./parse.js"
export { printPrototxtWith } from "./print.js"
export { schemaFromDescriptors, type SchemaLookup } from "./schemaLookup.js"
export { caffeLookup } from "./caffeLookup.js"
export { formatDouble, formatFloat32, shortestFloat32 } from "./formatNumber.js"
export {
  readNetPrototxt,
  readNetPrototxtSync,
  readSolverPrototxt,
  readSolverPrototxtSync,
  type ReadPrototxtOptions
} from "./readPrototxt.js"
