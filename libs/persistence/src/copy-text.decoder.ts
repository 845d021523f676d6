import type pg from 'pg';
import { to as copyTo } from 'pg-copy-streams';

// PostgreSQL COPY text format read back (what `COPY (SELECT …) TO STDOUT` sends): one line per
// row ended by a newline, columns separated by a tab, NULL as \N, and inside a value backslash,
// newline, carriage return, tab, backspace, form feed and vertical tab written as \\ \n \r \t \b
// \f \v. Raw bytes 0x0A and 0x09 therefore only ever end a row or a column, and neither occurs
// inside a multi-byte UTF-8 sequence, so a row is cut from the bytes before anything is decoded.
// Decoding follows COPY FROM's rules (docs: "File Formats", text format) so that any line
// PostgreSQL could read is read the same: also \digits (octal) and \xhh (hex) bytes, and a
// backslash before any other character stands for that character.

/** A column as read: its text (unescaped, UTF-8), or null for SQL NULL. */
export type CopyField = string | null;

const TAB = 0x09;
const NEWLINE = 0x0a;
const BACKSLASH = 0x5c;
const N = 0x4e;

const isOctal = (c: number | undefined): c is number => c !== undefined && c >= 0x30 && c <= 0x37;
function hexValue(c: number | undefined): number {
  if (c === undefined) return -1;
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  if (c >= 0x41 && c <= 0x46) return c - 0x41 + 10;
  return -1;
}

/** The value of one column held in `buf[start, end)` that contains at least one backslash. */
function unescapeField(buf: Buffer, start: number, end: number): CopyField {
  if (end - start === 2 && buf[start + 1] === N) return null;
  const out = Buffer.allocUnsafe(end - start);
  let o = 0;
  for (let i = start; i < end; i++) {
    const c = buf[i]!;
    if (c !== BACKSLASH || i + 1 >= end) {
      out[o++] = c;
      continue;
    }
    const next = buf[++i]!;
    switch (next) {
      case 0x62: // b
        out[o++] = 0x08;
        break;
      case 0x66: // f
        out[o++] = 0x0c;
        break;
      case 0x6e: // n
        out[o++] = 0x0a;
        break;
      case 0x72: // r
        out[o++] = 0x0d;
        break;
      case 0x74: // t
        out[o++] = 0x09;
        break;
      case 0x76: // v
        out[o++] = 0x0b;
        break;
      case 0x78: {
        // x: one or two hex digits make a byte; without one it is a plain "x"
        const h1 = i + 1 < end ? hexValue(buf[i + 1]) : -1;
        if (h1 < 0) {
          out[o++] = next;
          break;
        }
        i++;
        const h2 = i + 1 < end ? hexValue(buf[i + 1]) : -1;
        if (h2 < 0) out[o++] = h1;
        else {
          i++;
          out[o++] = (h1 << 4) | h2;
        }
        break;
      }
      default:
        if (isOctal(next)) {
          // one to three octal digits make a byte
          let v = next - 0x30;
          for (let k = 0; k < 2 && i + 1 < end && isOctal(buf[i + 1]); k++) v = (v << 3) | (buf[++i]! - 0x30);
          out[o++] = v & 0xff;
        } else out[o++] = next;
    }
  }
  return out.toString('utf8', 0, o);
}

/**
 * Cuts COPY text rows out of a byte stream fed in chunks of any size (a row may span chunks) and
 * decodes every column. Each row must have exactly `columns` columns.
 */
export class CopyTextDecoder {
  private rest: Buffer | null = null;

  constructor(private readonly columns: number) {
    if (!Number.isInteger(columns) || columns < 1) throw new Error(`columns must be a positive integer, got ${columns}`);
  }

  /** Appends to `rows` every row that `chunk` completes; keeps the unfinished tail for the next chunk. */
  push(chunk: Buffer, rows: CopyField[][]): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    this.rest = null;
    const columns = this.columns;
    let pos = 0;
    // The next backslash at or after `pos` (-1: none left in the buffer): searched once per
    // backslash, not once per row, so a buffer without any is scanned a single time.
    let backslash = buf.indexOf(BACKSLASH, 0);
    for (;;) {
      const end = buf.indexOf(NEWLINE, pos);
      if (end < 0) break;
      const row: CopyField[] = new Array<CopyField>(columns);
      let start = pos;
      for (let c = 0; c < columns; c++) {
        let stop: number;
        if (c === columns - 1) {
          stop = end;
          const tab = buf.indexOf(TAB, start);
          if (tab >= 0 && tab < end) throw new Error(`COPY row has more than ${columns} columns`);
        } else {
          stop = buf.indexOf(TAB, start);
          if (stop < 0 || stop > end) throw new Error(`COPY row has ${c + 1} columns, expected ${columns}`);
        }
        if (backslash >= 0 && backslash < start) backslash = buf.indexOf(BACKSLASH, start);
        row[c] = backslash >= 0 && backslash < stop ? unescapeField(buf, start, stop) : buf.toString('utf8', start, stop);
        start = stop + 1;
      }
      rows.push(row);
      pos = end + 1;
    }
    if (pos < buf.length) this.rest = buf.subarray(pos);
  }

  /** Call at the end of the stream: an unfinished row means the stream was cut. */
  end(): void {
    if (this.rest && this.rest.length > 0) throw new Error('COPY stream ended inside a row');
  }
}

export interface CopyRowsOptions {
  /** Columns the query returns (checked on every row). */
  columns: number;
}

/**
 * The rows of `COPY (<query>) TO STDOUT` (text format) on one pooled connection, decoded as they
 * stream in and handed over one socket read at a time: one statement, one pass of the server, no
 * row objects or per-type parsing (the caller converts only the columns it uses). Memory stays
 * bounded: the stream is paused while the consumer works on a batch. COPY takes no bind
 * parameters, so `text` must carry its values as escaped literals (`escapeLiteral` of pg). A
 * consumer that stops early (return, throw, break) ends the COPY by discarding the connection.
 */
export async function* streamCopyRows(pool: pg.Pool, text: string, options: CopyRowsOptions): AsyncGenerator<CopyField[][]> {
  const client = await pool.connect();
  let failure: Error | undefined;
  // A connection killed while the copy runs emits 'error' on the client; without a handler that ends the process.
  const onError = (err: Error): void => {
    failure = err;
  };
  client.on('error', onError);
  const stream = client.query(copyTo(`COPY (${text}) TO STDOUT`));
  const decoder = new CopyTextDecoder(options.columns);
  let finished = false;
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const rows: CopyField[][] = [];
      decoder.push(chunk, rows);
      if (rows.length > 0) yield rows;
    }
    decoder.end();
    finished = true;
  } catch (err) {
    failure ??= err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    if (!finished) {
      // Stopped before the end (or failed): the connection is in the middle of a COPY and cannot be reused.
      failure ??= new Error('COPY stream closed before its end');
      stream.destroy();
    }
    client.off('error', onError);
    client.release(failure);
  }
}
