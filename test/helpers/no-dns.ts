/**
 * A qbittorrent-nox that cannot resolve host names: it runs in its own mount namespace with /etc/resolv.conf
 * bind-mounted to `nameserver 127.0.0.1` (nothing listens there). It still shares the test's network namespace,
 * so its Web UI on 127.0.0.1 is reachable, but with DHT turned on it cannot even look up the public bootstrap
 * routers (and its sockets are bound to 127.0.0.1, so nothing it sends can leave the machine).
 * Needs root (mount namespaces); `noDnsNoxWrapper()` returns undefined where that is not possible.
 */
import { spawnSync } from 'node:child_process';
import { chmod, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findQbitNox } from './qbit-nox.js';

export async function noDnsNoxWrapper(): Promise<string | undefined> {
  const nox = findQbitNox();
  if (!nox) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'qshare-nodns-'));
  const resolv = join(dir, 'resolv.conf');
  await writeFile(resolv, 'nameserver 127.0.0.1\noptions attempts:1 timeout:1\n');
  const check = spawnSync(
    'unshare',
    [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      `mount --bind '${resolv}' /etc/resolv.conf && cat /etc/resolv.conf`,
    ],
    { encoding: 'utf8' },
  );
  if (check.status !== 0 || !check.stdout.includes('nameserver 127.0.0.1')) return undefined;
  const script = join(dir, 'qbittorrent-nox-no-dns');
  await writeFile(
    script,
    `#!/bin/sh\nexec unshare --mount --propagation private -- sh -c 'mount --bind "$0" /etc/resolv.conf && exec "$@"' '${resolv}' '${nox}' "$@"\n`,
  );
  await chmod(script, 0o755);
  return script;
}
