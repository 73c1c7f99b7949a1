/**
 * The user's mistakes, as the `vae` command and compiled trainers report them: one line,
 * `error: message`, exit status 1, no stack trace.
 */

/** A user-facing failure of the command line (a flag, a file, a directory). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * True for a mistake of the user's (flags, files, data, run directories, a backend that does not
 * load, a diverging run), reported in one line; anything else is a bug. Errors are recognized by
 * name, so that this module loads none of the modules that define them.
 */
export function isUserError(e: unknown): e is Error {
  if (e instanceof UsageError) return true;
  const name = (e as Error | undefined)?.name;
  return name === 'DataError' || name === 'BackendError' || (e as Error | undefined)?.constructor?.name === 'NonFiniteLossError';
}
