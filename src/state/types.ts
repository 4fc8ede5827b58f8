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
  /** `qshare add --recipients N`: seeding ends once N distinct peers were seen with the whole file */
  recipients?: number;
  /** where the archive password was kept when the share was made (never the password): read there first */
  passwordStore?: 'keychain' | 'file';
  /** `qshare add --expire`: qBittorrent's seeding time limit for this torrent, in minutes */
  expireMinutes?: number;
  /**
   * Peers seen with the complete file (progress 1 in sync/torrentPeers) while qshare observed the share: short
   * SHA-256 digests of "ip|client", never the address itself. Peers, not people.
   */
  completedPeers?: string[];
  /**
   * Peers last seen one piece short of the whole file (same digests). qBittorrent drops the connection between two
   * complete peers the moment the second one completes, so 100 % is rarely visible: such a peer that is gone at the
   * next look is counted as complete.
   */
  finishingPeers?: string[];
  /** peers (same digests) that were sent at least the size less one piece by qshare's seeder alone */
  uploadedPeers?: string[];
  /** the largest increase of a tracker's count of completed downloads (torrents/trackers num_downloaded) */
  trackerCompleted?: number;
  /** per tracker, the count when first seen (only for a folder shared as it is: others may have made that torrent) */
  trackerBaseline?: Record<string, number>;
  /** last time a continuous observer (seed --until-done, watch) looked, at most every 10 minutes */
  watchedAt?: string;
  /** when qshare stopped the torrent because `recipients` peers had the whole file */
  doneAt?: string;
  /** the relays this share was handed to (`add --relay`), each with its last known state */
  relays?: RelayRecord[];
  /** when home stopped seeding because every relay had the whole file (`--handoff`); `qshare seed` starts it again */
  handedOffAt?: string;
}

/**
 * A relay's part in a share: `uploading` it holds the torrent and gets it from home; `holding` it has the whole file
 * and seeds it; `error` it did not take it (`error` says why); `stopped` qshare stop removed it there.
 */
export type RelayState = 'uploading' | 'holding' | 'error' | 'stopped';

export interface RelayRecord {
  /** the relay's name in the config (`relays.NAME`) */
  name: string;
  /** its BitTorrent address, as in the magnet link */
  peer: string;
  state: RelayState;
  /** 0 … 1, as the relay last reported it */
  progress: number;
  /** the relay accepted the torrent (stop removes it there); a relay that failed before never holds it */
  added?: boolean;
  error?: string;
}

export interface StateFile {
  version: 1;
  shares: ShareRecord[];
}
