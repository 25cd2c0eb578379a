// llama.cpp through node-llama-cpp's prebuilt binaries, as a peer for dspec-bench: loads a GGUF file on the CPU,
// then runs the bench's protocol (a warm-up, then the best of --runs prompt passes and greedy decodes) on the
// token ids it is given, and prints one JSON object: load time, tokens/s, the greedy tokens and peak RSS.
// With --verify N it also times, after the prompt, one decode step against one pass over N positions with logits
// for each (a speculative round's verification), alternated over 22 rounds, medians of the last 20, in ms.
// Usage: node llamacpp-bench.mjs --model FILE.gguf --threads N --prompt 1,2,3 --decode 64 [--runs 3] [--verify 5]
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
for (const required of ["model", "threads", "prompt", "decode"])
  if (args[required] === undefined) fail(`--${required} is required`);
const threads = Number(args.threads), decode = Number(args.decode), runs = Number(args.runs ?? 3), verify = Number(args.verify ?? 0);
const prompt = args.prompt.split(",").map(Number);
if (!Number.isInteger(threads) || threads < 1) fail(`--threads must be a positive integer, got ${args.threads}`);
if (!Number.isInteger(decode) || decode < 1) fail(`--decode must be a positive integer, got ${args.decode}`);
if (!Number.isInteger(verify) || verify < 0) fail(`--verify must be a non-negative integer, got ${args.verify}`);
if (prompt.some(t => !Number.isInteger(t) || t < 0)) fail("--prompt must be comma-separated token ids");

function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

// The CPU variant llama.cpp picks (e.g. libggml-cpu-zen4.so) is only named in its log.
let cpuVariant = null;
const logger = (level, message) => {
  const match = /libggml-cpu-[\w-]+\.so/.exec(message);
  if (match) cpuVariant = match[0];
};

const loadStart = performance.now();
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.debug, logger });
const model = await llama.loadModel({ modelPath: args.model, gpuLayers: 0 });
const context = await model.createContext({ contextSize: prompt.length + Math.max(decode, verify) + 8, batchSize: Math.max(prompt.length, 1), threads });
const sequence = context.getSequence();
const loadSeconds = (performance.now() - loadStart) / 1000;

let bestPrompt = Infinity, bestDecode = Infinity, tokens = [];
for (let run = 0; run <= runs; run++) {
  await sequence.clearHistory();
  const generated = [];
  let start = performance.now(), promptSeconds = 0;
  for await (const token of sequence.evaluate(prompt, { temperature: 0 })) {
    if (generated.length === 0) {
      promptSeconds = (performance.now() - start) / 1000;
      start = performance.now();
    }
    generated.push(token);
    if (generated.length > decode) break;
  }
  const decodeSeconds = (performance.now() - start) / 1000;
  if (run === 0) continue;  // warm-up
  bestPrompt = Math.min(bestPrompt, promptSeconds);
  bestDecode = Math.min(bestDecode, decodeSeconds);
  tokens = generated.slice(0, decode);
}

// Logits at every position, as a verification pass needs them; only each position's largest comes back to JavaScript.
const withLogits = token => [token, { generateNext: { logits: { filter: { tokens: [], includeMax: true } } } }];
let stepMs = 0, verifyMs = 0;
if (verify > 0) {
  await sequence.clearHistory();
  await sequence.evaluateWithoutGeneratingNewTokens(prompt);
  const next = Array.from({ length: verify }, (_, i) => prompt[i % prompt.length]);
  const steps = [], verifies = [];
  for (let round = 0; round < 22; round++)
    for (const n of [1, verify]) {
      await sequence.eraseContextTokenRanges([{ start: prompt.length, end: sequence.nextTokenIndex }]);
      const start = performance.now();
      await sequence.controlledEvaluate(next.slice(0, n).map(withLogits));
      if (round >= 2) (n === 1 ? steps : verifies).push(performance.now() - start);
    }
  const median = values => {
    const sorted = [...values].sort((a, b) => a - b), mid = sorted.length >> 1;
    return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  };
  stepMs = median(steps);
  verifyMs = median(verifies);
}

const status = readFileSync("/proc/self/status", "utf8");
const peakRssKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
console.log(JSON.stringify({
  engine: "llama.cpp (node-llama-cpp " + JSON.parse(readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url))).version + ")",
  cpuVariant, model: basename(args.model), threads, promptTokens: prompt.length, decodeTokens: decode,
  loadSeconds, promptTokensPerSecond: prompt.length / bestPrompt, decodeTokensPerSecond: decode / bestDecode,
  peakRssMb: peakRssKb / 1024, tokens, verifyTokens: verify, stepMs, verifyMs,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
