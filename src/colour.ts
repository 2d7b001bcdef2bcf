/**
 * Whether to colour what the CLI writes: only on a terminal, and never when
 * NO_COLOR is set to anything but "" (https://no-color.org).
 */
export function wantsColour(stream: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): boolean {
  if (env.NO_COLOR) return false;
  const tty = stream as { isTTY?: boolean; hasColors?: () => boolean };
  return tty.isTTY === true && (tty.hasColors?.() ?? true);
}

const codes = { red: 31, green: 32, yellow: 33, magenta: 35, cyan: 36, dim: 2 } as const;

export type Colour = keyof typeof codes;

/** `text` in `colour`, or as it is when `enabled` is false. */
export function paint(text: string, colour: Colour, enabled: boolean): string {
  return enabled ? `\x1b[${codes[colour]}m${text}\x1b[0m` : text;
}
