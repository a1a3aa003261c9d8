import { parse as parseYaml } from 'yaml';

/** Parses YAML text; a syntax error becomes one line naming the source and where it is. */
export function parseYamlDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text);
  } catch (error) {
    throw new Error(`Cannot parse ${source}: ${(error as Error).message.split('\n')[0] ?? ''}`);
  }
}
