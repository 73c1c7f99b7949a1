/** Errors of the runtime's own. */

/** Thrown for a bug in the runtime itself, such as a plan step it does not know (never for a user's error). */
export class RuntimeInternalError extends Error {
  constructor(message: string) {
    super(`internal runtime error: ${message}`);
    this.name = 'RuntimeInternalError';
  }
}
