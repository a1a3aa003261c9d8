/**
 * A Stowage configuration file holds one document per component, separated by `---`, so one file
 * can configure them all: `stowage webhook --config` reads its `WebhookConfiguration`, `stowage
 * deschedule --config` its `DeschedulerConfiguration` and, for the on-demand floor, the same
 * file's `WebhookConfiguration`. A file with a single document works as before.
 */
import { parseAllDocuments } from 'yaml';

/** The kinds a configuration file may hold. */
export const CONFIG_KINDS = ['WebhookConfiguration', 'DeschedulerConfiguration'] as const;

/** One of {@link CONFIG_KINDS}. */
export type ConfigKind = (typeof CONFIG_KINDS)[number];

/**
 * The documents of a configuration file's text (YAML or JSON), empty ones left out.
 *
 * @throws {Error} one line naming the source and where the syntax error is
 */
export function parseConfigDocuments(text: string, source: string): readonly unknown[] {
  const documents: unknown[] = [];
  for (const doc of parseAllDocuments(text)) {
    const error = doc.errors[0];
    if (error !== undefined) throw new Error(`Cannot parse ${source}: ${error.message.split('\n')[0] ?? ''}`);
    const value: unknown = doc.toJS();
    if (value !== null && value !== undefined) documents.push(value);
  }
  return documents;
}

function _kindOf(document: unknown): unknown {
  return typeof document === 'object' && document !== null ? (document as { kind?: unknown }).kind : undefined;
}

/**
 * The document of `kind` among `documents`, or undefined when there is none. A file of a single
 * document yields it whatever its kind, so that its own schema names what is wrong with it.
 *
 * @throws {Error} one line, when a document has a kind Stowage does not know or `kind` appears twice
 */
export function findConfigDocument(documents: readonly unknown[], kind: ConfigKind, source: string): unknown {
  if (documents.length === 1) return documents[0];
  const found: unknown[] = [];
  for (const [i, document] of documents.entries()) {
    const other = _kindOf(document);
    if (other === kind) found.push(document);
    else if (!(CONFIG_KINDS as readonly unknown[]).includes(other)) {
      throw new Error(`Invalid ${source}: document ${i + 1}: kind ${JSON.stringify(other ?? null)} is not one of ${CONFIG_KINDS.join(', ')}`);
    }
  }
  if (found.length > 1) throw new Error(`Invalid ${source}: ${found.length} ${kind} documents, expected at most one`);
  return found[0];
}
