import type { DownloadSnapshot } from '../share/get.js';
import { formatBytes } from '../share/inspect.js';

/** One status line for a download, e.g. `Downloading  42.1%  12.6 MB / 30.0 MB  5.1 MB/s  3 peers  ETA 0:12`. Pure. */
export function downloadLine(s: DownloadSnapshot): string {
  const peers = `${s.peers} ${s.peers === 1 ? 'peer' : 'peers'}`;
  const pct = `${(Math.floor(s.progress * 1000) / 10).toFixed(1)}%`;
  switch (s.verdict) {
    case 'metadata':
      return `Fetching the torrent's metadata from peers…  ${peers}`;
    case 'checking':
      return `Checking data already on disk  ${pct}`;
    case 'queued':
      return `Queued in qBittorrent (its limit of active downloads is reached)  ${pct}`;
    case 'stopped':
      return `Stopped in qBittorrent  ${pct}`;
    case 'complete':
      return `Downloaded  100%  ${formatBytes(s.size)}`;
    default: {
      const parts = [
        `Downloading  ${pct.padStart(6)}`,
        `${formatBytes(s.progress * s.size)} / ${formatBytes(s.size)}`,
        `${formatBytes(s.dlSpeed)}/s`,
        peers,
      ];
      if (s.eta !== undefined) parts.push(`ETA ${clock(s.eta)}`);
      else if (s.peers === 0) parts.push('(waiting for peers: is the sender seeding?)');
      return parts.join('  ');
    }
  }
}

export function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h >= 48) return `${Math.floor(h / 24)} days`;
  return h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(sec).padStart(2, '0')}`
    : `${m}:${String(sec).padStart(2, '0')}`;
}

/** Redraws the download line in place on a TTY; `finish()` ends it with a newline. */
export function ttyDownloadProgress(out: NodeJS.WriteStream): { update(s: DownloadSnapshot): void; finish(): void } {
  let drawn = false;
  return {
    update(s) {
      const width = out.columns ?? 80;
      out.write(`\r\x1b[2K${downloadLine(s).slice(0, width - 1)}`);
      drawn = true;
    },
    finish() {
      if (drawn) out.write('\n');
      drawn = false;
    },
  };
}
