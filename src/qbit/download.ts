/**
 * Pure rules for the recipient's side and for watching a share: what to send to add a torrent for DOWNLOAD, what a
 * downloading torrent's state means, and how to read `sync/torrentPeers`. No I/O; http.ts makes the requests.
 */
import { apiAtLeast, stateKind, type ApiVersion } from './payload.js';

export interface DownloadRequest {
  /** a .torrent file's bytes, or */
  torrent?: Buffer;
  /** upload file name for `torrent` */
  fileName?: string;
  /** a magnet link (sent as `urls`) */
  magnet?: string;
  /** the folder to download into, as qBittorrent sees it (after qbittorrent.pathMap); undefined: its own default */
  savePath?: string;
  category: string;
  tags: string[];
}

/**
 * Form fields (besides the file) for `POST /api/v2/torrents/add` to download into a folder qshare controls. Unlike
 * the seeding add there is no skip_checking/seedMode: qBittorrent must check whatever is already there (that is
 * what lets a second `qshare get` resume a half-finished download after the torrent was removed).
 */
export function buildDownloadFields(req: DownloadRequest, api: ApiVersion): Record<string, string> {
  const f: Record<string, string> = {
    // a save path of our own means manual management (automatic mode would ignore it); none: qBittorrent's default
    ...(req.savePath !== undefined ? { savepath: req.savePath, autoTMM: 'false' } : {}),
    category: req.category,
    // start now, whatever "do not start automatically" says (paused ≤ 4.6, stopped ≥ 5.0; each ignores the other)
    paused: 'false',
    stopped: 'false',
  };
  if (req.magnet !== undefined) f.urls = req.magnet;
  if (req.tags.length > 0) f.tags = req.tags.join(',');
  if (apiAtLeast(api, 2, 7)) f.contentLayout = 'Original';
  else f.root_folder = 'true';
  return f;
}

export type DownloadVerdict =
  'complete' | 'downloading' | 'metadata' | 'checking' | 'queued' | 'stopped' | 'missing-files' | 'error';

/**
 * What a torrent being downloaded is doing. Complete = progress 1 in any upload state (a stopped complete torrent is
 * complete too: the data is there). `checkingUP`/`checkingDL`/`checkingResumeData`/`moving`/`allocating` = checking;
 * `metaDL`/`forcedMetaDL` = fetching metadata from peers (magnet links); `queuedDL` = waiting in qBittorrent's queue;
 * `pausedDL`/`stoppedDL` = stopped before the end; unknown states = downloading (keep waiting).
 */
export function classifyDownload(state: string, progress: number): DownloadVerdict {
  switch (stateKind(state)) {
    case 'missing':
      return 'missing-files';
    case 'error':
      return 'error';
    case 'checking':
      return 'checking';
    case 'metadata':
      return 'metadata';
    case 'active-up':
    case 'stopped-up':
      return progress >= 1 ? 'complete' : 'downloading';
    case 'queued-down':
      return 'queued';
    case 'stopped-down':
      return 'stopped';
    default:
      return 'downloading';
  }
}

export interface PeerInfo {
  /** `ip:port` as qBittorrent keys it (or the I2P destination) */
  address: string;
  ip: string;
  client: string;
  /** 0 … 1 */
  progress: number;
  uploaded: number;
  downloaded: number;
}

/** A peer has the whole file when qBittorrent reports its progress as 1 (100 %). */
export function isCompletePeer(p: PeerInfo): boolean {
  return p.progress >= 1;
}
