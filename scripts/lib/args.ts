/** The scripts' own options (bench, soak, ceiling): `--name value` and bare `--flag`, from this process's arguments. */
const args = process.argv.slice(2);

/** The value after `--name`, or `fallback` when the option is absent or has no value. */
export function optionValue(name: string, fallback: string): string {
  const i = args.indexOf(`--${name}`);
  return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
}

/** Whether `--name` was given. */
export function hasFlag(name: string): boolean {
  return args.includes(`--${name}`);
}
