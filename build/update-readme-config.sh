#!/usr/bin/env bash
# Regenerates the configuration reference in README.md from `rlagents config` (the options classes).
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build experiments -c Release -v q --nologo >/dev/null
for kind in experiment pretrain; do
  dotnet experiments/bin/Release/net10.0/rlagents.dll config "$kind" > "/tmp/rlagents-config-$kind.md"
done
python3 - <<'PY'
import re
readme = open("README.md").read()
for kind in ("experiment", "pretrain"):
    body = open(f"/tmp/rlagents-config-{kind}.md").read().strip()
    readme = re.sub(rf"(<!-- config:{kind} -->\n).*?(<!-- /config:{kind} -->)", lambda m: m.group(1) + body + "\n" + m.group(2), readme, flags=re.S)
open("README.md", "w").write(readme)
PY
