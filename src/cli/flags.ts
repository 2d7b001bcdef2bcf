/**
 * Numeric command-line flags, checked. A refusal names the flag and the
 * value, as the command's own usage error (so the CLI prints its usage).
 */
type UsageError = new (message: string) => Error;

/** `--name`'s value as a positive whole number; undefined when the flag was not given. */
export function positiveFlag(name: string, value: string | undefined, Usage: UsageError): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < 1) throw new Usage(`--${name} takes a positive whole number, not "${value}"`);
  return number;
}

/** `--name`'s value as a port (0: any free one); undefined when the flag was not given. */
export function portFlag(name: string, value: string | undefined, Usage: UsageError): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!(Number.isSafeInteger(port) && port >= 0 && port <= 65_535)) throw new Usage(`--${name} takes a port number (0–65535), not "${value}"`);
  return port;
}
