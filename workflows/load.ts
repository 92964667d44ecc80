import { readdirSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, visit, type Document, type Node } from 'yaml';
import { checkShape, type Issue } from '../codecs/shape-check.ts';
import { checkWorkflow, type Problem } from './check.ts';
import { substituteEnv } from './env.ts';
import { closest, describeValue, didYouMean, expectedOneOf, formatPath, WorkflowError } from './errors.ts';
import { keysAt, workflowSchema, type Workflow } from './schema.ts';

type Env = Record<string, string | undefined>;
type Path = (string | number)[];

/** the workflow files in the folder a missing one was looked for in */
function workflowsBeside(file: string): string[] {
  try {
    return readdirSync(dirname(resolve(file))).filter((f) => /\.ya?ml$/.test(f));
  } catch {
    return [];
  }
}

/** Reads, substitutes, validates and normalises a workflow file; throws WorkflowError naming file:line:col and field. */
export async function loadWorkflow(file: string, env: Env = process.env): Promise<Workflow> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new WorkflowError(file, 1, 1, '(file)', `cannot read: ${code ?? (e as Error).message}${code === 'ENOENT' ? didYouMean(basename(file), workflowsBeside(file)) : ''}`);
  }
  return parseWorkflow(text, file, env);
}

export function parseWorkflow(text: string, file: string, env: Env = process.env): Workflow {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number, path: string, reason: string) => {
    const { line, col } = lc.linePos(offset);
    return new WorkflowError(file, line, col, path, reason);
  };
  if (doc.errors.length) {
    const e = doc.errors[0];
    // the library's own wording here is advice to programmers ("please use YAML.parseAllDocuments()")
    const reason = e.code === 'MULTIPLE_DOCS' ? 'a workflow file holds one document (remove the "---" and what follows)' : e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
    throw at(e.pos[0], '(yaml)', reason + unquotedVariableHint(text, e.pos[0]));
  }
  if (!isMap(doc.contents)) throw at(0, '(root)', 'a workflow is a map of fields (name, listen, tags, functions, ...)');
  const unset: Problem[] = [];
  substituteScalars(doc.contents, [], env, unset);

  const located = (p: Problem) => ({ ...p, offset: offsetOf(doc, p.path, p.at ?? 'key') });
  const first = (problems: Problem[]) => {
    if (!problems.length) return;
    // a misspelt field explains what is missing for want of it (`param:` leaves a kernel's params unset), and
    // the missing one points at its parent, earlier in the file: it is not said over the misspelling
    const misspeltUnder = problems.filter((q) => q.reason.startsWith('unknown field')).map((q) => q.path.slice(0, -1));
    const explained = (q: Problem) => / is missing( \(|$)/.test(q.reason) && misspeltUnder.some((parent) => parent.every((seg, i) => q.path[i] === seg));
    const p = problems.filter((q) => !explained(q)).map(located).sort((a, b) => a.offset - b.offset)[0];
    throw at(p.offset, formatPath(p.path), p.reason);
  };

  const js = toJS(doc, at);
  const parsed = checkShape(workflowSchema, js);
  // listed first so that, at the same place, the unset variable is named rather than the empty value it left
  first([...unset, ...parsed.issues.flatMap((i) => problemsOf(i, js))]);
  // meaning (tags exist, no loops) needs the whole shape right, so a shape error later in the file is still
  // reported before a meaning error earlier in it
  const dir = dirname(resolve(file));
  const { workflow, problems } = checkWorkflow(parsed.value, dir);
  first(problems);
  const wf: Workflow = { ...workflow, file: resolve(file), dir };
  locators.set(wf, (path) => lc.linePos(offsetOf(doc, path, 'value')));
  return wf;
}

/**
 * The README's `${VAR:-x}` unquoted inside a flow map or list (`control: { token: ${X:-y} }`): YAML reads its
 * `{` as a flow map's start and says only `Unexpected flow-map-start at node end`. On the failing line, the
 * hint says how to write it, with the line's own key and variable.
 */
function unquotedVariableHint(text: string, offset: number): string {
  const start = text.lastIndexOf('\n', offset - 1) + 1;
  const end = text.indexOf('\n', offset);
  const line = text.slice(start, end === -1 ? undefined : end);
  const at = line.indexOf('${');
  const close = line.indexOf('}', at);
  if (at === -1 || close === -1) return '';
  // the flow item holding it: from the "[", "{" or "," before it to the "]", "}" or "," after it
  const from = Math.max(line.lastIndexOf('[', at), line.lastIndexOf('{', at), line.lastIndexOf(',', at)) + 1;
  const item = (line.slice(from, close + 1) + /^[^\]},]*/.exec(line.slice(close + 1))![0]).trim();
  const pair = /^([\w-]+):\s+(.+)$/.exec(item);
  // quoted already: the error is another one
  if (/^["']/.test(pair ? pair[2] : item)) return '';
  return ` (quote a \${VAR:-default} inside { } or [ ]: ${pair ? `${pair[1]}: "${pair[2]}"` : `"${item}"`})`;
}

/** Where each loaded workflow's fields are in its file, for errors found after loading (a function that cannot start). */
const locators = new WeakMap<Workflow, (path: Path) => { line: number; col: number }>();

/** An error about a field of a loaded workflow, named by file, line, column and field like the loader's own. */
export function fieldError(wf: Workflow, path: Path, reason: string): Error {
  const at = locators.get(wf);
  if (!at) return new Error(`${wf.file} ${formatPath(path)}: ${reason}`);
  const { line, col } = at(path);
  return new WorkflowError(wf.file, line, col, formatPath(path), reason);
}

/** The document as plain data; the one thing that can still fail here is an alias, so point at it. */
function toJS(doc: Document, at: (offset: number, path: string, reason: string) => WorkflowError): unknown {
  try {
    return doc.toJS();
  } catch (e) {
    let alias: Node | undefined;
    visit(doc, {
      Alias(_, node) {
        if (node.resolve(doc)) return;
        alias = node;
        return visit.BREAK;
      },
    });
    throw at(alias?.range?.[0] ?? 0, '(yaml)', (e as Error).message);
  }
}

/** Replaces ${VAR} in every scalar value (not keys), in place, so node positions stay the file's. */
function substituteScalars(node: unknown, path: Path, env: Env, unset: Problem[]): void {
  if (isMap(node)) {
    for (const pair of node.items) substituteScalars(pair.value, [...path, String(isScalar(pair.key) ? pair.key.value : pair.key)], env, unset);
  } else if (isSeq(node)) {
    node.items.forEach((item, i) => substituteScalars(item, [...path, i], env, unset));
  } else if (isScalar(node) && typeof node.value === 'string') {
    const r = substituteEnv(node.value, env);
    if (typeof r === 'string') node.value = r;
    else unset.push({ path, reason: `environment variable ${r.missing} is not set (use \${${r.missing}:-default} for a default)`, at: 'value' });
  }
}

const EXPECTED: Record<string, string> = { array: 'a list', object: 'a map', record: 'a map', string: 'a string', number: 'a number', int: 'a whole number' };

/** what a field that takes one of several forms takes, in the file's words */
const FORMS: Record<string, string> = {
  observe: 'a tag name or a list of tag names',
  emit: 'a tag name or a list of tag names',
  dispatch: '"balance" or { partition: <metadata key> }',
  metrics: 'false or { host, port } with a port 0–65535',
  dashboard: 'false or { host, port, mqtt }',
  ws: 'a port 0–65535, or false for none',
  protocol: '"3.1.1" or 5',
  nats: 'a NATS server URL (nats://host[:port] or tls://host[:port]) or a list of them',
};

const valueAt = (root: unknown, path: Path): unknown => path.reduce<any>((v, k) => (v == null ? undefined : v[k]), root);

/** An issue with the shape (in zod's terms), in the words of this file's readers. */
function problemsOf(issue: Issue, root: unknown): Problem[] {
  const { path, input } = issue;
  if ((issue.code === 'invalid_type' || issue.code === 'invalid_union') && input === undefined) {
    // a missing field is most often a misspelt one: point at the misspelling
    const parent = valueAt(root, path.slice(0, -1));
    const want = String(path.at(-1));
    const known = keysAt(path.slice(0, -1));
    const typo = parent && typeof parent === 'object' ? Object.keys(parent).find((k) => !known.includes(k) && closest(k, [want])) : undefined;
    if (typo) return [{ path: [...path.slice(0, -1), typo], reason: `unknown field (did you mean "${want}"?)` }];
    return [{ path, reason: 'required field is missing' }];
  }
  switch (issue.code) {
    case 'unrecognized_keys':
      return issue.keys.map((k) => ({ path: [...path, k], reason: `unknown field${didYouMean(k, keysAt(path))}` }));
    case 'invalid_type':
      return [{ path, reason: `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${describeValue(input)}`, at: 'value' }];
    case 'invalid_union':
      return [{ path, reason: `expected ${FORMS[String(path.at(-1))] ?? 'one of the forms this field takes'}`, at: 'value' }];
    case 'invalid_value':
      return [{ path, reason: expectedOneOf(issue.values, input), at: 'value' }];
    case 'too_small': {
      // a schema's own message ("needs at least one address") says it better than zod's "Too small: ..."
      const own = !issue.message.startsWith('Too small');
      const reason = own ? issue.message : issue.origin === 'array' || issue.origin === 'string' ? 'must not be empty' : `must be ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
      return [{ path, reason, at: 'value' }];
    }
    case 'too_big':
      return [{ path, reason: issue.message.startsWith('Too big') ? `must be at most ${issue.maximum}` : issue.message, at: 'value' }];
    default:
      return [{ path, reason: issue.message, at: 'value' }];
  }
}

/**
 * Where to point for a path: the key of a map entry (`at: 'key'`) or its value, the item of a list; for a
 * path that does not exist (a missing field), the nearest map or list that does.
 */
function offsetOf(doc: Document, path: Path, at: 'key' | 'value'): number {
  let node: unknown = doc.contents;
  let offset = (doc.contents as Node).range?.[0] ?? 0;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    const last = i === path.length - 1;
    if (isMap(node)) {
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return offset;
      const keyStart = (pair.key as Node).range![0];
      node = pair.value;
      offset = last && at === 'key' ? keyStart : ((node as Node | null)?.range?.[0] ?? keyStart);
    } else if (isSeq(node) && typeof seg === 'number' && node.items[seg]) {
      node = node.items[seg];
      offset = (node as Node).range![0];
    } else return offset;
  }
  return offset;
}

