/**
 * Every error cogts reports on purpose is a CogtsError: a stable `code` tools can match on, a message
 * that names the file/field/request at fault, and an optional `hint` with the fix. The CLI prints
 * message + hint and exits 1; anything else reaching the top is a bug and is printed with its stack.
 */
export class CogtsError extends Error {
  readonly code: string;
  readonly hint: string | undefined;

  constructor(code: string, message: string, options: { hint?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CogtsError';
    this.code = code;
    this.hint = options.hint;
  }
}

/** Raised for a command or option whose implementing issue has not landed yet (CLI exits 2). */
export class NotImplementedError extends CogtsError {
  constructor(what: string, issue: number) {
    super('E_NOT_IMPLEMENTED', `${what} is not implemented yet (tracked in issue #${issue})`);
    this.name = 'NotImplementedError';
  }
}

export function isCogtsError(e: unknown): e is CogtsError {
  return e instanceof CogtsError;
}
