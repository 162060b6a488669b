import { Data } from "effect"
import type { TestPoint } from "./accuracy-tracker.js"

/**
 * One run of the benchmark as appended to results.jsonl (one JSON object a line): the lone solver
 * (rule "single", 1 worker) or one rule with N workers, for one seed. Tables are built from these
 * records only, so runs made by several invocations (split over days, or over rules) add up.
 */
export interface RunRecord {
  readonly kind: "accuracy-run"
  /** When the invocation that made it started (groups the runs of one invocation). */
  readonly invocation: string
  readonly date: string
  /** What must match for two records to share a table. */
  readonly setup: { readonly dataset: string; readonly testInterval: number; readonly backend: string }
  readonly rule: string
  /** Settings given by flags (snake_case → value), and the label the table prints. */
  readonly settings: Readonly<Record<string, string>>
  readonly settingsLabel: string
  /** Every setting the run used (makeEasgdSettings of the given ones: the rule's defaults filled in); absent for the lone solver. */
  readonly resolvedSettings?: Readonly<Record<string, unknown>>
  readonly workers: number
  readonly seed: number
  /** The train net's batch size (samples = per-worker iterations × batch × workers). */
  readonly batch: number
  readonly tests: ReadonlyArray<TestPoint>
  /** The targets the run aimed at (it stopped at the highest); a higher one was not measured by it. Absent in early records: all. */
  readonly targets?: ReadonlyArray<number>
  readonly wallSeconds: number
  readonly cpuSeconds: number
  readonly capSeconds: number
  readonly stoppedBy: "target" | "cap" | "max_iter" | "failed"
  readonly error?: string
  readonly cores: number
  readonly loadStart: ReadonlyArray<number>
  readonly loadEnd: ReadonlyArray<number>
}

export const isRunRecord = (x: unknown): x is RunRecord =>
  typeof x === "object" && x !== null && (x as { kind?: unknown }).kind === "accuracy-run"

export class ResultsFileError extends Data.TaggedError("ResultsFileError")<{ readonly message: string }> {}

/** The records in a results.jsonl text (other kinds of lines, from older versions, are skipped). */
export const readRunRecords = (text: string, file: string): RunRecord[] =>
  text
    .split("\n")
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line.length > 0)
    .map(([line, n]) => {
      try {
        return JSON.parse(line) as unknown
      } catch (e) {
        throw new ResultsFileError({ message: `${file}:${n}: not a JSON line (${e instanceof Error ? e.message : String(e)})` })
      }
    })
    .filter(isRunRecord)
