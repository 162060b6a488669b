/**
 * Caffe's tools/extra/parse_log.py (with extract_seconds.py), in TypeScript, so tests check that a log
 * reads as that script reads it without needing Python or a Caffe checkout: the same regular
 * expressions, the start time taken from the first `Solving` line (the lines before it are skipped, as
 * get_start_time consumes them), rows keyed by the last `Iteration N` seen, a row per iteration with
 * its `Train net output` / `Test net output` values, the learning rate from the last `lr = R`, and a
 * first row's unknown learning rate filled from the next row (fix_initial_nan_learning_rate).
 */
export interface LogRow {
  readonly NumIters: number
  readonly Seconds: number
  readonly LearningRate: number
  readonly [output: string]: number
}

const regexIteration = /Iteration (\d+)/
const regexTrainOutput = /Train net output #(\d+): (\S+) = ([.\deE+-]+)/
const regexTestOutput = /Test net output #(\d+): (\S+) = ([.\deE+-]+)/
const regexLearningRate = /lr = ([-+]?[0-9]*\.?[0-9]+([eE]?[-+]?[0-9]+)?)/

/** extract_datetime_from_line: `I0210 13:39:22.381027 …` in `year`; throws on another format (the script's ValueError). */
const dateOf = (line: string, year: number): Date => {
  const [first = "", time = ""] = line.trim().split(/\s+/)
  const month = Number(first.slice(1, 3))
  const day = Number(first.slice(3, 5))
  const dot = time.lastIndexOf(".")
  const [h, m, s] = time.slice(0, dot).split(":").map(Number)
  const micros = Number(time.slice(dot + 1))
  if (![month, day, h, m, s, micros].every((v) => Number.isInteger(v))) throw new Error(`not a glog line: ${line}`)
  return new Date(year, month - 1, day, h, m, s, micros / 1000)
}

type Row = Record<string, number>

const parseOutput = (regex: RegExp, row: Row | undefined, rows: Row[], line: string, iteration: number, seconds: number, learningRate: number) => {
  const match = regex.exec(line)
  if (match) {
    if (!row || row["NumIters"] !== iteration) {
      if (row) rows.push(row)
      row = { NumIters: iteration, Seconds: seconds, LearningRate: learningRate }
    }
    row[match[2]!] = Number(match[3])
  }
  if (row && rows.length >= 1 && Object.keys(row).length === Object.keys(rows[0]!).length) {
    rows.push(row)
    row = undefined
  }
  return row
}

const fixInitialNanLearningRate = (rows: Row[]) => {
  if (rows.length > 1 && Number.isNaN(rows[0]!["LearningRate"])) rows[0]!["LearningRate"] = rows[1]!["LearningRate"]!
}

export const parseCaffeLog = (text: string, year = new Date().getFullYear()): { train: LogRow[]; test: LogRow[] } => {
  const lines = text.split("\n")
  const solving = lines.findIndex((l) => l.includes("Solving"))
  if (solving < 0) throw new Error("parse_log: no 'Solving' line, so no start time")
  const start = dateOf(lines[solving]!, year)
  let iteration = -1
  let learningRate = NaN
  const train: Row[] = []
  const test: Row[] = []
  let trainRow: Row | undefined
  let testRow: Row | undefined
  for (const line of lines.slice(solving + 1)) {
    const it = regexIteration.exec(line)
    if (it) iteration = Number(it[1])
    if (iteration === -1) continue
    let time: Date
    try {
      time = dateOf(line, year)
    } catch {
      continue
    }
    const seconds = (time.getTime() - start.getTime()) / 1000
    const lr = regexLearningRate.exec(line)
    if (lr) learningRate = Number(lr[1])
    trainRow = parseOutput(regexTrainOutput, trainRow, train, line, iteration, seconds, learningRate)
    testRow = parseOutput(regexTestOutput, testRow, test, line, iteration, seconds, learningRate)
  }
  fixInitialNanLearningRate(train)
  fixInitialNanLearningRate(test)
  return { train: train as unknown as LogRow[], test: test as unknown as LogRow[] }
}
