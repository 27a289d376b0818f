import { StringDecoder } from 'node:string_decoder';
import { maskUrl } from '../common/redaction';

/** A line longer than this without a line break is flushed early (ffmpeg never gets close). */
const MAX_PENDING_LINE_BYTES = 64 * 1024;
/**
 * maskUrl for child output: URL userinfo and query values, credential-looking `key=value` pairs, and
 * every string in `secrets` (the camera's password wherever the URL put it). Lines with neither a
 * URL nor an '=' skip the scan when there are no secrets.
 */
export function redactLine(line: string, secrets: readonly string[] = []): string {
  if (secrets.length === 0 && !line.includes('://') && !line.includes('=')) return line;
  return maskUrl(line, { secrets });
}

/**
 * Splits a byte stream (child stderr) into lines, redacts every line (`redactLine`, with the
 * secrets given) and keeps only the last `maxBytes` bytes of the redacted text. Redaction happens
 * per whole line, before anything is stored or handed out, so truncation can never expose part of
 * a credential.
 */
export class RedactedTail {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private lines: Buffer[] = [];
  private bytes = 0;
  private total = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onLine?: (line: string) => void,
    private readonly secrets: readonly string[] = [],
  ) {}

  /** Feeds a raw chunk; `\n`, `\r\n` and `\r` (ffmpeg progress) all end a line. */
  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const parts = this.pending.split(/\r\n|\r|\n/);
    this.pending = parts.pop() ?? '';
    for (const line of parts) this.add(line);
    if (Buffer.byteLength(this.pending) > MAX_PENDING_LINE_BYTES) {
      // Cut at the last whitespace so a URL is not split across two lines (which would defeat masking).
      const cut = Math.max(this.pending.lastIndexOf(' '), this.pending.lastIndexOf('\t'));
      this.add(cut > 0 ? this.pending.slice(0, cut) : this.pending);
      this.pending = cut > 0 ? this.pending.slice(cut + 1) : '';
    }
  }

  /** Emits the unterminated last line, if any (call once the stream has ended). */
  flush(): void {
    this.pending += this.decoder.end();
    if (this.pending !== '') this.add(this.pending);
    this.pending = '';
  }

  /** Adds a synthetic line (e.g. a spawn error); it is redacted like child output. */
  append(line: string): void {
    this.flush();
    this.add(line);
  }

  reset(): void {
    this.decoder.end();
    this.pending = '';
    this.lines = [];
    this.bytes = 0;
    this.total = 0;
  }

  /** True when lines were dropped or cut to respect maxBytes. */
  get truncated(): boolean {
    return this.total - 1 > this.maxBytes;
  }

  /** The redacted tail, at most `maxBytes` bytes of UTF-8, without a trailing newline. */
  toString(): string {
    let buf = Buffer.concat(this.lines);
    if (buf.length > 0) buf = buf.subarray(0, -1); // the last line's newline
    if (buf.length > this.maxBytes) {
      let start = buf.length - this.maxBytes;
      // Do not start in the middle of a multi-byte character.
      while (start < buf.length && (buf[start] & 0xc0) === 0x80) start++;
      buf = buf.subarray(start);
    }
    return buf.toString('utf8');
  }

  private add(raw: string): void {
    if (raw === '') return;
    const line = redactLine(raw, this.secrets);
    const buf = Buffer.from(`${line}\n`);
    this.lines.push(buf);
    this.bytes += buf.length;
    this.total += buf.length;
    // Drop whole lines from the front while the rest still covers maxBytes (+1 for the final newline).
    while (this.lines.length > 1 && this.bytes - this.lines[0].length >= this.maxBytes + 1) {
      this.bytes -= this.lines[0].length;
      this.lines.shift();
    }
    this.onLine?.(line);
  }
}
