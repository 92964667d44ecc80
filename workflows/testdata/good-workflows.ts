import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

// README's and docs' YAML blocks are fragments: a function list item or a section, shown in a workflow of its own
const BASE = 'name: docs\nlisten: [quic://127.0.0.1:9000]\ntags: { gps: 16, matched: 17, fences: 18, alerts: 19, speeding: 20, pairs: 21 }\n';
const asWorkflow = (block: string) => (/^name:/m.test(block) ? block : BASE + (block.startsWith('  - ') ? `functions:\n${block}` : block));

function yamlBlocks(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^```yaml\n([\s\S]*?)^```/gm)].map((m) => m[1]);
}

/** Every workflow the repository shows: its own, the examples, the test files that load, and the docs' YAML. */
export function goodWorkflows(): { label: string; file: string; text: string }[] {
  const files = ['workflow.yaml', ...['workflows/examples', 'workflows/testdata/good'].flatMap((d) => readdirSync(d).filter((f) => f.endsWith('.yaml')).map((f) => join(d, f)))];
  const docs = ['README.md', ...readdirSync('docs').filter((f) => f.endsWith('.md')).map((f) => join('docs', f))];
  return [
    ...files.map((file) => ({ label: file, file, text: readFileSync(file, 'utf8') })),
    ...docs.flatMap((doc) => yamlBlocks(doc).map((block, i) => ({ label: `${doc} yaml #${i + 1}`, file: 'docs.yaml', text: asWorkflow(block) }))),
  ];
}
