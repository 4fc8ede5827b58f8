/**
 * 7-Zip must not outlive a qshare that is SIGKILLed (or crashes): it would go on writing an orphan archive. With its
 * usual progress output 7-Zip dies of SIGPIPE at its next progress line anyway; a 7-Zip that writes nothing to
 * stdout would not, so this drives runSevenZip (the built module) from a throwaway Node process, kills that process,
 * and looks for the 7-Zip it started. The same run without setpriv shows the test can tell the difference.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { processesMentioning, sleep, until } from '../helpers/e2e.js';
import { pseudoRandom } from '../helpers/tree.js';

const RUN_JS = new URL('../../build/archive/run.js', import.meta.url).href;
const canRun = existsSync('/usr/bin/7zz') && existsSync('/usr/bin/setpriv') && process.platform === 'linux';

async function orphanAfterKill(dir: string, setpriv: 'default' | 'none'): Promise<string[]> {
  const out = join(dir, `${setpriv}.7z`);
  const script = `
    const { runSevenZip } = await import(${JSON.stringify(RUN_JS)});
    const sz = { path: '/usr/bin/7zz', flavour: '7zz', version: '26.02', legacy: false };
    // -mx9 on incompressible data: slow; -bso0 -bsp0 -bse0: 7-Zip writes nothing to its pipes while it works
    runSevenZip(sz, ['a', '-t7z', '-mx9', '-bso0', '-bsp0', '-bse0', '--', ${JSON.stringify(out)}, ${JSON.stringify(join(dir, 'src.bin'))}],
      { stdin: '', ${setpriv === 'none' ? 'setpriv: null' : ''} }).catch(() => {});
    setInterval(() => {}, 1000);
  `;
  const parent = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: 'ignore' });
  const closed = new Promise((r) => parent.on('close', r));
  await until('7-Zip to start', async () => (await processesMentioning(out)).some((c) => /7zz a /.test(c)), 20_000);
  parent.kill('SIGKILL');
  await closed;
  await sleep(300);
  const left = (await processesMentioning(out)).filter((c) => /7zz a /.test(c));
  for (const c of left) process.kill(Number(c.split(':')[0]), 'SIGKILL');
  return left;
}

describe.skipIf(!canRun)('7-Zip dies with a SIGKILLed qshare', () => {
  it('under setpriv --pdeathsig KILL (the default on Linux) it is gone at once; without it, it would keep running', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'qshare-orphan-'));
    try {
      await writeFile(join(dir, 'src.bin'), pseudoRandom(24 * 1024 * 1024, 21));
      expect(await orphanAfterKill(dir, 'default')).toEqual([]);
      expect(await orphanAfterKill(dir, 'none')).toHaveLength(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
