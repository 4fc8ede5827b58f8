/** Commands whose operand is a path (or a link), where `./-x` names the same file as `-x`. */
const PATH_COMMANDS = new Set(['add', 'get', 'watch']);

/**
 * `qshare add -- -sdel`: what follows a bare `--` is an operand, never an option. yargs keeps such words out of a
 * command's positionals, so for the commands that take a path they are handed over without the `--`, with a name
 * that starts with `-` written `./-sdel` (the same file, and it cannot read as an option).
 */
export function operandsAfterDoubleDash(argv: readonly string[]): string[] {
  const i = argv.indexOf('--');
  if (i < 0 || !argv.slice(0, i).some((a) => PATH_COMMANDS.has(a))) return [...argv];
  return [...argv.slice(0, i), ...argv.slice(i + 1).map((a) => (a.startsWith('-') ? `./${a}` : a))];
}
