/**
 * The one place that downloads a .torrent file over HTTP(S) (for `qshare get https://…/x.torrent`). qshare fetches it
 * itself rather than handing the URL to qBittorrent, so it knows the info hash before adding (that is what makes a
 * second `qshare get` of the same link resume the same torrent).
 */
import { QshareError } from '../errors.js';
import { redact } from '../log.js';

export interface FetchTorrentOptions {
  timeoutMs: number;
  /** refuse bigger answers (a .torrent of a huge share is a few MB at most) */
  maxBytes?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX = 20 * 1024 * 1024;

export async function fetchTorrentFile(url: string, o: FetchTorrentOptions): Promise<Buffer> {
  const shown = redact(url).slice(0, 200);
  const max = o.maxBytes ?? DEFAULT_MAX;
  const signals = [AbortSignal.timeout(o.timeoutMs), ...(o.signal ? [o.signal] : [])];
  let res: Response;
  try {
    res = await fetch(url, { redirect: 'follow', signal: AbortSignal.any(signals) });
  } catch (e) {
    if (o.signal?.aborted) throw new QshareError('INTERRUPTED', 'interrupted while downloading the .torrent file');
    const why =
      e instanceof Error && e.name === 'TimeoutError'
        ? `no answer within ${Math.round(o.timeoutMs / 1000)} s`
        : describe(e);
    throw new QshareError('INPUT', `could not download the .torrent file from ${shown}: ${why}`, {
      hint: 'check the link, or download the .torrent yourself and give qshare its path',
      cause: e,
    });
  }
  if (!res.ok) {
    throw new QshareError('INPUT', `${shown} answered HTTP ${res.status} instead of a .torrent file`, {
      hint: 'check the link, or download the .torrent yourself and give qshare its path',
    });
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) throw new QshareError('INPUT', `${shown} is ${declared} bytes: too big to be a .torrent file`);
  const chunks: Buffer[] = [];
  let total = 0;
  if (res.body) {
    for await (const c of res.body as unknown as AsyncIterable<Uint8Array>) {
      total += c.byteLength;
      if (total > max)
        throw new QshareError('INPUT', `${shown} sent more than ${max} bytes: too big to be a .torrent file`);
      chunks.push(Buffer.from(c));
    }
  }
  return Buffer.concat(chunks);
}

function describe(e: unknown): string {
  const parts: string[] = [];
  let cur: unknown = e;
  for (let i = 0; i < 4 && cur && typeof cur === 'object'; i++) {
    const x = cur as { code?: unknown; message?: unknown; cause?: unknown };
    if (typeof x.code === 'string') parts.push(x.code);
    else if (typeof x.message === 'string' && x.message !== 'fetch failed') parts.push(x.message);
    cur = x.cause;
  }
  return redact(parts.join(': ') || 'network error').slice(0, 200);
}
