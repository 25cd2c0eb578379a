// Encode throughput of the reference tokenizers (@lenml/tokenizers) for `dspec-bench tokenizers`.
// Usage: node bench.mjs DOCUMENTS.json NAME... ; DOCUMENTS.json is a JSON array of strings. Each tokenizer encodes
// all documents once untimed (warm-up), then `runs` timed passes; the fastest pass is reported, as on the .NET side.
// Prints one JSON object: { name: { seconds, tokens } }.
import fs from "node:fs";
import { loadReference } from "./reference.mjs";

const [documentsFile, ...names] = process.argv.slice(2);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const documents = JSON.parse(fs.readFileSync(documentsFile, "utf8"));
const result = {};
for (const name of names) {
  const tokenizer = loadReference(name);
  const pass = () => {
    let tokens = 0;
    for (const d of documents) tokens += tokenizer.encode(d, { add_special_tokens: false }).length;
    return tokens;
  };
  const tokens = pass();
  let best = Infinity;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    pass();
    best = Math.min(best, Number(process.hrtime.bigint() - start) / 1e9);
  }
  result[name] = { seconds: best, tokens };
}
console.log(JSON.stringify(result));
