/**
 * A strict little XML well-formedness check for the report tests (no XML parser is installed):
 * every tag is well formed with quoted, unique attributes, tags nest and close, there is one root,
 * and text holds no `<` and no `&` outside a known entity. Throws with the offset on failure.
 */
import assert from 'node:assert/strict';

const _NAME = '[A-Za-z_][\\w.:-]*';
const _ATTRIBUTE = new RegExp(`\\s+(${_NAME})\\s*=\\s*("[^"<]*"|'[^'<]*')`, 'y');
const _ENTITY = /&(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);/y;

/** Asserts that `xml` is a well-formed XML document (comments allowed; no DTD, no CDATA). */
export function assertWellFormedXml(xml: string): void {
  const stack: string[] = [];
  let roots = 0;
  let i = 0;
  const fail = (why: string): never => assert.fail(`Not well-formed XML at offset ${String(i)}: ${why}: ${JSON.stringify(xml.slice(i, i + 60))}`);
  while (i < xml.length) {
    const c = xml[i];
    if (c === '&') {
      _ENTITY.lastIndex = i;
      if (!_ENTITY.test(xml)) fail('bare "&"');
      i = _ENTITY.lastIndex;
      continue;
    }
    if (c === '>') fail('bare ">" in text');
    if (c !== '<') {
      if (stack.length === 0 && !/\s/.test(c ?? '')) fail('text outside the root element');
      i++;
      continue;
    }
    if (xml.startsWith('<!--', i)) {
      const end = xml.indexOf('-->', i + 4);
      if (end < 0) fail('unclosed comment');
      i = end + 3;
      continue;
    }
    if (xml.startsWith('<?xml', i) && i === 0) {
      const end = xml.indexOf('?>', i);
      if (end < 0) fail('unclosed declaration');
      i = end + 2;
      continue;
    }
    const closing = new RegExp(`</(${_NAME})\\s*>`, 'y');
    closing.lastIndex = i;
    const close = closing.exec(xml);
    if (close !== null) {
      const open = stack.pop();
      if (open !== close[1]) fail(`closing tag "${close[1] ?? ''}" does not match "${open ?? '(none)'}"`);
      i = closing.lastIndex;
      continue;
    }
    const opening = new RegExp(`<(${_NAME})`, 'y');
    opening.lastIndex = i;
    const open = opening.exec(xml);
    if (open === null) fail('bad tag');
    const name = open?.[1] ?? '';
    let j = opening.lastIndex;
    const seen = new Set<string>();
    for (;;) {
      _ATTRIBUTE.lastIndex = j;
      const attribute = _ATTRIBUTE.exec(xml);
      if (attribute === null) break;
      const attributeName = attribute[1] ?? '';
      if (seen.has(attributeName)) fail(`duplicate attribute "${attributeName}"`);
      seen.add(attributeName);
      const value = (attribute[2] ?? '').slice(1, -1);
      if (/&(?!(?:amp|lt|gt|quot|apos|#\d+|#x[\da-fA-F]+);)/.test(value)) fail(`bare "&" in attribute "${attributeName}"`);
      j = _ATTRIBUTE.lastIndex;
    }
    const end = /\s*(\/?)>/y;
    end.lastIndex = j;
    const tail = end.exec(xml);
    if (tail === null) {
      i = j;
      fail(`bad attribute or unclosed tag "${name}"`);
    }
    if (stack.length === 0) roots++;
    if (roots > 1) fail('more than one root element');
    if (tail?.[1] !== '/') stack.push(name);
    i = end.lastIndex;
  }
  if (stack.length > 0) assert.fail(`Not well-formed XML: unclosed ${stack.map((s) => `"${s}"`).join(', ')}`);
  assert.equal(roots, 1, 'Not well-formed XML: no root element');
}
