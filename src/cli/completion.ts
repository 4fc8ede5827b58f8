/**
 * `qshare completion [bash|zsh]`: a script the shell sources once, after which Tab completes qshare's commands,
 * options and choices. Each Tab runs `qshare --get-completions bash|zsh <the words up to the cursor>`, which prints
 * the candidates from the command table (spec.ts), the same one --help is rendered from; it runs nothing else.
 * zsh gets `name:description` pairs. Scripts written by qshare 0.1 ask with `--get-yargs-completions` (zsh ones
 * with ZSH_NAME=zsh in the environment); that still answers.
 */
import { commandIndex } from './parse.js';
import { COMMANDS, GLOBAL_OPTIONS, type CommandSpec, type OptionSpec } from './spec.js';

export type Shell = 'bash' | 'zsh';

/** The shell to write a script for when none is named: zsh if $SHELL is zsh, else bash. */
export function shellFromEnv(env: NodeJS.ProcessEnv): Shell {
  return /(^|\/)zsh$/.test(env.SHELL ?? '') ? 'zsh' : 'bash';
}

export function completionScript(shell: Shell): string {
  return shell === 'zsh' ? ZSH : BASH;
}

export interface Candidate {
  value: string;
  describe?: string;
}

/**
 * What Tab offers after `words` (the program name first, the word being completed last). Nothing means: let the
 * shell complete file names (an operand that is a path, an option's value).
 */
export function completions(words: readonly string[], commands: readonly CommandSpec[] = COMMANDS): Candidate[] {
  const typed = words.slice(1);
  const current = typed.at(-1) ?? '';
  const before = typed.slice(0, -1);
  const starts = (c: Candidate) => c.value.startsWith(current);
  const at = commandIndex(before);
  const spec = at < 0 ? undefined : commands.find((c) => c.name === before[at]);
  const options = [...GLOBAL_OPTIONS, ...(spec?.options ?? [])];
  const previous = options.find((o) => o.type !== 'boolean' && before.at(-1) === `--${o.name}`);
  if (previous || before.includes('--')) return [];
  if (current.startsWith('-')) {
    const given = new Set(
      before.filter((w) => w.startsWith('--')).map((w) => w.slice(2).replace(/=.*$/, '').replace(/^no-/, '')),
    );
    const offered = options.filter((o) => o.array || !given.has(o.name)).flatMap((o) => optionCandidates(o));
    return [...offered, { value: '--help', describe: 'show help' }].filter(starts);
  }
  if (at < 0) return commands.map((c) => ({ value: c.name, describe: c.describe })).filter(starts);
  const operandGiven = before
    .slice(at + 1)
    .some(
      (w, i, ws) => !w.startsWith('-') && !options.some((o) => o.type !== 'boolean' && ws[i - 1] === `--${o.name}`),
    );
  if (spec?.operand?.choices && !operandGiven) return spec.operand.choices.map((value) => ({ value })).filter(starts);
  return [];
}

function optionCandidates(o: OptionSpec): Candidate[] {
  const own = { value: `--${o.name}`, describe: o.describe };
  return o.type === 'boolean' && o.default === true ? [own, { value: `--no-${o.name}`, describe: o.describe }] : [own];
}

/** The lines the shell reads: values for bash; `value:description` for zsh (a colon in the value escaped). */
export function renderCompletions(candidates: readonly Candidate[], shell: Shell): string {
  const lines = candidates.map((c) =>
    shell === 'zsh' ? `${c.value.replace(/:/g, '\\:')}${c.describe ? `:${c.describe}` : ''}` : c.value,
  );
  return lines.length > 0 ? `${lines.join('\n')}\n` : '';
}

const BASH = `###-begin-qshare-completions-###
#
# qshare command completion for bash. Install: qshare completion bash >> ~/.bashrc
#
_qshare_completions()
{
    local cur_word type_list

    cur_word="\${COMP_WORDS[COMP_CWORD]}"

    # ask qshare for the candidates, with the words up to the cursor
    mapfile -t type_list < <(qshare --get-completions bash "\${COMP_WORDS[@]:0:COMP_CWORD+1}" 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$( printf '%q ' "\${type_list[@]}" )" -- "\${cur_word}" |
        awk '/ / { print "\\""$0"\\"" } /^[^ ]+$/ { print $0 }')

    # no match: fall back to file names
    if [ \${#COMPREPLY[@]} -eq 0 ]; then
      COMPREPLY=()
    fi

    return 0
}
complete -o bashdefault -o default -F _qshare_completions qshare
###-end-qshare-completions-###
`;

const ZSH = `#compdef qshare
###-begin-qshare-completions-###
#
# qshare command completion for zsh. Install: qshare completion zsh >> ~/.zshrc
# (after compinit), or save it as _qshare in a folder of your $fpath.
#
_qshare_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(qshare --get-completions zsh "\${(@)words[1,CURRENT]}" 2>/dev/null))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _qshare_completions "$@"
else
  compdef _qshare_completions qshare
fi
###-end-qshare-completions-###
`;
