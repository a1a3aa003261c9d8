/** Turning a schema validation failure into the one-line error a user reads. */
import type { z } from 'zod';

/**
 * One line per problem, each naming the path as it appears in the file:
 * `spec.instanceTypes["m5.large"].onDemand: expected number, received string`.
 */
export function formatZodError(error: z.ZodError): string {
  return error.issues
    .map((issue) => {
      const path = issue.path
        .map((part, i) => {
          if (typeof part === 'number') return `[${part}]`;
          const key = String(part);
          if (/^[A-Za-z_$][\w$]*$/.test(key)) return i === 0 ? key : `.${key}`;
          return `[${JSON.stringify(key)}]`;
        })
        .join('');
      return path ? `${path}: ${issue.message}` : issue.message;
    })
    .join('; ');
}
