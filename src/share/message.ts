import { formatBytes } from './inspect.js';

/** What the sender gets to paste to recipients. Pure. Never contains the password. */
export interface MessageInput {
  name: string;
  encrypted: boolean;
  /** the file or folder the recipients will get (e.g. burly-duckbill-aviation.7z) */
  contentName: string;
  size: number;
  magnet: string;
  torrentFileName: string;
}

export function recipientMessage(m: MessageInput): string {
  const lines = [
    `I'm sending you ${formatBytes(m.size)} of files ("${m.name}") straight from my computer, over BitTorrent.`,
    '',
    '1. Install a BitTorrent client if you have none: qBittorrent (https://www.qbittorrent.org), free, for Windows,',
    '   macOS and Linux. On a phone: LibreTorrent (Android).',
    '2. Open this magnet link in it (or open the attached ' + m.torrentFileName + ' file):',
    '',
    `   ${m.magnet}`,
    '',
  ];
  if (m.encrypted) {
    lines.push(
      `3. When it is complete you have ${m.contentName}, an encrypted 7-Zip archive. Open it with:`,
      '   Windows: 7-Zip (https://www.7-zip.org) → right-click → 7-Zip → Extract Here',
      '   macOS:   Keka (https://www.keka.io) or The Unarchiver',
      `   Linux:   your file manager, or: 7zz x ${m.contentName}   (Debian/Ubuntu package "7zip")`,
      '   Android: ZArchiver',
      '',
      'It will ask for a password. I will send it to you separately — not in this message.',
      '',
      `(If you use qshare, this one command does all of it: qshare get '${m.magnet}')`,
      '',
      'Please keep the download running for a while after it finishes, so others can get it from you too.',
    );
  } else {
    lines.push(
      `3. When it is complete you have "${m.contentName}". Please keep it running for a while so others can`,
      '   download it from you too.',
    );
  }
  return lines.join('\n');
}
