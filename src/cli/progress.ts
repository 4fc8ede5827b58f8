import type { Progress } from '../share/deps.js';
import { formatBytes } from '../share/inspect.js';

/** A one-line progress display on a TTY (stderr), redrawn at most ten times a second. */
export function ttyProgress(out: NodeJS.WriteStream, now: () => number = Date.now): Progress {
  let phase = '';
  let total = 0;
  let started = 0;
  let lastDraw = 0;
  let done = 0;
  const draw = (force = false) => {
    const t = now();
    if (!force && t - lastDraw < 100) return;
    lastDraw = t;
    const secs = (t - started) / 1000;
    const pct = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 0;
    const rate = secs > 0.5 ? `${formatBytes(done / secs)}/s` : '';
    const eta = secs > 1 && done > 0 && total > done ? `ETA ${clock(((total - done) * secs) / done)}` : '';
    const line = `${phase.padEnd(11)} ${String(pct).padStart(3)}%  ${formatBytes(done)} / ${formatBytes(total)}  ${rate}  ${eta}`;
    const width = out.columns ?? 80;
    out.write(`\r${line.slice(0, width - 1).padEnd(Math.min(width - 1, line.length + 4))}`);
  };
  return {
    start(p, totalBytes) {
      phase = p;
      total = totalBytes;
      started = now();
      done = 0;
      lastDraw = 0;
      draw(true);
    },
    update(d, info) {
      done = d;
      if (info?.total !== undefined) total = info.total;
      draw();
    },
    end() {
      done = total;
      draw(true);
      const secs = (now() - started) / 1000;
      out.write(`\r\x1b[2K${phase}: ${formatBytes(total)} in ${secs.toFixed(1)} s\n`);
    },
  };
}

function clock(s: number): string {
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return m >= 60
    ? `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}
