/** One problem found in a registry or policy file. */
export interface ValidationIssue {
  readonly file: string;
  /** Where in the file: `agencies[3] (NL-NCB).country`, `rules[2] (id=new-members).scopes[0]`. */
  readonly path: string;
  readonly message: string;
}

export function formatIssue(issue: ValidationIssue): string {
  return issue.path === '' ? `${issue.file}: ${issue.message}` : `${issue.file}: ${issue.path}: ${issue.message}`;
}

/** Thrown by the loaders with every issue found, not just the first one. */
export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';

  constructor(readonly issues: readonly ValidationIssue[]) {
    super(
      `${issues.length} policy validation issue${issues.length === 1 ? '' : 's'}:\n` +
        issues.map((issue) => `  - ${formatIssue(issue)}`).join('\n'),
    );
  }
}
