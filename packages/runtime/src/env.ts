// Configuration from the environment: one zod schema per service, parsed once at start, and an
// error that names every bad variable at once (never print-and-continue).
import type { z } from 'zod';

export type ConfigResult<T> =
  | { readonly ok: true; readonly config: T }
  | { readonly ok: false; readonly errors: readonly string[] };

/** Parses `env` with `schema`; each error is `NAME: problem`. */
export function parseEnv<S extends z.ZodType>(
  schema: S,
  env: Readonly<Record<string, string | undefined>>,
): ConfigResult<z.output<S>> {
  const parsed = schema.safeParse(env);
  if (parsed.success) return { ok: true, config: parsed.data };
  return {
    ok: false,
    errors: parsed.error.issues.map(
      issue =>
        `${issue.path.length > 0 ? issue.path.join('.') : '(environment)'}: ${issue.message}`,
    ),
  };
}

/** One variable of a `--help` listing. */
export interface EnvDoc {
  readonly name: string;
  readonly description: string;
  readonly default?: string;
}

/** Formats `--help`: usage line, then one line per variable with its default. */
export function formatHelp(usage: string, variables: readonly EnvDoc[]): string {
  const width = Math.max(...variables.map(v => v.name.length));
  const lines = variables.map(v => {
    const fallback = v.default === undefined ? '' : ` (default ${v.default})`;
    return `  ${v.name.padEnd(width)}  ${v.description}${fallback}`;
  });
  return `${usage}\n\nEnvironment:\n${lines.join('\n')}\n`;
}
