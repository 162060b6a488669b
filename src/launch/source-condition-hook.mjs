// Module resolve hook (node:module register): resolve with the "source" export condition first, so the
// workspace packages load from their TypeScript sources when the runtime runs unbuilt.
export async function resolve(specifier, context, nextResolve) {
  const conditions = context.conditions.includes("source") ? context.conditions : ["source", ...context.conditions]
  return nextResolve(specifier, { ...context, conditions })
}
