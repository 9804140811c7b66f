import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

/**
 * Rooms of a few hundred lines, functions that fit on a screen: the product's code (lib/, functions/)
 * stays easy to enter. The simulator, the tests and the bench are not held to it.
 */
const root = join(import.meta.dirname, '..', '..');
const MAX_FILE_LINES = 450;
const MAX_FUNCTION_LINES = 80;

const productFiles = () =>
  ['lib', 'functions'].flatMap((folder) =>
    readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' })
      .filter((f) => f.endsWith('.ts'))
      .map((f) => join(folder, f)),
  );

/** Every function-like node (declarations, methods, arrows, function expressions) and its line count. */
function functionLengths(file: string, text: string): { name: string; lines: number }[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
  const found: { name: string; lines: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionLike(node) && 'body' in node && node.body) {
      const start = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const end = source.getLineAndCharacterOfPosition(node.end).line;
      const named = (node as ts.FunctionLikeDeclaration).name;
      const name = named && ts.isIdentifier(named) ? named.text : `(anonymous at line ${start + 1})`;
      found.push({ name: `${file}:${start + 1} ${name}`, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe('the size of rooms', () => {
  it(`no product file is longer than ${MAX_FILE_LINES} lines`, () => {
    const long = productFiles()
      .map((file) => ({ file, lines: readFileSync(join(root, file), 'utf8').split('\n').length }))
      .filter((f) => f.lines > MAX_FILE_LINES)
      .map((f) => `${f.file} (${f.lines})`);
    expect(long).toEqual([]);
  });

  it(`no product function is longer than ${MAX_FUNCTION_LINES} lines`, () => {
    const long = productFiles()
      .flatMap((file) => functionLengths(file, readFileSync(join(root, file), 'utf8')))
      .filter((f) => f.lines > MAX_FUNCTION_LINES)
      .map((f) => `${f.name} (${f.lines})`);
    expect(long).toEqual([]);
  });
});
