/**
 * Tokenizer for protobuf text format, following protobuf's own io::Tokenizer rules as Caffe's
 * `TextFormat::Parse` sees them: `#` comments, identifiers, decimal / octal / hex integers, floats
 * (`.5`, `1.`, `5e-05`, optional trailing `f`), single- or double-quoted strings with C escapes, and
 * one-character symbols. Positions are 1-based line and column (column counts UTF-16 units).
 */

export type TokenKind = "ident" | "int" | "float" | "string" | "symbol" | "eof"

export interface Token {
  readonly kind: TokenKind
  /** Source text of the token (for strings: the decoded bytes live in `bytes`). */
  readonly text: string
  readonly bytes?: Uint8Array
  readonly line: number
  readonly column: number
}

/** Thrown by the tokenizer; the parser turns it into a PrototxtError with the field path. */
export class TokenizeFailure {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number
  ) {}
}

const isDigit = (c: number) => c >= 48 && c <= 57
const isHexDigit = (c: number) => isDigit(c) || (c >= 97 && c <= 102) || (c >= 65 && c <= 70)
const isLetter = (c: number) => (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95
const isIdentChar = (c: number) => isLetter(c) || isDigit(c)
const SYMBOLS = "{}<>:[],;-"
const utf8 = new TextEncoder()

/**
 * The decoded bytes of a string literal, in one growing Uint8Array: a byte costs a byte (a number[]
 * costs eight or more, and a 50 MB literal took over a gigabyte). Runs of plain text are encoded
 * straight into it.
 */
class ByteBuilder {
  private buf: Uint8Array
  length = 0
  constructor(capacity: number) {
    this.buf = new Uint8Array(Math.max(16, capacity))
  }
  private reserve(n: number): void {
    if (this.length + n <= this.buf.length) return
    const grown = new Uint8Array(Math.max(this.length + n, this.buf.length * 2))
    grown.set(this.buf.subarray(0, this.length))
    this.buf = grown
  }
  push(b: number): void {
    this.reserve(1)
    this.buf[this.length++] = b
  }
  /** Appends the UTF-8 encoding of `text`, growing only when what is left does not fit. */
  pushText(text: string): void {
    for (let rest = text; ; ) {
      const { read, written } = utf8.encodeInto(rest, this.buf.subarray(this.length))
      this.length += written
      if (read === rest.length) return
      rest = rest.slice(read)
      this.reserve(rest.length + 4)
    }
  }
  /** The bytes, trimmed to their length (a view when nothing is spare, else one copy). */
  bytes(): Uint8Array {
    return this.length === this.buf.length ? this.buf : this.buf.slice(0, this.length)
  }
}

export class Tokenizer {
  private pos = 0
  private line = 1
  private lineStart = 0

  constructor(private readonly src: string) {
    // A UTF-8 byte-order mark is not part of the text.
    if (src.charCodeAt(0) === 0xfeff) this.pos = this.lineStart = 1
  }

  private fail(reason: string, line: number, column: number): never {
    throw new TokenizeFailure(reason, line, column)
  }

  private skipSpaceAndComments(): void {
    const s = this.src
    while (this.pos < s.length) {
      const c = s.charCodeAt(this.pos)
      if (c === 10) {
        this.pos++
        this.line++
        this.lineStart = this.pos
      } else if (c === 32 || c === 9 || c === 13 || c === 11 || c === 12) {
        this.pos++
      } else if (c === 35 /* # */) {
        while (this.pos < s.length && s.charCodeAt(this.pos) !== 10) this.pos++
      } else {
        return
      }
    }
  }

  next(): Token {
    this.skipSpaceAndComments()
    const s = this.src
    const line = this.line
    const column = this.pos - this.lineStart + 1
    if (this.pos >= s.length) return { kind: "eof", text: "", line, column }
    const start = this.pos
    const c = s.charCodeAt(start)
    if (isLetter(c)) {
      while (this.pos < s.length && isIdentChar(s.charCodeAt(this.pos))) this.pos++
      return { kind: "ident", text: s.slice(start, this.pos), line, column }
    }
    if (isDigit(c) || (c === 46 && isDigit(s.charCodeAt(start + 1)))) return this.number(line, column)
    if (c === 34 || c === 39) return this.string(c, line, column)
    const ch = s[start]!
    if (SYMBOLS.includes(ch)) {
      this.pos++
      return { kind: "symbol", text: ch, line, column }
    }
    const shown = c < 32 || c === 127 ? `\\x${c.toString(16).padStart(2, "0")}` : String.fromCodePoint(s.codePointAt(start)!)
    return this.fail(`unexpected character '${shown}'`, line, column)
  }

  private number(line: number, column: number): Token {
    const s = this.src
    const start = this.pos
    let isFloat = false
    const c0 = s.charCodeAt(start)
    const c1 = s.charCodeAt(start + 1)
    if (c0 === 48 && (c1 === 120 || c1 === 88)) {
      this.pos += 2
      if (!isHexDigit(s.charCodeAt(this.pos))) this.fail(`"0x" must be followed by hex digits`, line, column)
      while (isHexDigit(s.charCodeAt(this.pos))) this.pos++
    } else {
      while (isDigit(s.charCodeAt(this.pos))) this.pos++
      if (s.charCodeAt(this.pos) === 46 /* . */) {
        isFloat = true
        this.pos++
        while (isDigit(s.charCodeAt(this.pos))) this.pos++
      }
      const e = s.charCodeAt(this.pos)
      if (e === 101 || e === 69) {
        isFloat = true
        this.pos++
        const sign = s.charCodeAt(this.pos)
        if (sign === 43 || sign === 45) this.pos++
        if (!isDigit(s.charCodeAt(this.pos))) this.fail(`exponent "e" must be followed by digits`, line, column)
        while (isDigit(s.charCodeAt(this.pos))) this.pos++
      }
      const f = s.charCodeAt(this.pos)
      if (f === 102 || f === 70) {
        isFloat = true
        this.pos++
      }
      if (!isFloat && c0 === 48 && this.pos - start > 1) {
        for (let i = start + 1; i < this.pos; i++) {
          const d = s.charCodeAt(i)
          if (d > 55) this.fail(`numbers starting with a leading zero must be in octal`, line, column)
        }
      }
    }
    const after = s.charCodeAt(this.pos)
    if (isIdentChar(after) || after === 46) {
      this.fail(`need space between number and identifier (at "${s.slice(start, this.pos + 1)}")`, line, column)
    }
    return { kind: isFloat ? "float" : "int", text: s.slice(start, this.pos), line, column }
  }

  private string(quote: number, line: number, column: number): Token {
    const s = this.src
    const start = this.pos
    this.pos++
    // Sized for the text up to the next quote character (ASCII text then fits exactly, without a copy).
    const close = s.indexOf(String.fromCharCode(quote), this.pos)
    const out = new ByteBuilder(close < 0 ? 16 : close - this.pos)
    const pushText = (from: number, to: number) => {
      if (to > from) out.pushText(s.slice(from, to))
    }
    let runStart = this.pos
    for (;;) {
      if (this.pos >= s.length) this.fail("unterminated string (end of file reached)", line, column)
      const c = s.charCodeAt(this.pos)
      if (c === quote) {
        pushText(runStart, this.pos)
        this.pos++
        break
      }
      if (c === 10) this.fail("unterminated string (string literals cannot cross line boundaries)", line, column)
      if (c !== 92 /* \ */) {
        this.pos++
        continue
      }
      pushText(runStart, this.pos)
      const escLine = this.line
      const escColumn = this.pos - this.lineStart + 1
      this.pos++
      const e = s[this.pos]
      this.pos++
      switch (e) {
        case "n": out.push(10); break
        case "t": out.push(9); break
        case "r": out.push(13); break
        case "a": out.push(7); break
        case "b": out.push(8); break
        case "f": out.push(12); break
        case "v": out.push(11); break
        case "\\": out.push(92); break
        case "'": out.push(39); break
        case '"': out.push(34); break
        case "?": out.push(63); break
        case "x":
        case "X": {
          let v = 0
          let n = 0
          while (n < 2 && isHexDigit(s.charCodeAt(this.pos))) {
            v = v * 16 + parseInt(s[this.pos]!, 16)
            this.pos++
            n++
          }
          if (n === 0) this.fail(`"\\x" escape must be followed by hex digits`, escLine, escColumn)
          out.push(v)
          break
        }
        case "u":
        case "U": {
          const len = e === "u" ? 4 : 8
          const hex = s.slice(this.pos, this.pos + len)
          if (hex.length !== len || ![...hex].every((h) => isHexDigit(h.charCodeAt(0)))) {
            this.fail(`"\\${e}" escape must be followed by ${len} hex digits`, escLine, escColumn)
          }
          const cp = parseInt(hex, 16)
          if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) this.fail(`invalid code point in "\\${e}" escape`, escLine, escColumn)
          this.pos += len
          out.pushText(String.fromCodePoint(cp))
          break
        }
        default: {
          if (e !== undefined && e >= "0" && e <= "7") {
            let v = e.charCodeAt(0) - 48
            let n = 1
            while (n < 3 && s.charCodeAt(this.pos) >= 48 && s.charCodeAt(this.pos) <= 55) {
              v = v * 8 + (s.charCodeAt(this.pos) - 48)
              this.pos++
              n++
            }
            out.push(v & 0xff)
            break
          }
          if (e === undefined || e === "\n") this.fail("unterminated string (end of line after \\)", line, column)
          this.fail(`invalid escape sequence "\\${e}"`, escLine, escColumn)
        }
      }
      runStart = this.pos
    }
    return { kind: "string", text: s.slice(start, this.pos), bytes: out.bytes(), line, column }
  }
}
