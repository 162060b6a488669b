/** A binary min-heap of timed events; ties break by insertion order so runs are deterministic. */
export class EventQueue<T> {
  private readonly heap: Array<{ time: number; seq: number; value: T }> = []
  private seq = 0

  get size(): number {
    return this.heap.length
  }

  push(time: number, value: T): void {
    const h = this.heap
    h.push({ time, seq: this.seq++, value })
    let i = h.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (this.less(h[p]!, h[i]!)) break
      ;[h[p], h[i]] = [h[i]!, h[p]!]
      i = p
    }
  }

  pop(): { time: number; value: T } | undefined {
    const h = this.heap
    if (h.length === 0) return undefined
    const top = h[0]!
    const last = h.pop()!
    if (h.length > 0) {
      h[0] = last
      let i = 0
      for (;;) {
        const l = 2 * i + 1
        const r = l + 1
        let m = i
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r
        if (m === i) break
        ;[h[m], h[i]] = [h[i]!, h[m]!]
        i = m
      }
    }
    return { time: top.time, value: top.value }
  }

  private less(a: { time: number; seq: number }, b: { time: number; seq: number }): boolean {
    return a.time < b.time || (a.time === b.time && a.seq < b.seq)
  }
}
