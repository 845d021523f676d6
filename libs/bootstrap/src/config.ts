// Settings are declared once, with a description, a default and a "sensitive" flag, and read
// from the environment at start-up. A bad value stops the service with the setting's name.

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

export interface Setting<T> {
  readonly description: string;
  readonly sensitive: boolean;
  readonly defaultValue: T | undefined;
  parse(raw: string): T;
}

interface SettingOptions<T> {
  description: string;
  default?: T;
  sensitive?: boolean;
}

function setting<T>(opts: SettingOptions<T>, parse: (raw: string) => T): Setting<T> {
  return { description: opts.description, sensitive: opts.sensitive ?? false, defaultValue: opts.default, parse };
}

export const settings = {
  string: (opts: SettingOptions<string> & { pattern?: RegExp }): Setting<string> =>
    setting(opts, (raw) => {
      if (opts.pattern && !opts.pattern.test(raw)) throw new Error(`must match ${String(opts.pattern)}`);
      return raw;
    }),
  optionalString: (opts: SettingOptions<string | null>): Setting<string | null> =>
    setting({ ...opts, default: opts.default ?? null }, (raw) => (raw === '' ? null : raw)),
  int: (opts: SettingOptions<number> & { min?: number; max?: number }): Setting<number> =>
    setting(opts, (raw) => {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error('must be an integer');
      const n = Number(raw);
      if (opts.min !== undefined && n < opts.min) throw new Error(`must be >= ${opts.min}`);
      if (opts.max !== undefined && n > opts.max) throw new Error(`must be <= ${opts.max}`);
      return n;
    }),
  port: (opts: SettingOptions<number>): Setting<number> =>
    setting(opts, (raw) => {
      const n = Number(raw);
      if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('must be a port number 0-65535');
      return n;
    }),
  bool: (opts: SettingOptions<boolean>): Setting<boolean> =>
    setting(opts, (raw) => {
      const v = raw.trim().toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(v)) return true;
      if (['0', 'false', 'no', 'off'].includes(v)) return false;
      throw new Error('must be true or false');
    }),
  list: (opts: SettingOptions<string[]>): Setting<string[]> =>
    setting(opts, (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s.length > 0),
    ),
  oneOf: <T extends string>(values: readonly T[], opts: SettingOptions<T>): Setting<T> =>
    setting(opts, (raw) => {
      if (!(values as readonly string[]).includes(raw)) throw new Error(`must be one of ${values.join(', ')}`);
      return raw as T;
    }),
};

export type ConfigSchema = Record<string, Setting<unknown>>;
export type ConfigOf<S extends ConfigSchema> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

/** Reads every setting of a schema; collects all problems before failing so one start shows them all. */
export function loadConfig<S extends ConfigSchema>(schema: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(schema)) {
    const raw = env[name];
    if (raw === undefined || raw === '') {
      if (s.defaultValue === undefined) problems.push(`${name} is required (${s.description})`);
      else out[name] = s.defaultValue;
      continue;
    }
    try {
      out[name] = s.parse(raw);
    } catch (err) {
      const shown = s.sensitive ? '<redacted>' : JSON.stringify(raw);
      problems.push(`${name}=${shown} ${(err as Error).message}`);
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze(out) as ConfigOf<S>;
}

/** The config as it may be logged: sensitive values replaced. */
export function describeConfig<S extends ConfigSchema>(schema: S, config: ConfigOf<S>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, s] of Object.entries(schema)) {
    out[name] = s.sensitive ? '<redacted>' : (config as Record<string, unknown>)[name];
  }
  return out;
}
