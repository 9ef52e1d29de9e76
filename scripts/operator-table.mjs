// Writes the importer's operator table (host/onnx/operators.ts) into README.md between
// <!-- ops:begin --> and <!-- ops:end -->; test/host/onnx/operators.test.ts checks that
// the two agree. Usage: node scripts/operator-table.mjs
import { readFileSync, writeFileSync } from 'node:fs';
import { register } from 'tsx/esm/api';

register();
const { operatorTable } = await import('../host/onnx/operators.ts');
const readme = new URL('../README.md', import.meta.url);
const text = readFileSync(readme, 'utf8');
const marked = /(<!-- ops:begin -->\n)[\s\S]*?(\n<!-- ops:end -->)/;
if (!marked.test(text)) {
  console.error('operator-table: README.md has no <!-- ops:begin --> ... <!-- ops:end --> markers');
  process.exit(1);
}
writeFileSync(
  readme,
  text.replace(marked, (_, begin, end) => `${begin}${operatorTable()}${end}`),
);
