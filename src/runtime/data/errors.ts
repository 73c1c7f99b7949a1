/** Errors about input data that are shown to the user as a plain message, without a stack trace. */

/** A user-facing data error (missing or malformed data file); the CLI prints only its message. */
export class DataError extends Error {
  override name = 'DataError';
}
