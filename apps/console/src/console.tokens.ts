/** Injection token of the console's ConsoleOptions. */
export const CONSOLE_OPTIONS = Symbol('CONSOLE_OPTIONS');
