import * as fs from "node:fs"
import fc from "fast-check"
import { describe, expect, it } from "vitest"
import type { CaffeMessageName } from "../schema/types.js"
import { upgradeNetAsNeeded } from "../upgrade/upgradeNet.js"
import { UpgradeError } from "../upgrade/UpgradeError.js"
import { upgradeSolverAsNeeded } from "../upgrade/upgradeSolver.js"
import { caffeZoo, isSolverFile, repoCaffePrototxts, repoFile, zooFile, zooPrototxts } from "../../test/support/caffe-zoo.js"
import { parsePrototxt, printPrototxt } from "./prototxt.js"
import { PrototxtError } from "./PrototxtError.js"

// Small real files (plus the V1 consolidated solver) keep a few thousand cases within seconds: Caffe's
// files the repository ships, and Caffe's model zoo when there is one (its copies of the same files once).
const real = [
  ...repoCaffePrototxts().map((file) => ({ file, text: fs.readFileSync(repoFile(file), "utf8") })),
  ...(caffeZoo === undefined ? [] : zooPrototxts().map((file) => ({ file, text: fs.readFileSync(zooFile(file), "utf8") })))
]
const seeds = real
  .filter(({ text }, i) => real.findIndex((r) => r.text === text) === i)
  .filter(({ file, text }) => text.length < 3000 || file.endsWith("lenet_consolidated_solver.prototxt"))

const INTERESTING = [..."{}<>:[],;-\"'#\\.\n\t 0123456789eExXfF_aZ", "\u00e9", "\u0000", "inf", "nan", "layer", "layers {", "}}}", "{{{"]

type Mutation =
  | { readonly kind: "delete" | "duplicate"; readonly at: number; readonly length: number }
  | { readonly kind: "insert"; readonly at: number; readonly text: string }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "swap"; readonly a: number; readonly b: number }

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom("delete" as const, "duplicate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), length: fc.integer({ min: 1, max: 40 }) }),
  fc.record({ kind: fc.constant("insert" as const), at: fc.double({ min: 0, max: 1, noNaN: true }), text: fc.oneof(fc.constantFrom(...INTERESTING), fc.string({ maxLength: 3, unit: "binary" })) }),
  fc.record({ kind: fc.constant("truncate" as const), at: fc.double({ min: 0, max: 1, noNaN: true }) }),
  fc.record({ kind: fc.constant("swap" as const), a: fc.nat(), b: fc.nat() })
)

const apply = (text: string, m: Mutation): string => {
  if (m.kind === "swap") {
    // Swap two whitespace-separated tokens.
    const parts = text.split(/(\s+)/)
    const words = parts.map((p, i) => (/^\s*$/.test(p) ? -1 : i)).filter((i) => i >= 0)
    if (words.length < 2) return text
    const i = words[m.a % words.length]!
    const j = words[m.b % words.length]!
    ;[parts[i], parts[j]] = [parts[j]!, parts[i]!]
    return parts.join("")
  }
  const at = Math.floor(m.at * text.length)
  switch (m.kind) {
    case "delete": return text.slice(0, at) + text.slice(at + m.length)
    case "duplicate": return text.slice(0, at + m.length) + text.slice(at)
    case "insert": return text.slice(0, at) + m.text + text.slice(at)
    case "truncate": return text.slice(0, at)
  }
}

/** A parse of a mutated real file (a few KB) takes well under a millisecond; this bound catches hangs. */
const PARSE_BUDGET_MS = 250

describe("prototxt fuzzing: mutated real files", () => {
  it("always give a PrototxtError or a valid message that prints and re-parses, never another throw or a hang", () => {
    let errors = 0
    let successes = 0
    fc.assert(
      fc.property(fc.nat({ max: seeds.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), (seedIndex, mutations) => {
        const seed = seeds[seedIndex]!
        const text = mutations.reduce(apply, seed.text)
        const kind: CaffeMessageName = isSolverFile(seed.file) ? "SolverParameter" : "NetParameter"
        const started = performance.now()
        // A hang or a blow-up is slow every time; a GC pause or a descheduled CI thread is not: a parse
        // over budget is timed again (up to twice) and the fastest time counts.
        const parseMs = (first: number) => {
          let best = first
          for (let k = 0; k < 2 && best >= PARSE_BUDGET_MS; k++) {
            const again = performance.now()
            try {
              parsePrototxt(kind, text, { file: seed.file })
            } catch {
              // the outcome was checked on the first parse
            }
            best = Math.min(best, performance.now() - again)
          }
          return best
        }
        let parsed
        try {
          parsed = parsePrototxt(kind, text, { file: seed.file })
        } catch (e) {
          if (!(e instanceof PrototxtError)) throw e
          expect(parseMs(performance.now() - started)).toBeLessThan(PARSE_BUDGET_MS)
          expect(e.line).toBeGreaterThanOrEqual(1)
          expect(e.column).toBeGreaterThanOrEqual(1)
          expect(e.message).not.toContain("\n")
          errors++
          return
        }
        successes++
        expect(parseMs(performance.now() - started)).toBeLessThan(PARSE_BUDGET_MS)
        const printed = printPrototxt(kind, parsed)
        expect(parsePrototxt(kind, printed)).toEqual(parsed)
        try {
          if (kind === "SolverParameter") upgradeSolverAsNeeded(parsed, { file: seed.file })
          else upgradeNetAsNeeded(parsed, { file: seed.file })
        } catch (e) {
          if (!(e instanceof UpgradeError)) throw e
        }
      }),
      { numRuns: 3000, seed: 20261126 }
    )
    // Both outcomes must actually be exercised.
    expect(errors).toBeGreaterThan(300)
    expect(successes).toBeGreaterThan(300)
  })

  it("random bytes never throw anything but PrototxtError", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200, unit: "binary" }), (text) => {
        try {
          parsePrototxt("NetParameter", text)
        } catch (e) {
          if (!(e instanceof PrototxtError)) throw e
        }
      }),
      { numRuns: 1000 }
    )
  })
})
