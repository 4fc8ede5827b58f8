/**
 * Service definitions for `qshare watch --install-service`. Pure: they turn paths into file contents. The unit
 * never contains a password: the Web UI password comes from the keychain (`qshare login`) or from an environment
 * file the user creates with mode 600.
 */
import { join } from 'node:path';

export interface ServiceSpec {
  /** absolute path of node */
  node: string;
  /** absolute path of qshare's dist/cli/main.js */
  cli: string;
  /** the drop folder (absolute) */
  dropDir: string;
  /** QSHARE_HOME / QSHARE_CONFIG to keep, when set for this run */
  env: Record<string, string>;
}

export const SYSTEMD_UNIT_NAME = 'qshare-watch.service';
export const LAUNCHD_LABEL = 'org.qshare.watch';

/** systemd quoting for ExecStart/Environment: double quotes, with `\`, `"`, `$` and `%` escaped. */
export function systemdQuote(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\$/g, '$$$$').replace(/%/g, '%%')}"`;
}

export function systemdUnit(s: ServiceSpec): string {
  const env = Object.entries(s.env)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `Environment=${systemdQuote(`${k}=${v}`)}`);
  return [
    '# qshare watch: shares whatever lands in the drop folder. Written by `qshare watch --install-service`.',
    '# Start it:  systemctl --user daemon-reload && systemctl --user enable --now qshare-watch',
    '# Logs:      journalctl --user -u qshare-watch -f',
    '[Unit]',
    'Description=qshare drop folder: encrypt and seed whatever lands in ' + s.dropDir.replace(/%/g, '%%'),
    'After=network-online.target',
    'Wants=network-online.target',
    // a crash loop must not become a login loop: at most 5 starts in 10 minutes
    'StartLimitIntervalSec=600',
    'StartLimitBurst=5',
    '',
    '[Service]',
    'Type=simple',
    `ExecStart=${[s.node, s.cli, 'watch', s.dropDir].map(systemdQuote).join(' ')}`,
    ...env,
    '# Optional, for QSHARE_QBIT_PASSWORD=… (create it with mode 600); `qshare login` (keychain) is better',
    'EnvironmentFile=-%h/.config/qshare/watch.env',
    'Restart=on-failure',
    'RestartSec=30',
    // SIGTERM: qshare interrupts the current step, records it and exits; 7-Zip children go with the cgroup
    'KillSignal=SIGTERM',
    'TimeoutStopSec=30',
    '',
    '[Install]',
    'WantedBy=default.target',
    '',
  ].join('\n');
}

function xml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A launchd agent (macOS): ~/Library/LaunchAgents/org.qshare.watch.plist. */
export function launchdPlist(s: ServiceSpec & { logFile: string }): string {
  const args = [s.node, s.cli, 'watch', s.dropDir].map((a) => `    <string>${xml(a)}</string>`);
  const env = Object.entries(s.env)
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([k, v]) => [`    <key>${xml(k)}</key>`, `    <string>${xml(v)}</string>`]);
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">',
    '<plist version="1.0">',
    '<dict>',
    '  <key>Label</key>',
    `  <string>${LAUNCHD_LABEL}</string>`,
    '  <key>ProgramArguments</key>',
    '  <array>',
    ...args,
    '  </array>',
    ...(env.length ? ['  <key>EnvironmentVariables</key>', '  <dict>', ...env, '  </dict>'] : []),
    '  <key>RunAtLoad</key>',
    '  <true/>',
    '  <key>KeepAlive</key>',
    '  <dict>',
    '    <key>SuccessfulExit</key>',
    '    <false/>',
    '  </dict>',
    '  <key>ThrottleInterval</key>',
    '  <integer>30</integer>',
    '  <key>StandardErrorPath</key>',
    `  <string>${xml(s.logFile)}</string>`,
    '</dict>',
    '</plist>',
    '',
  ].join('\n');
}

/** Where the service file goes for this user. */
export function serviceFilePath(platform: NodeJS.Platform, env: NodeJS.ProcessEnv, home: string): string {
  if (platform === 'darwin') return join(home, 'Library', 'LaunchAgents', `${LAUNCHD_LABEL}.plist`);
  const configHome =
    env.XDG_CONFIG_HOME && env.XDG_CONFIG_HOME.trim() !== '' ? env.XDG_CONFIG_HOME : join(home, '.config');
  return join(configHome, 'systemd', 'user', SYSTEMD_UNIT_NAME);
}
