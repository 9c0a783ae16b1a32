import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * The problem `code`s keywarden's source can answer, read statically from src/ so the
 * OpenAPI document's list of codes can be checked against it. It follows the error classes
 * from `KeywardenError(status, code, …)` down: for each subclass, where its `super(…)` call
 * takes the code from (a literal, a constant, or one of its own parameters with its default),
 * then every `new SomeError(…)` in src/ with the code argument it passes (or the default it
 * leaves in place). A code computed at run time (not a literal or a constant) is not seen;
 * such a code must be written as a literal for this check to know it.
 */

interface ErrorClass {
  /** Index of the constructor argument that is the code; undefined when the class fixes it. */
  codeIndex?: number;
  /** The code when the argument is left out (or `undefined`), or the fixed code. */
  code?: string;
}

const ROOT = 'KeywardenError';

/** Top-level arguments of the call whose `(` is at `open`, and the index after its `)`. */
function callArguments(text: string, open: number): { args: string[]; end: number } {
  const args: string[] = [];
  let depth = 0;
  let current = '';
  for (let i = open; i < text.length; i += 1) {
    const char = text[i]!;
    if (char === "'" || char === '"' || char === '`') {
      let j = i + 1;
      while (j < text.length && text[j] !== char) j += text[j] === '\\' ? 2 : 1;
      current += text.slice(i, j + 1);
      i = j;
      continue;
    }
    if ('([{'.includes(char)) {
      depth += 1;
      if (depth === 1) continue;
    } else if (')]}'.includes(char)) {
      depth -= 1;
      if (depth === 0) {
        if (current.trim()) args.push(current.trim());
        return { args, end: i + 1 };
      }
    } else if (char === ',' && depth === 1) {
      args.push(current.trim());
      current = '';
      continue;
    }
    current += char;
  }
  return { args, end: text.length };
}

function literal(expression: string | undefined): string | undefined {
  return /^'([a-z][a-z0-9_]*)'$/.exec(expression ?? '')?.[1];
}

function constant(text: string, name: string): string | undefined {
  return new RegExp(`const ${name} = '([a-z][a-z0-9_]*)'`).exec(text)?.[1];
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every problem code src/ can answer, each with the files that answer it. */
export function emittedProblemCodes(srcDir: string): Map<string, Set<string>> {
  const files = sourceFiles(srcDir).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
  const classes = new Map<string, ErrorClass>([[ROOT, { codeIndex: 1 }]]);
  const emitted = new Map<string, Set<string>>();
  const emit = (code: string | undefined, file: string) => {
    if (!code) return;
    if (!emitted.has(code)) emitted.set(code, new Set());
    emitted.get(code)!.add(path.relative(srcDir, file));
  };

  // Subclasses, parents first (repeat until no new class resolves).
  const declarations = files.flatMap(({ file, text }) =>
    [...text.matchAll(/class (\w+) extends (\w+) \{/g)].map((match) => ({
      file,
      text,
      name: match[1]!,
      parent: match[2]!,
      body: text.slice(match.index, text.indexOf('\n}\n', match.index)),
    })),
  );
  for (let changed = true; changed; ) {
    changed = false;
    for (const declaration of declarations) {
      const parent = classes.get(declaration.parent);
      if (!parent || classes.has(declaration.name)) continue;
      changed = true;
      const constructorAt = declaration.body.indexOf('constructor(');
      const superAt = declaration.body.indexOf('super(');
      if (constructorAt < 0 || superAt < 0 || parent.codeIndex === undefined) {
        classes.set(declaration.name, { ...parent });
        continue;
      }
      const params = callArguments(declaration.body, constructorAt + 'constructor'.length).args;
      const argument = callArguments(declaration.body, superAt + 'super'.length).args[parent.codeIndex];
      const named = params.findIndex((param) => param.split(/[ :=?]/)[0] === argument);
      if (argument !== undefined && named >= 0) {
        const code = literal(params[named]!.split('=')[1]?.trim());
        classes.set(declaration.name, { codeIndex: named, ...(code ? { code } : {}) });
      } else {
        const code =
          argument === undefined || argument === 'undefined'
            ? parent.code
            : (literal(argument) ?? constant(declaration.text, argument));
        classes.set(declaration.name, code ? { code } : {});
        emit(code, declaration.file);
      }
    }
  }

  for (const { file, text } of files) {
    for (const match of text.matchAll(/new (\w+)\(/g)) {
      const errorClass = classes.get(match[1]!);
      if (errorClass?.codeIndex === undefined) continue;
      const argument = callArguments(text, match.index + match[0].length - 1).args[errorClass.codeIndex];
      if (argument === undefined || argument === 'undefined') emit(errorClass.code, file);
      else if (literal(argument)) emit(literal(argument), file);
      else if (constant(text, argument)) emit(constant(text, argument), file);
      else for (const found of argument.matchAll(/'([a-z][a-z0-9_]*)'/g)) emit(found[1], file);
    }
  }
  return emitted;
}
