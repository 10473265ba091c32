// Prints the closing line that CI reads, alone and last:
// `N passed, N failed`, with `, N skipped` when some were.
// Exits non-zero when the run failed, so .ci/run fails with it. Under
// CI=true a skipped test counts as failed too: CI must run every test.
import { readFileSync } from 'node:fs';

const resultsPath = process.argv[2] ?? '.vitest-results.json';

let results;
try {
  results = JSON.parse(readFileSync(resultsPath, 'utf8'));
} catch (error) {
  console.log(`!! vitest wrote no results to ${resultsPath}: ${error.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

const passed = results.numPassedTests;
const skipped = results.numPendingTests + results.numTodoTests;
let failed = results.numFailedTests;
// A test file that fails to load fails no test, yet fails the run: count it so the line says so.
if (!results.success && failed === 0) {
  console.log('!! vitest failed outside any test (a file that did not load, or an error between tests)');
  failed = 1;
}
if (process.env.CI === 'true' && skipped > 0) {
  console.log(`!! ${skipped} test(s) skipped under CI=true, counted as failed: CI must run every test`);
  failed += skipped;
}
console.log(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}`);
process.exit(failed > 0 ? 1 : 0);
