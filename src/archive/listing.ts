/**
 * Pure parser for `7z l -slt` (technical listing). After a line of ten dashes come blocks of `Key = Value` lines
 * separated by blank lines, one per entry. Attributes look like `D drwxr-xr-x` (7zz) or `D_ drwxr-xr-x` (p7zip),
 * `A lrwxrwxrwx` for a symlink.
 */
export interface ArchiveEntry {
  /** path inside the archive, `/`-separated */
  path: string;
  kind: 'file' | 'dir' | 'symlink';
  /** unpacked size; for a symlink, the length of its target */
  size: number;
  /** as printed, e.g. `A -rw-r--r--` */
  attributes: string;
  /** as printed, e.g. `2026-11-21 10:09:40.5392083`; undefined if absent */
  modified?: string;
  encrypted: boolean;
}

export function parseTechnicalListing(stdout: string): ArchiveEntry[] {
  const lines = stdout.split(/\r?\n/);
  const start = lines.findIndex((l) => l === '----------');
  if (start < 0) return [];
  const entries: ArchiveEntry[] = [];
  let block: Map<string, string> = new Map();
  const flush = () => {
    if (block.size === 0) return;
    const e = toEntry(block);
    if (e) entries.push(e);
    block = new Map();
  };
  for (const line of lines.slice(start + 1)) {
    if (line === '') {
      flush();
      continue;
    }
    const i = line.indexOf(' = ');
    if (i > 0) block.set(line.slice(0, i), line.slice(i + 3));
    else if (line.endsWith(' =')) block.set(line.slice(0, -2), '');
  }
  flush();
  return entries;
}

function toEntry(b: Map<string, string>): ArchiveEntry | null {
  const path = b.get('Path');
  if (path === undefined) return null;
  const attributes = b.get('Attributes') ?? '';
  const mode = attributes.split(/\s+/)[1] ?? '';
  const flags = attributes.split(/\s+/)[0] ?? '';
  const kind: ArchiveEntry['kind'] = mode.startsWith('l')
    ? 'symlink'
    : mode.startsWith('d') || flags.includes('D') || b.get('Folder') === '+'
      ? 'dir'
      : 'file';
  const size = Number.parseInt(b.get('Size') ?? '0', 10);
  const modified = b.get('Modified');
  const entry: ArchiveEntry = {
    path,
    kind,
    size: Number.isFinite(size) ? size : 0,
    attributes,
    encrypted: b.get('Encrypted') === '+',
  };
  if (modified) entry.modified = modified;
  return entry;
}
