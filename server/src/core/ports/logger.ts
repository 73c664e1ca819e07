/**
 * The structured log the core writes: a subset of pino's Logger, which satisfies
 * it as it is. Fields never carry payloads, keys, signatures or tokens.
 */
export interface Logger {
  error(fields: object, message: string): void;
  info(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}
