// The suite's closing line from vitest's JSON report: "N passed, N failed, N skipped".
// A test file that failed outside any test (its beforeAll threw, its module did not load) shows
// its tests as skipped, or has none: each such file counts as one failure, and is named, so a
// broken set-up never reads as a green run with skips. Exit 1 when anything failed.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const brokenFiles = report.testResults.filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((t) => t.status === 'failed'),
);
const failed = report.numFailedTests + brokenFiles.length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed, ${skipped} skipped`);
for (const file of brokenFiles) {
  const why = (file.message || 'failed outside any test').split('\n')[0];
  console.log(`  failed in set-up: ${file.name}: ${why}`);
}
process.exit(failed > 0 ? 1 : 0);
