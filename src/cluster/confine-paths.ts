import { realpathSync } from "node:fs"
import path from "node:path"
import type { TrainPayload } from "./trainer-entity.js"

/**
 * A runner acts only on files under its root (`deepspark runner --root DIR`, default its working
 * directory): a `Train` names a working directory, a solver, weights, staged databases, a log file and a
 * staging folder, and every one of them must resolve — symbolic links followed — inside the root. Returns the
 * payload with the working directory made explicit (the trainer then never falls back to the runner's
 * own working directory), or the reason it was refused.
 */
export const confineTrainPayload = (payload: TrainPayload, root: string): { readonly payload: TrainPayload } | { readonly refused: string } => {
  const spec = payload.assignment.spec
  if (spec.kind !== "caffe" && payload.staging === undefined) return { payload }
  const realRoot = realResolve(path.resolve(root))
  const inside = (p: string) => {
    const rel = path.relative(realRoot, realResolve(p))
    return rel === "" || (!rel.startsWith("..") && !path.isAbsolute(rel))
  }
  const cwd = path.resolve(realRoot, spec.kind === "caffe" ? (spec.workingDirectory ?? ".") : ".")
  const named: Array<[string, string]> = [["working directory", cwd]]
  if (spec.kind === "caffe") {
    named.push(["solver", path.resolve(cwd, spec.solverPath)])
    for (const w of (spec.weights ?? "").split(",").filter((w) => w.trim() !== "")) named.push(["weights", path.resolve(cwd, w.trim())])
    for (const [layer, db] of Object.entries(spec.stagedData ?? {})) named.push([`staged data of layer "${layer}"`, path.resolve(cwd, db)])
    if (spec.logFile !== undefined) named.push(["log file", path.resolve(cwd, spec.logFile)])
  }
  if (payload.staging !== undefined) named.push(["staging folder", path.resolve(cwd, payload.staging.dir)])
  const outside = named.find(([, p]) => !inside(p))
  if (outside !== undefined) return { refused: `the ${outside[0]} ${JSON.stringify(outside[1].slice(0, 300))} is outside this runner's root ${realRoot} (--root)` }
  return spec.kind === "caffe" ? { payload: { ...payload, assignment: { ...payload.assignment, spec: { ...spec, workingDirectory: cwd } } } } : { payload }
}

/** The real path of `p`, following links as far as the path exists (the rest appended as given). */
const realResolve = (p: string): string => {
  try {
    return realpathSync(p)
  } catch {
    const parent = path.dirname(p)
    return parent === p ? p : path.join(realResolve(parent), path.basename(p))
  }
}
