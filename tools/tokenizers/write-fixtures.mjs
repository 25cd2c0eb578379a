// Writes tests/Tokenization/Conformance/*.jsonl: for every string, the ids that @lenml/tokenizers (a port of the
// transformers.js tokenizers) gives without and with special tokens, and its decode of the former with special
// tokens skipped (what TextTokenizer.Decode does). Run: npm ci && node write-fixtures.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { strings } from "./strings.mjs";
import { loadReference, referenceModels, syntheticTokenizer } from "./reference.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, "../../tests/Tokenization/Conformance");
fs.mkdirSync(outDir, { recursive: true });

// The synthetic Unigram tokenizer is small enough to check in; it covers what none of the real ones use.
const syntheticDir = path.join(outDir, "synthetic-unigram");
fs.mkdirSync(syntheticDir, { recursive: true });
const synthetic = syntheticTokenizer();
writeAtomically(path.join(syntheticDir, "tokenizer.json"), JSON.stringify(synthetic.tokenizerJSON, null, 1) + "\n");
writeAtomically(path.join(syntheticDir, "tokenizer_config.json"), JSON.stringify(synthetic.tokenizerConfig, null, 1) + "\n");

for (const name of [...Object.keys(referenceModels), "synthetic-unigram"]) {
  const tokenizer = loadReference(name, syntheticDir);
  const lines = strings.map((text) => {
    const ids = tokenizer.encode(text, { add_special_tokens: false });
    const special = tokenizer.encode(text, { add_special_tokens: true });
    // decode() refuses an empty list; the empty string is the only sensible answer there.
    const decoded = ids.length === 0 ? "" : tokenizer.decode(ids, { skip_special_tokens: true });
    return JSON.stringify({ text, ids, special, decoded });
  });
  writeAtomically(path.join(outDir, `${name}.jsonl`), lines.join("\n") + "\n");
  console.log(`${name}: ${lines.length} strings`);
}

function writeAtomically(file, content) {
  const tmp = file + ".tmp";
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
