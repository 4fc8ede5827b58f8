/** One share as recorded in qshare's state file. Never holds a password. */
export type ShareState = 'seeding' | 'not-seeding' | 'created' | 'stopped' | 'error';

export interface ShareRecord {
  id: string;
  name: string;
  /** the user's folder or file, as given (absolute) */
  source: string;
  encrypted: boolean;
  /** absolute path of the archive (encrypted shares) */
  archive: string | null;
  torrentFile: string;
  /** the folder qBittorrent seeds from, as qshare sees it (before pathMap) */
  savePath: string;
  infoHash: string;
  magnet: string;
  /** bytes of the torrent's content */
  size: number;
  trackers: string[];
  private: boolean;
  createdAt: string;
  updatedAt: string;
  state: ShareState;
  /** the last problem in words, when state is not-seeding or error */
  lastError?: string;
}

export interface StateFile {
  version: 1;
  shares: ShareRecord[];
}
