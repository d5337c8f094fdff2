// Colours for terminal output, or none: off when stdout is not a terminal, when NO_COLOR is set
// (https://no-color.org) or when TERM is "dumb". Symbols are printed either way.

/** Styles text; every function is the identity when colours are off. */
export interface Palette {
  green(s: string): string;
  red(s: string): string;
  yellow(s: string): string;
  cyan(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const sgr = (open: number, close: number) => (s: string) => `\x1b[${open}m${s}\x1b[${close}m`;
const plain = (s: string) => s;

/** The palette for colours on or off. */
export function palette(color: boolean): Palette {
  if (!color)
    return { green: plain, red: plain, yellow: plain, cyan: plain, bold: plain, dim: plain };
  return {
    green: sgr(32, 39),
    red: sgr(31, 39),
    yellow: sgr(33, 39),
    cyan: sgr(36, 39),
    bold: sgr(1, 22),
    dim: sgr(2, 22),
  };
}

/** Whether to colour output going to a stream with this TTY-ness under this environment. */
export function colorWanted(isTTY: boolean, env: NodeJS.ProcessEnv): boolean {
  return isTTY && !env.NO_COLOR && env.TERM !== "dumb";
}

/** Text without colour codes: what a terminal shows, for measuring widths. */
export function visible(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching SGR escapes is the point.
  return s.replace(/\x1b\[[0-9;]*m/g, "");
}
