/**
 * Test harness: a private D-Bus session bus, optionally with a real GNOME Keyring Secret Service on it, so keychain
 * code runs against the real thing without touching the machine's own session (see notes/keychain.md).
 *
 *   const ss = await startSecretService();            // bus + gnome-keyring (unlocked "login" keyring)
 *   const bare = await startSecretService({ keyring: false });   // a bus where no Secret Service answers
 *   env: { DBUS_SESSION_BUS_ADDRESS: ss.address }
 *   await ss.stop();
 *
 * The bus has no service activation, so nothing starts behind our back. Needs dbus-daemon and gnome-keyring-daemon
 * (Debian: dbus, gnome-keyring); `hasSecretService()` tells whether they are installed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DBUS_DAEMON = '/usr/bin/dbus-daemon';
const GNOME_KEYRING = '/usr/bin/gnome-keyring-daemon';
const DBUS_SEND = '/usr/bin/dbus-send';

function executable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function hasSecretService(): boolean {
  return executable(DBUS_DAEMON) && executable(GNOME_KEYRING) && executable(DBUS_SEND);
}

export interface SecretService {
  /** DBUS_SESSION_BUS_ADDRESS of the private bus */
  address: string;
  /** XDG_DATA_HOME where the keyring files live */
  dataHome: string;
  /** stops gnome-keyring and the bus, removes the keyring files */
  stop(): Promise<void>;
}

const BUS_CONF = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:tmpdir=/tmp</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`;

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (out += d));
    p.on('close', (code) => resolve({ code, out }));
    p.on('error', (e) => resolve({ code: -1, out: e.message }));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

export async function startSecretService(opts: { keyring?: boolean } = {}): Promise<SecretService> {
  const dir = await mkdtemp(join(tmpdir(), 'qshare-dbus-'));
  const conf = join(dir, 'bus.conf');
  await writeFile(conf, BUS_CONF);
  const children: ChildProcess[] = [];
  const stop = async () => {
    for (const c of children.reverse()) {
      c.kill('SIGTERM');
      const t = setTimeout(() => c.kill('SIGKILL'), 3000);
      await exited(c);
      clearTimeout(t);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const bus = spawn(DBUS_DAEMON, [`--config-file=${conf}`, '--nofork', '--nopidfile', '--print-address=1'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(bus);
    const address = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('dbus-daemon printed no address within 5 s')), 5000);
      bus.stdout!.setEncoding('utf8').on('data', (d: string) => {
        text += d;
        const line = text.split('\n')[0];
        if (text.includes('\n') && line) {
          clearTimeout(timer);
          resolve(line.trim());
        }
      });
      bus.once('exit', (code) => reject(new Error(`dbus-daemon exited (${code})`)));
    });
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      DBUS_SESSION_BUS_ADDRESS: address,
      XDG_DATA_HOME: dir,
      XDG_RUNTIME_DIR: dir,
    };
    if (opts.keyring !== false) {
      const gk = spawn(GNOME_KEYRING, ['--unlock', '--components=secrets', '--foreground'], {
        env,
        stdio: ['pipe', 'ignore', 'ignore'],
      });
      children.push(gk);
      gk.stdin!.end('test-keyring-password');
      const deadline = Date.now() + 10_000;
      for (;;) {
        const r = await run(
          DBUS_SEND,
          [
            '--session',
            '--print-reply',
            '--dest=org.freedesktop.DBus',
            '/',
            'org.freedesktop.DBus.NameHasOwner',
            'string:org.freedesktop.secrets',
          ],
          env,
        );
        if (r.out.includes('boolean true')) break;
        if (gk.exitCode !== null) throw new Error(`gnome-keyring-daemon exited (${gk.exitCode})`);
        if (Date.now() > deadline)
          throw new Error('gnome-keyring-daemon did not take org.freedesktop.secrets within 10 s');
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    return { address, dataHome: dir, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Reads an item back with libsecret's own CLI, independently of qshare: `secret-tool lookup service S username A`. */
export async function secretToolLookup(address: string, service: string, account: string): Promise<string | undefined> {
  const r = await run('secret-tool', ['lookup', 'service', service, 'username', account], {
    PATH: process.env.PATH,
    DBUS_SESSION_BUS_ADDRESS: address,
  });
  return r.code === 0 ? r.out : undefined;
}
