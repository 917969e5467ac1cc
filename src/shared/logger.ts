import pino, { type Logger } from 'pino';
import type { Config } from '../config';

export type { Logger };

/** JSON logs; tokens, passwords and auth headers never reach them. */
export function createLogger(config: Pick<Config, 'logLevel'>): Logger {
  return pino({
    level: config.logLevel,
    base: undefined,
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'authorization',
        'token',
        'password',
        '*.password',
        '*.token',
        '*.newPassword',
        '*.currentPassword',
        'variables.input.password',
        'variables.input.newPassword',
        'variables.input.currentPassword',
        'connectionParams',
      ],
      censor: '[redacted]',
    },
  });
}
