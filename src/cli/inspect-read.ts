import * as fs from "node:fs"
import * as path from "node:path"
import {
  messageType,
  parsePrototxt,
  PrototxtError,
  upgradeNetAsNeeded,
  upgradeSolverAsNeeded,
  type NetParameter,
  type SolverParameter
} from "@deepspark/caffe"

/** Field names written at the top level of a prototxt (comments and strings skipped). */
export const topLevelFields = (text: string): Set<string> => {
  const fields = new Set<string>()
  let depth = 0
  let i = 0
  while (i < text.length) {
    const c = text[i]!
    if (c === "#") {
      while (i < text.length && text[i] !== "\n") i++
    } else if (c === '"' || c === "'") {
      i++
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1
      i++
    } else if (c === "{" || c === "<") {
      depth++
      i++
    } else if (c === "}" || c === ">") {
      depth--
      i++
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i
      while (j < text.length && /\w/.test(text[j]!)) j++
      const word = text.slice(i, j)
      let k = j
      while (k < text.length && /\s/.test(text[k]!)) k++
      if (depth === 0 && (text[k] === ":" || text[k] === "{" || text[k] === "<")) fields.add(word)
      i = j
    } else i++
  }
  return fields
}

const netFieldNames = new Set(messageType("NetParameter").fields.map((f) => f.name))
/** Fields only a SolverParameter has (`net`, `train_net`, `base_lr`, `test_iter`, …). */
const solverOnlyFields = new Set(messageType("SolverParameter").fields.map((f) => f.name).filter((n) => !netFieldNames.has(n)))

export const looksLikeSolver = (text: string): boolean => [...topLevelFields(text)].some((f) => solverOnlyFields.has(f))

export type InspectInput =
  | { readonly kind: "net"; readonly net: NetParameter }
  | { readonly kind: "solver"; readonly solver: SolverParameter }

const readText = (file: string, cwd: string): string => {
  try {
    return fs.readFileSync(path.resolve(cwd, file), "utf8")
  } catch (e) {
    const reason = (e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : e instanceof Error ? e.message : String(e)
    throw new PrototxtError({ file, line: 0, column: 0, path: "", reason: `cannot read file: ${reason}` })
  }
}

/** Reads and upgrades a net prototxt as Caffe's ReadNetParamsFromTextFileOrDie does; `file` is shown as given. */
export const readNet = (file: string, cwd: string): NetParameter =>
  upgradeNetAsNeeded(parsePrototxt("NetParameter", readText(file, cwd), { file }), { file })

const isDirectory = (cwd: string) => (prefix: string): boolean => {
  if (prefix.endsWith("/")) return true
  try {
    return fs.statSync(path.resolve(cwd, prefix)).isDirectory()
  } catch {
    return false
  }
}

/** Reads a prototxt and decides by its top-level fields whether it is a solver or a net. */
export const readInspectInput = (file: string, cwd: string): InspectInput => {
  const text = readText(file, cwd)
  if (looksLikeSolver(text)) {
    const solver = upgradeSolverAsNeeded(parsePrototxt("SolverParameter", text, { file }), { file, isDirectory: isDirectory(cwd) })
    return { kind: "solver", solver }
  }
  return { kind: "net", net: upgradeNetAsNeeded(parsePrototxt("NetParameter", text, { file }), { file }) }
}
