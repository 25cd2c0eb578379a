// llama.cpp through node-llama-cpp's prebuilt binaries, as a peer for dspec-bench: loads a GGUF file on the CPU,
// then runs the bench's protocol (a warm-up, then the best of --runs prompt passes and greedy decodes) on the
// token ids it is given, and prints one JSON object: load time, tokens/s, the greedy tokens and peak RSS.
// Usage: node llamacpp-bench.mjs --model FILE.gguf --threads N --prompt 1,2,3 --decode 64 [--runs 3]
import { readFileSync } from "node:fs";
import { basename } from "node:path";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const args = Object.fromEntries(process.argv.slice(2).reduce((pairs, arg, i, all) =>
  arg.startsWith("--") ? [...pairs, [arg.slice(2), all[i + 1]]] : pairs, []));
for (const required of ["model", "threads", "prompt", "decode"])
  if (args[required] === undefined) fail(`--${required} is required`);
const threads = Number(args.threads), decode = Number(args.decode), runs = Number(args.runs ?? 3);
const prompt = args.prompt.split(",").map(Number);
if (!Number.isInteger(threads) || threads < 1) fail(`--threads must be a positive integer, got ${args.threads}`);
if (!Number.isInteger(decode) || decode < 1) fail(`--decode must be a positive integer, got ${args.decode}`);
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
const context = await model.createContext({ contextSize: prompt.length + decode + 8, batchSize: Math.max(prompt.length, 1), threads });
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

const status = readFileSync("/proc/self/status", "utf8");
const peakRssKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? NaN);
console.log(JSON.stringify({
  engine: "llama.cpp (node-llama-cpp " + JSON.parse(readFileSync(new URL("./node_modules/node-llama-cpp/package.json", import.meta.url))).version + ")",
  cpuVariant, model: basename(args.model), threads, promptTokens: prompt.length, decodeTokens: decode,
  loadSeconds, promptTokensPerSecond: prompt.length / bestPrompt, decodeTokensPerSecond: decode / bestDecode,
  peakRssMb: peakRssKb / 1024, tokens,
}));
await context.dispose();
await model.dispose();
await llama.dispose();
