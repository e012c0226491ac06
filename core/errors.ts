import type { ContractError, ErrorCode, Issue } from './contract';

// Errors that are meant to cross the boundary carry a contract code; anything else is reported as INTERNAL.
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: Issue[],
  ) {
    super(message);
    this.name = 'AppError';
  }

  toContract(): ContractError {
    return this.issues ? { code: this.code, message: this.message, issues: this.issues } : { code: this.code, message: this.message };
  }
}
