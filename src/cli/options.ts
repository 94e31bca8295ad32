import { Option } from 'commander';

/** An option that may be given several times; its value is the list, in order. */
export function repeatable(flags: string, description: string): Option {
  return new Option(flags, description).argParser((value: string, previous: string[]) => [...previous, value]).default([]);
}
