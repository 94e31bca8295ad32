import { CancelledError } from '../errors.js';
import type { IO } from './io.js';

/** Asks the person at the terminal. Only ever used when Context.canPrompt() is true. */
export interface Prompter {
  /** Hidden input, on stderr. With `confirm`, asked twice and compared. */
  password(message: string, options?: { confirm?: boolean }): Promise<string>;
  /** A yes/no question on stderr; anything but y or yes is no. */
  confirm(message: string): Promise<boolean>;
}

/** @inquirer/password on stdin/stderr (stdout stays data), loaded only when a prompt is shown. */
export function inquirerPrompter(io: IO): Prompter {
  return {
    async confirm(message) {
      const { createInterface } = await import('node:readline/promises');
      const rl = createInterface({ input: io.stdin, output: io.stderr });
      try {
        return /^y(es)?$/i.test((await rl.question(`${message} [y/N] `)).trim());
      } finally {
        rl.close();
      }
    },
    async password(message, options = {}) {
      const { default: password } = await import('@inquirer/password');
      const ask = async (text: string) => {
        try {
          return await password({ message: text, mask: false }, { input: io.stdin, output: io.stderr });
        } catch (err) {
          if ((err as Error).name === 'ExitPromptError' || (err as Error).name === 'AbortPromptError') throw new CancelledError();
          throw err;
        }
      };
      for (;;) {
        const first = await ask(message);
        if (!options.confirm) return first;
        if ((await ask(`${message} (again)`)) === first) return first;
        io.stderr.write('The two entries differ; try again.\n');
      }
    },
  };
}
