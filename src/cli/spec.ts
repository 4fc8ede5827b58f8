/**
 * The command line as data: every command, its operand and its options, with the text `--help` shows. Pure and
 * cheap to import. parse.ts reads command lines with it, help.ts renders `--help` from it, and completion.ts answers
 * Tab from it. Order matters: --help lists commands and options in this order.
 */

export type OptionType = 'boolean' | 'string' | 'number';

export interface OptionSpec {
  name: string;
  type: OptionType;
  describe: string;
  /** repeatable: `--tracker a --tracker b` */
  array?: boolean;
  /** only booleans have defaults here; an option without one is undefined when not given */
  default?: boolean;
  /** what --help shows for the value of a string or number option: `--tracker URL` */
  value?: string;
}

export interface OperandSpec {
  name: string;
  required: boolean;
  describe?: string;
  choices?: readonly string[];
}

export interface CommandSpec {
  name: CommandName;
  describe: string;
  operand?: OperandSpec;
  options: readonly OptionSpec[];
}

export type CommandName =
  'add' | 'seed' | 'watch' | 'get' | 'ls' | 'show' | 'stop' | 'login' | 'relay' | 'doctor' | 'daemon' | 'completion';

export const SUMMARY =
  'Send a large folder privately: encrypt it with 7-Zip, make a torrent, seed it from your qBittorrent.';

export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'json', type: 'boolean', default: false, describe: 'print one JSON result on stdout and nothing else' },
  { name: 'verbose', type: 'boolean', default: false, describe: 'more detail on stderr' },
  {
    name: 'config',
    type: 'string',
    value: 'FILE',
    describe: 'config file (default: $QSHARE_CONFIG or ~/.config/qshare/config.json)',
  },
];

const passwordStdin = (what: string): OptionSpec => ({
  name: 'password-stdin',
  type: 'boolean',
  default: false,
  describe: `read the ${what} from the first line of stdin`,
});

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'add',
    describe: 'encrypt a folder or file, make its torrent, and seed it from qBittorrent',
    operand: { name: 'path', required: true, describe: 'the folder or file to share' },
    options: [
      { name: 'name', type: 'string', value: 'NAME', describe: 'the share name (default: three random words)' },
      {
        name: 'level',
        type: 'string',
        value: '0-9|auto',
        describe:
          '7-Zip compression: 0 (store, default) … 9, or auto (store if a sample does not compress, like photos and video; else fast)',
      },
      {
        name: 'tracker',
        type: 'string',
        value: 'URL',
        array: true,
        describe: 'announce URL, repeatable (default: config "trackers")',
      },
      {
        name: 'private',
        type: 'boolean',
        default: false,
        describe: 'mark the torrent private (no DHT/PeX: trackers only)',
      },
      {
        name: 'encrypt',
        type: 'boolean',
        default: true,
        describe: 'make the encrypted 7z (--no-encrypt: share the files as they are)',
      },
      {
        name: 'seed',
        type: 'boolean',
        default: true,
        describe: 'hand it to qBittorrent (--no-seed: only make the archive and .torrent)',
      },
      passwordStdin('archive password'),
      {
        name: 'ask-password',
        type: 'boolean',
        default: false,
        describe: 'type the archive password at a hidden prompt',
      },
      {
        name: 'recipients',
        type: 'number',
        value: 'N',
        describe: 'stop seeding once this many peers have the whole file (qBittorrent ratio limit N as a safety net)',
      },
      { name: 'expire', type: 'string', value: 'TIME', describe: 'stop seeding after this much seeding time: 7d, 48h' },
      {
        name: 'relay',
        type: 'string',
        value: 'NAME',
        array: true,
        describe: 'also hand it to this relay (qshare login --relay), repeatable (default: config "defaultRelays")',
      },
      {
        name: 'handoff',
        type: 'boolean',
        default: false,
        describe: 'wait until every relay has the whole file, then stop seeding here',
      },
    ],
  },
  {
    name: 'seed',
    describe: 'hand a share to qBittorrent again (after it was unreachable)',
    operand: { name: 'share', required: true, describe: 'name or id' },
    options: [
      {
        name: 'until-done',
        type: 'boolean',
        default: false,
        describe: 'stay and watch until --recipients peers have it (or a share limit ends it), then stop seeding',
      },
      {
        name: 'handoff',
        type: 'boolean',
        default: false,
        describe: 'finish handing it to its relays: wait until each has the whole file, then stop seeding here',
      },
    ],
  },
  {
    name: 'watch',
    describe:
      'share whatever lands in a drop folder (default: config watch.dir, ~/ToShare), once it has finished arriving',
    operand: { name: 'dir', required: false, describe: 'the drop folder (default: config "watch.dir")' },
    options: [
      {
        name: 'install-service',
        type: 'boolean',
        default: false,
        describe: 'write a systemd user unit (launchd agent on macOS) that runs this watch, then exit',
      },
    ],
  },
  {
    name: 'get',
    describe: 'download a share into your qBittorrent and unpack it (magnet link, .torrent file or http(s) link)',
    operand: { name: 'source', required: true, describe: 'magnet link, .torrent file, or http(s) link to a .torrent' },
    options: [
      { name: 'to', type: 'string', value: 'DIR', describe: 'unpack into this folder (default: ./<archive name>)' },
      passwordStdin('archive password'),
      {
        name: 'force',
        type: 'boolean',
        default: false,
        describe: 'replace files that already exist in the target folder',
      },
      {
        name: 'seed',
        type: 'boolean',
        default: true,
        describe: 'keep seeding afterwards (--no-seed: remove it from qBittorrent, keeping the files)',
      },
      {
        name: 'relay',
        type: 'string',
        value: 'NAME',
        describe:
          'fetch it through this relay of yours (qshare login --relay): for when both you and the sender are behind NAT',
      },
    ],
  },
  {
    name: 'ls',
    describe: 'list your shares: state, peers, uploaded, ratio, and how many peers have the whole file',
    options: [],
  },
  {
    name: 'show',
    describe: 'show a share again: magnet link, .torrent, password and the message for your recipients',
    operand: { name: 'share', required: true, describe: 'name or id' },
    options: [
      { name: 'qr', type: 'boolean', default: false, describe: 'also draw the magnet link as a QR code (for a phone)' },
    ],
  },
  {
    name: 'stop',
    describe:
      "remove a share from qBittorrent (--delete: also delete qshare's archive and .torrent; never your folder)",
    operand: { name: 'share', required: true, describe: 'name or id' },
    options: [
      {
        name: 'delete',
        type: 'boolean',
        default: false,
        describe: "also delete qshare's archive and .torrent and forget the share",
      },
    ],
  },
  {
    name: 'login',
    describe:
      'pair qshare with your qBittorrent: test one login, save the address and user, keep the password in the keychain',
    options: [
      {
        name: 'url',
        type: 'string',
        value: 'URL',
        describe: 'the Web UI address, e.g. http://127.0.0.1:8080 or https://nas/qbt/ (default: asked, or the config)',
      },
      {
        name: 'username',
        type: 'string',
        value: 'USER',
        describe: 'the Web UI user name (default: asked, or the config)',
      },
      passwordStdin('password or API key (qbt_…)'),
      {
        name: 'ca-file',
        type: 'string',
        value: 'FILE',
        describe:
          'trust this PEM certificate for an https:// Web UI with a self-signed certificate (saved in the config)',
      },
      {
        name: 'insecure',
        type: 'boolean',
        describe: 'do not check the https:// certificate at all (warns; saved in the config)',
      },
      {
        name: 'relay',
        type: 'string',
        value: 'NAME',
        describe:
          'pair a relay of this name instead: your always-on qBittorrent (a seedbox, a VPS) that seeds your shares past NAT',
      },
      {
        name: 'peer',
        type: 'string',
        value: 'HOST:PORT',
        describe:
          "with --relay: HOST:PORT where peers reach the relay's BitTorrent port (default: the URL's host and its listening port)",
      },
      {
        name: 'save-path',
        type: 'string',
        value: 'DIR',
        describe: "with --relay: the folder on the relay to download shares into (default: the relay's own)",
      },
      {
        name: 'remove',
        type: 'boolean',
        default: false,
        describe: 'with --relay: forget that relay (its address, and its password in the secret store)',
      },
    ],
  },
  {
    name: 'relay',
    describe: 'your relays (paired with qshare login --relay): ls lists them and whether each answers',
    operand: { name: 'action', required: true, choices: ['ls'] },
    options: [],
  },
  {
    name: 'doctor',
    describe:
      'check everything a share needs (qBittorrent, its settings, paths, disk, 7-Zip, keychain) and say what to do',
    options: [
      {
        name: 'fix',
        type: 'boolean',
        default: false,
        describe: 'change the qBittorrent settings that need it, each one confirmed',
      },
      { name: 'yes', type: 'boolean', default: false, describe: 'with --fix: change them all without asking' },
    ],
  },
  {
    name: 'daemon',
    describe: "qshare's own qBittorrent (qbittorrent-nox on 127.0.0.1): start, stop or status",
    operand: { name: 'action', required: true, choices: ['start', 'stop', 'status'] },
    options: [],
  },
  {
    name: 'completion',
    describe: 'print a Tab-completion script for bash or zsh (default: your $SHELL): qshare completion >> ~/.bashrc',
    operand: {
      name: 'shell',
      required: false,
      choices: ['bash', 'zsh'],
      describe: 'the shell (default: zsh if $SHELL is zsh, else bash)',
    },
    options: [],
  },
];

/** What a command line means: option values keyed by their long names (`password-stdin`). */
export interface ParsedCommand {
  command: CommandName;
  args: ParsedArgs;
}

export type ParsedValue = string | number | boolean | string[] | undefined;
export type ParsedArgs = Readonly<Record<string, ParsedValue>>;
