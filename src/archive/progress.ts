/**
 * Pure parser for 7-Zip's `-bsp1` progress on stdout. 7-Zip draws a status line, then erases it with a run of `\b`,
 * blanks it with spaces, erases again, and draws the next one — no `\r` or `\n`. Examples of drawn lines:
 * `  0M Scan  /tmp/src/`, `  0%`, ` 16% + d/r.bin`, ` 47% 1 + d/sub/f1.txt`, `100% 4 + d/sub/f3.txt`, ` 35% T big.bin`.
 * Data arrives in arbitrary chunks, so only text already terminated by a `\b` is parsed.
 */
export interface ProgressUpdate {
  percent: number;
  file?: string;
}

const LINE = /^\s*(\d{1,3})%(?:\s+\d+)?(?:\s+(\S)\s(.*))?$/;

/** Parses one drawn status line; null for lines without a percentage (scanning, blanks). */
export function parseProgressLine(line: string): ProgressUpdate | null {
  const m = LINE.exec(line);
  if (!m?.[1]) return null;
  const percent = Number.parseInt(m[1], 10);
  if (percent > 100) return null;
  const file = m[3]?.trim();
  return file ? { percent, file } : { percent };
}

/**
 * Returns a feed function for stdout chunks. `emit` is called for each new status, never with a smaller percentage
 * than before, and not twice for the same (percent, file).
 */
export function createProgressParser(emit: (u: ProgressUpdate) => void): (chunk: string) => void {
  let pending = '';
  let lastPercent = -1;
  let lastFile: string | undefined;
  return (chunk: string) => {
    pending += chunk;
    const parts = pending.split(/\x08+/);
    pending = parts.pop() ?? '';
    // a status line that never gets erased would otherwise grow forever
    if (pending.length > 64 * 1024) pending = pending.slice(-4096);
    for (const part of parts) {
      const u = parseProgressLine(part);
      if (!u || u.percent < lastPercent || (u.percent === lastPercent && u.file === lastFile)) continue;
      lastPercent = u.percent;
      lastFile = u.file;
      emit(u);
    }
  };
}
