// Writes Hugging Face's ids for bpe-reference.json: its `texts` encoded, and its `preTokenize` strings split,
// by Hugging Face's own tokenizers (the `tokenizers` npm package, Rust core) loading the tokenizer.json that
// RLAgents wrote after training on the file's `corpus`. ByteLevelBpeTokenizerReferenceTests writes that
// tokenizer into its output folder and compares RLAgents' ids and pieces with these.
//
//   dotnet test tests/RLAgents.LanguageModel.Tests -c Release --filter ByteLevelBpeTokenizerReferenceTests
//   npm install tokenizers@0.23.2
//   node make-bpe-reference.mjs tests/RLAgents.LanguageModel.Tests/bin/Release/net10.0/bpe-reference-tokenizer
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Tokenizer, byteLevelPreTokenizer } = require("tokenizers");
const here = fileURLToPath(new URL(".", import.meta.url));
const dir = process.argv[2];
if (!dir) throw new Error("usage: node make-bpe-reference.mjs <folder with RLAgents' tokenizer.json>");

const tokenizerJson = readFileSync(`${dir}/tokenizer.json`);
const tokenizer = Tokenizer.fromString(tokenizerJson.toString("utf8"));
const file = `${here}bpe-reference.json`;
const doc = JSON.parse(readFileSync(file, "utf8"));
for (const item of doc.items) {
  const encoding = await tokenizer.encode(item.text);
  item.ids = encoding.getIds();
  item.tokens = encoding.getTokens();
  item.decoded = await tokenizer.decode(item.ids, false);
}
// GPT-2's pre-tokenizer alone: pieces in the byte-symbol spelling.
const pre = byteLevelPreTokenizer(false, true);
doc.preTokenized = doc.preTokenize.map(text => pre.preTokenizeString(text).map(([piece]) => piece));
doc.tokenizerSha256 = createHash("sha256").update(tokenizerJson).digest("hex");
doc.generator = `tokenizers ${require("tokenizers/package.json").version} (npm)`;
writeFileSync(file, JSON.stringify(doc, null, 1) + "\n");
console.log(`${doc.items.length} texts written to ${file}`);
