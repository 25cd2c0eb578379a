// Writes tests/Tokenization/Conformance/*.jsonl: for every string, the ids that @lenml/tokenizers (a port of the
// transformers.js tokenizers) gives without and with special tokens, and its decode of the former with special
// tokens skipped (what TextTokenizer.Decode does). Run: npm ci && node write-fixtures.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { strings } from "./strings.mjs";
import { loadReference, referenceModels, syntheticTokenizers } from "./reference.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, "../../tests/Tokenization/Conformance");
fs.mkdirSync(outDir, { recursive: true });

// The synthetic tokenizers are small enough to check in; they cover what none of the real ones use.
for (const [name, make] of Object.entries(syntheticTokenizers)) {
  const dir = path.join(outDir, name);
  fs.mkdirSync(dir, { recursive: true });
  const { tokenizerJSON, tokenizerConfig } = make();
  writeAtomically(path.join(dir, "tokenizer.json"), JSON.stringify(tokenizerJSON, null, 1) + "\n");
  writeAtomically(path.join(dir, "tokenizer_config.json"), JSON.stringify(tokenizerConfig, null, 1) + "\n");
}

for (const name of [...Object.keys(referenceModels), ...Object.keys(syntheticTokenizers)]) {
  const tokenizer = loadReference(name, outDir);
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

// The normalization forms of every string (and of some that stress reordering and Hangul), for UnicodeNormalization.
const forms = ["NFC", "NFD", "NFKC", "NFKD"];
const extra = ["\u1100\u1161", "\uAC00\u11A8", "\u1100\u1161\u11A8\u0301", "a\u0323\u0302", "a\u0302\u0323", "\u0061\u0315\u0300\u05AE\u0300\u0062",
  "\u00C5\u0327", "\u1E0B\u0323", "\u0344", "\u0F73", "\u2ADC", "\uFB2C", "\u0958", "\u1D15E", "\u{1D15E}\u{1D165}", "\u{2F800}", "\u0B47\u0B3E", "\u3131\u314F"];
const normalizationLines = [...strings, ...extra].map((text) => JSON.stringify({ text, ...Object.fromEntries(forms.map((f) => [f, text.normalize(f)])) }));
writeAtomically(path.join(outDir, "unicode-normalization.jsonl"), normalizationLines.join("\n") + "\n");
console.log(`unicode-normalization: ${normalizationLines.length} strings (Unicode ${process.versions.unicode})`);

function writeAtomically(file, content) {
  const tmp = file + ".tmp";
  fs.writeFileSync(tmp, content);
  fs.renameSync(tmp, file);
}
