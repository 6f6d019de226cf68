import type { KubeLogger } from '@stampede/kube';

export interface LogLine {
  readonly level: 'debug' | 'info' | 'warn' | 'error';
  readonly msg: string;
  readonly fields: object;
}

/** A KubeLogger that keeps lines for assertions; prints them when STAMPEDE_TEST_LOG=1. */
export function recordingLogger(): KubeLogger & { readonly lines: LogLine[] } {
  const lines: LogLine[] = [];
  const print = process.env['STAMPEDE_TEST_LOG'] === '1';
  const at =
    (level: LogLine['level']) =>
    (fields: object, msg: string): void => {
      lines.push({ level, msg, fields });
      if (print) process.stderr.write(`${level} ${msg} ${JSON.stringify(fields)}\n`);
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
