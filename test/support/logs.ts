import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import type { Logger } from 'pino';
import { createLogger } from '../../src/observability/logger.ts';

export interface CapturedLogs {
  readonly logger: Logger;
  readonly lines: string[];
  /** Parsed log records. */
  records(): Array<Record<string, unknown>>;
  /** Fails if any log line contains any of the values. */
  assertNoneContain(values: Iterable<string>): void;
}

/** A real pino logger (same redaction as production) whose lines the test can inspect. */
export function captureLogs(level = 'debug'): CapturedLogs {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(line);
      callback();
    },
  });
  const logger = createLogger({ level, destination });
  return {
    logger,
    lines,
    records: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    assertNoneContain(values) {
      for (const value of values) {
        if (value.length < 6) continue;
        const leaked = lines.find((line) => line.includes(value));
        assert.equal(leaked, undefined, `a log line contains a secret value: ${leaked?.slice(0, 300)}`);
      }
    },
  };
}
