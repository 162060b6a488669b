/** One test of net #0 as a run logged it. */
export interface TestPoint {
  /** Wall seconds since the run started, when the result was known. */
  readonly seconds: number
  /** The solver's iteration (per worker, for the center: exchanges·τ/N). */
  readonly iteration: number
  readonly accuracy: number
  /** How long the test itself took. */
  readonly testSeconds: number
  readonly cpuSeconds: number
  /** Another output of the same test (its loss) was NaN/Inf: a diverged net, never a result. */
  readonly diverged?: true
}

/** For each target, the first test at or above it (tests in the order they ran). */
export const firstReaching = (tests: ReadonlyArray<TestPoint>, targets: ReadonlyArray<number>): Map<number, TestPoint> => {
  const reached = new Map<number, TestPoint>()
  for (const p of tests) if (!p.diverged) for (const t of targets) if (p.accuracy >= t && !reached.has(t)) reached.set(t, p)
  return reached
}

/**
 * Follows Caffe's test lines as a run logs them (`Iteration N, Testing net (#0)` … `Test net output #k:
 * accuracy = v`) and records, for each target, the first test of net #0 whose accuracy output reached
 * it. Lines of other test nets and other outputs are ignored; the single solver's log and the center
 * evaluator's read the same. A test any of whose other outputs is not finite (Caffe's Accuracy layer
 * counts NaN scores as correct: `accuracy = 1` beside `loss = nan`) is kept as diverged and reaches
 * nothing. `onDone` runs once, after the lines logged with the test that reached the last target (a
 * microtask later), so such a test is never taken for the end of a run.
 */
export class AccuracyTracker {
  readonly tests: TestPoint[] = []
  readonly reached = new Map<number, TestPoint>()
  private current: { iteration: number; net: number; startedAt: number; point: TestPoint | undefined; diverged: boolean } | undefined
  private doneSignalled = false

  constructor(
    readonly targets: ReadonlyArray<number>,
    private readonly clock: () => number,
    private readonly cpu: () => number,
    private readonly onDone: () => void = () => {}
  ) {}

  get done(): boolean {
    return this.targets.every((t) => this.reached.has(t))
  }

  onLine(line: string): void {
    const start = /Iteration (\d+), Testing net \(#(\d+)\)/.exec(line)
    if (start) {
      this.current = { iteration: Number(start[1]), net: Number(start[2]), startedAt: this.clock(), point: undefined, diverged: false }
      return
    }
    const out = /Test net output #\d+: (\S+) = (\S+)/.exec(line)
    const current = this.current
    if (!out || !current || current.net !== 0) return
    const value = Number(out[2])
    if (!Number.isFinite(value)) {
      current.diverged = true
      if (current.point) this.markDiverged(current.point)
      return
    }
    if (!/accuracy/i.test(out[1]!) || current.point) return
    const now = this.clock()
    const point: TestPoint = {
      seconds: now,
      iteration: current.iteration,
      accuracy: value,
      testSeconds: now - current.startedAt,
      cpuSeconds: this.cpu(),
      ...(current.diverged ? { diverged: true as const } : {})
    }
    current.point = point
    this.tests.push(point)
    if (point.diverged) return
    for (const t of this.targets) if (value >= t && !this.reached.has(t)) this.reached.set(t, point)
    if (this.done && !this.doneSignalled) {
      this.doneSignalled = true
      queueMicrotask(() => (this.done ? this.onDone() : (this.doneSignalled = false)))
    }
  }

  private markDiverged(point: TestPoint): void {
    const i = this.tests.indexOf(point)
    if (i < 0 || point.diverged) return
    this.tests[i] = { ...point, diverged: true }
    this.reached.clear()
    for (const [t, p] of firstReaching(this.tests, this.targets)) this.reached.set(t, p)
  }
}
