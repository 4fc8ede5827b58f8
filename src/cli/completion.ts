/**
 * `qshare completion [bash|zsh]`: a script the shell sources once, after which Tab completes qshare's commands and
 * options. Each Tab runs `qshare --get-yargs-completions <words so far>`, answered by yargs' own completion (run.ts)
 * from the same command definitions as --help. The scripts are yargs' templates with the program fixed to `qshare`;
 * the zsh one asks for `name:description` pairs (yargs looks for zsh in ZSH_NAME, which zsh does not export).
 */
export type Shell = 'bash' | 'zsh';

/** The shell to write a script for when none is named: zsh if $SHELL is zsh, else bash. */
export function shellFromEnv(env: NodeJS.ProcessEnv): Shell {
  return /(^|\/)zsh$/.test(env.SHELL ?? '') ? 'zsh' : 'bash';
}

export function completionScript(shell: Shell): string {
  return shell === 'zsh' ? ZSH : BASH;
}

const BASH = `###-begin-qshare-completions-###
#
# qshare command completion for bash. Install: qshare completion bash >> ~/.bashrc
#
_qshare_yargs_completions()
{
    local cur_word args type_list

    cur_word="\${COMP_WORDS[COMP_CWORD]}"
    args=("\${COMP_WORDS[@]}")

    # ask qshare (yargs) for the completions
    mapfile -t type_list < <(qshare --get-yargs-completions "\${args[@]}" 2>/dev/null)
    mapfile -t COMPREPLY < <(compgen -W "$( printf '%q ' "\${type_list[@]}" )" -- "\${cur_word}" |
        awk '/ / { print "\\""$0"\\"" } /^[^ ]+$/ { print $0 }')

    # no match: fall back to file names
    if [ \${#COMPREPLY[@]} -eq 0 ]; then
      COMPREPLY=()
    fi

    return 0
}
complete -o bashdefault -o default -F _qshare_yargs_completions qshare
###-end-qshare-completions-###
`;

const ZSH = `#compdef qshare
###-begin-qshare-completions-###
#
# qshare command completion for zsh. Install: qshare completion zsh >> ~/.zshrc
# (after compinit), or save it as _qshare in a folder of your $fpath.
#
_qshare_yargs_completions()
{
  local reply
  local si=$IFS
  IFS=$'\\n' reply=($(ZSH_NAME=zsh COMP_CWORD="$((CURRENT-1))" COMP_LINE="$BUFFER" COMP_POINT="$CURSOR" qshare --get-yargs-completions "\${words[@]}" 2>/dev/null))
  IFS=$si
  if [[ \${#reply} -gt 0 ]]; then
    _describe 'values' reply
  else
    _default
  fi
}
if [[ "\${zsh_eval_context[-1]}" == "loadautofunc" ]]; then
  _qshare_yargs_completions "$@"
else
  compdef _qshare_yargs_completions qshare
fi
###-end-qshare-completions-###
`;
