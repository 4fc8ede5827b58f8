/**
 * Under CI=true nothing may skip for want of a real part: every program the integration tests drive, and root (for
 * tmpfs mounts and network namespaces), must be there; .ci/run installs them. Elsewhere a missing part only skips
 * the tests that need it, and this check says nothing.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';

const mustRun = process.env.CI === 'true' || process.env.CI === '1';

/** program → the Debian package that has it */
const PARTS: Record<string, string> = {
  'qbittorrent-nox': 'qbittorrent-nox',
  '7zz': '7zip',
  mktorrent: 'mktorrent',
  'transmission-create': 'transmission-cli',
  aria2c: 'aria2',
  'transmission-daemon': 'transmission-daemon',
  'transmission-remote': 'transmission-cli',
  'dbus-daemon': 'dbus',
  'gnome-keyring-daemon': 'gnome-keyring',
  'secret-tool': 'libsecret-tools',
  openssl: 'openssl',
  zsh: 'zsh',
  script: 'bsdutils',
};

const onPath = (bin: string) => (process.env.PATH ?? '').split(':').some((d) => d !== '' && existsSync(join(d, bin)));

it('under CI=true every real part the tests drive is installed, and the tests run as root', () => {
  const missing = Object.entries(PARTS)
    .filter(([bin]) => !onPath(bin))
    .map(([bin, pkg]) => `${bin} (apt: ${pkg})`);
  if (!mustRun) return;
  expect(missing, 'install these (see .ci/run), or the tests that need them would skip').toEqual([]);
  expect(process.getuid?.(), 'CI runs the suite as root: tmpfs mounts and unprivileged-user tests need it').toBe(0);
});
