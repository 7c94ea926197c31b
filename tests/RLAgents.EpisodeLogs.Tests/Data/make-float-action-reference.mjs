// Reads the float actions of a Pendulum-v1 episode log with readers that know nothing of RLAgents —
// apache-arrow (the JS Arrow implementation) on the .arrows stream, hyparquet on its Parquet export —
// and writes float-action-reference.json: per reader, the float32 bits (hex) of action_continuous,
// step after step. FloatActionLogTests records the same episodes and compares its actions with these.
//
//   rlagents record --env Pendulum-v1 --policy random --episodes 2 --seed 7 --out pendulum.arrows
//   rlagents episodes export pendulum.arrows --format parquet --out pendulum.parquet
//   npm install apache-arrow@21.2.0 hyparquet@1.31.5
//   node make-float-action-reference.mjs pendulum.arrows pendulum.parquet
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { tableFromIPC } = require("apache-arrow");
const { parquetReadObjects } = await import("hyparquet");
const here = fileURLToPath(new URL(".", import.meta.url));
const [arrowPath, parquetPath] = process.argv.slice(2);
if (!arrowPath || !parquetPath) throw new Error("usage: node make-float-action-reference.mjs <log.arrows> <log.parquet>");

const bits = (x) => {
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, x, true);
  return view.getUint32(0, true).toString(16).padStart(8, "0");
};

// Arrow: one row per observation; the last row of an episode has a null action.
const table = tableFromIPC(readFileSync(arrowPath));
const arrow = [];
for (const row of table) {
  const a = row.action_continuous;
  if (a === null) continue;
  if (row.action !== null) throw new Error("a Box log's integer action column must be null");
  for (const x of a.toArray()) arrow.push(bits(x));
}

// Parquet: the floats spread over action_continuous_0 … (float32 columns; JS reads them as doubles, exactly).
const file = readFileSync(parquetPath);
const buffer = file.buffer.slice(file.byteOffset, file.byteOffset + file.byteLength);
const rows = await parquetReadObjects({ file: buffer });
const parquet = [];
for (const row of rows) {
  if (row.action_continuous_0 === null || row.action_continuous_0 === undefined) continue;
  for (let i = 0; `action_continuous_${i}` in row; i++) parquet.push(bits(row[`action_continuous_${i}`]));
}

const metadata = table.schema.metadata;
writeFileSync(here + "float-action-reference.json", JSON.stringify({
  env: metadata.get("rlagents.env_id"),
  actionSpace: metadata.get("rlagents.action_space"),
  actionFloats: Number(metadata.get("rlagents.action_floats")),
  formatVersion: Number(metadata.get("rlagents.format_version")),
  episodes: 2,
  seed: 7,
  readers: { "apache-arrow@21.2.0": arrow, "hyparquet@1.31.5": parquet },
}, null, 1) + "\n");
console.log(`wrote ${arrow.length} / ${parquet.length} action floats`);
