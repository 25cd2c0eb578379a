// Writes engine/Tokenization/UnicodeNormalization.txt, the tables TextTokenizer needs for NFC/NFD/NFKC/NFKD:
// the .NET build runs with InvariantGlobalization, where string.Normalize is not available. The tables are
// taken from this Node's own String.prototype.normalize (the reference tokenizers' Unicode version), so both
// sides normalize alike. Run: node write-unicode-data.mjs
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const out = path.join(here, "../../engine/Tokenization/UnicodeNormalization.txt");

// One long-assigned, non-decomposable mark for every canonical combining class (from UnicodeData.txt).
// A code point's class is found by where canonical reordering puts it relative to these marks.
const marks = [[1, 0x334], [6, 0x16ff0], [7, 0x93c], [8, 0x3099], [9, 0x94d], [10, 0x5b0], [11, 0x5b1], [12, 0x5b2],
  [13, 0x5b3], [14, 0x5b4], [15, 0x5b5], [16, 0x5b6], [17, 0x5b7], [18, 0x5b8], [19, 0x5b9], [20, 0x5bb], [21, 0x5bc],
  [22, 0x5bd], [23, 0x5bf], [24, 0x5c1], [25, 0x5c2], [26, 0xfb1e], [27, 0x64b], [28, 0x64c], [29, 0x64d], [30, 0x618],
  [31, 0x619], [32, 0x61a], [33, 0x651], [34, 0x652], [35, 0x670], [36, 0x711], [84, 0xc55], [91, 0xc56], [103, 0xe38],
  [107, 0xe48], [118, 0xeb8], [122, 0xec8], [129, 0xf71], [130, 0xf72], [132, 0xf74], [202, 0x321], [214, 0x1dce],
  [216, 0x31b], [218, 0x1dfa], [220, 0x316], [222, 0x59a], [224, 0x302e], [226, 0x1d16d], [228, 0x5ae], [230, 0x300],
  [232, 0x315], [233, 0x35c], [234, 0x35d], [240, 0x345]];
const ch = String.fromCodePoint;
const hex = (s) => [...s].map((c) => c.codePointAt(0).toString(16).toUpperCase().padStart(4, "0")).join(" ");
// X followed by a mark of class r is reordered iff ccc(X) > r > 0.
const above = (x, r) => [...(x + ch(r)).normalize("NFD")][0] !== x;

const lines = [];
for (let cp = 0; cp <= 0x10ffff; cp++) {
  // Surrogates are not characters; Hangul syllables decompose and compose by arithmetic instead.
  if ((cp >= 0xd800 && cp <= 0xdfff) || (cp >= 0xac00 && cp <= 0xd7a3)) continue;
  const c = ch(cp);
  const nfd = c.normalize("NFD"), nfkd = c.normalize("NFKD");
  if (nfd !== c) lines.push(`d ${hex(c)} ${hex(nfd)}`);
  if (nfkd !== nfd) lines.push(`k ${hex(c)} ${hex(nfkd)}`);
  if (nfd === c) {
    const nonZero = above(c, 0x334) || [...(ch(0x300) + c).normalize("NFD")][0] === c;
    if (nonZero) {
      let ccc = 255;
      for (const [value, mark] of marks) if (!above(c, mark)) { ccc = value; break; }
      lines.push(`c ${hex(c)} ${ccc}`);
    }
  } else if (c.normalize("NFC") === c) {
    // A primary composite: it survives NFC. Its pair is (NFC of all but the last decomposed char, that char).
    const d = [...nfd];
    const left = d.slice(0, -1).join("").normalize("NFC"), right = d.at(-1);
    if ([...left].length !== 1 || (left + right).normalize("NFC") !== c) throw new Error(`no pair for ${hex(c)}`);
    lines.push(`p ${hex(left)} ${hex(right)} ${hex(c)}`);
  }
}
fs.writeFileSync(out + ".tmp", `# Unicode ${process.versions.unicode} normalization tables from Node ${process.version} (tools/tokenizers/write-unicode-data.mjs)\n` + lines.join("\n") + "\n");
fs.renameSync(out + ".tmp", out);
console.log(`${lines.length} lines -> ${out}`);
