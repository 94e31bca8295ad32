import type { Command, Option } from 'commander';
import { UsageError } from '../errors.js';

/** What completes after a command path: its subcommands (and argument choices) and its options. */
interface Node {
  path: string;
  words: Array<{ word: string; description: string }>;
  options: Array<{ flag: string; description: string; choices?: string[] }>;
}

function collect(root: Command): Node[] {
  const nodes: Node[] = [];
  const globals = root.options as Option[];
  const walk = (cmd: Command, path: string) => {
    const words = cmd.commands.flatMap((c) => [c.name(), ...c.aliases()].map((word) => ({ word, description: c.description() })));
    for (const arg of cmd.registeredArguments) for (const choice of arg.argChoices ?? []) words.push({ word: choice, description: arg.description });
    const options = [...(cmd === root ? [] : globals), ...(cmd.options as Option[])]
      .filter((o) => o.long)
      .map((o) => ({ flag: o.long!, description: o.description, ...(o.argChoices ? { choices: o.argChoices } : {}) }));
    options.push({ flag: '--help', description: 'show help' });
    nodes.push({ path, words, options });
    for (const c of cmd.commands) walk(c, path ? `${path} ${c.name()}` : c.name());
  };
  walk(root, '');
  return nodes;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

function bash(nodes: Node[]): string {
  const cases = (pick: (n: Node) => string[]) => nodes.map((n) => `    ${q(n.path)}) echo ${q(pick(n).join(' '))} ;;`).join('\n');
  const choices = new Map<string, string[]>();
  for (const n of nodes) for (const o of n.options) if (o.choices) choices.set(o.flag, o.choices);
  return `# keysmith completion for bash (and zsh through bashcompinit). Load it with:
#   source <(keysmith completion bash)
_keysmith_words() {
  case "$1" in
${cases((n) => n.words.map((w) => w.word))}
  esac
}
_keysmith_options() {
  case "$1" in
${cases((n) => n.options.map((o) => o.flag))}
  esac
}
_keysmith_choices() {
  case "$1" in
${[...choices].map(([flag, c]) => `    ${q(flag)}) echo ${q(c.join(' '))} ;;`).join('\n')}
  esac
}
_keysmith() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" word i
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    [[ "$word" == "--" ]] && return 0
    [[ "$word" == -* ]] && continue
    case " $(_keysmith_words "$path") " in
      *" $word "*) path="\${path:+$path }$word" ;;
    esac
  done
  local choices
  choices="$(_keysmith_choices "$prev")"
  if [[ -n "$choices" ]]; then
    COMPREPLY=($(compgen -W "$choices" -- "$cur"))
  elif [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$(_keysmith_options "$path")" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$(_keysmith_words "$path")" -- "$cur"))
  fi
}
complete -o default -F _keysmith keysmith
`;
}

function zsh(nodes: Node[]): string {
  return `#compdef keysmith
# keysmith completion for zsh. Load it with:
#   source <(keysmith completion zsh)
autoload -U +X compinit && { (( $+functions[compdef] )) || compinit -u; }
autoload -U +X bashcompinit && bashcompinit
${bash(nodes).split('\n').filter((l) => !l.startsWith('#')).join('\n')}`;
}

function fish(nodes: Node[]): string {
  const lines: string[] = [
    '# keysmith completion for fish. Load it with:',
    '#   keysmith completion fish | source',
    'function __keysmith_words',
    '  switch "$argv[1]"',
    ...nodes.flatMap((n) => [`    case ${q(n.path)}`, `      printf '%s\\n' ${n.words.map((w) => q(w.word)).join(' ') || "''"}`]),
    '  end',
    'end',
    'function __keysmith_path',
    "  set -l path ''",
    '  for t in (commandline -opc)[2..-1]',
    "    string match -q -- '-*' $t; and continue",
    '    if contains -- $t (__keysmith_words $path)',
    '      set path (string trim -- "$path $t")',
    '    end',
    '  end',
    '  echo $path',
    'end',
  ];
  for (const n of nodes) {
    const cond = `test (__keysmith_path) = ${q(n.path)}`;
    for (const w of n.words) lines.push(`complete -c keysmith -f -n ${q(cond)} -a ${q(w.word)} -d ${q(w.description)}`);
    for (const o of n.options) {
      const extra = o.choices ? ` -x -a ${q(o.choices.join(' '))}` : '';
      lines.push(`complete -c keysmith -n ${q(cond)} -l ${o.flag.slice(2)}${extra} -d ${q(o.description)}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;

/** A completion script for `shell`, generated from the command tree so it never goes stale. */
export function completionScript(root: Command, shell: string): string {
  const nodes = collect(root);
  switch (shell) {
    case 'bash':
      return bash(nodes);
    case 'zsh':
      return zsh(nodes);
    case 'fish':
      return fish(nodes);
    default:
      throw new UsageError(`no completion for ${JSON.stringify(shell)} (use ${SHELLS.join(', ')})`);
  }
}
