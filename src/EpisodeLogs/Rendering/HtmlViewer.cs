using System.Text;
using System.Text.Json;
using RLAgents.Environments;

namespace RLAgents.EpisodeLogs.Rendering;

/// <summary>
/// Writes a self-contained offline HTML viewer of one episode: every frame as a PNG data URI (the
/// environment's picture, and under it each logged pixel-image modality as the agent saw it), the
/// text modalities (mission, description) per step, action, reward, flags, action probabilities
/// (bars) and value per step, a step slider, previous/next and play/pause buttons, ←/→/space keys.
/// The page opens at <c>#step=N</c> when given and starts playing with <c>?autoplay=1</c>. The
/// current step is mirrored in <c>document.body.dataset.step</c> for scripted checks.
/// </summary>
public static class HtmlViewer
{
    /// <summary>The viewer's HTML.</summary>
    public static string Build(RenderedEpisode r, int frameDelayMs = 300)
    {
        var e = r.Episode;
        var steps = new List<object>();
        for (int t = 0; t <= e.Length; t++)
        {
            var texts = e.Observations.Where(o => o.Layout.Storage == ModalityStorage.Text && o.HasValues)
                .ToDictionary(o => o.Layout.Name, o => o.Texts![t]);
            bool step = t < e.Length;
            steps.Add(new
            {
                t,
                action = step ? e.Actions[t] : (int?)null,
                actionName = step && e.Actions[t] < r.ActionNames.Count ? r.ActionNames[e.Actions[t]] : null,
                // A Box action: its floats, shown rounded with the exact (round-trip) digits on hover.
                continuous = step && e.ActionFloats > 0 ? e.ContinuousActionAt(t).ToArray() : null,
                continuousText = step && e.ActionFloats > 0 ? e.DescribeAction(t) : null,
                reward = step ? e.Rewards[t] : (double?)null,
                terminated = step && e.Terminated[t],
                truncated = step && e.Truncated[t],
                value = step ? e.Values[t] : null,
                probs = step ? e.ActionProbabilities[t] : null,
                texts,
                ascii = r.Ascii[t],
            });
        }
        var data = new
        {
            title = $"{r.Header.EnvId} — episode {e.Index}",
            env = r.Header.EnvId,
            episode = e.Index,
            // A string: JSON.parse reads numbers as doubles, which round seeds beyond 2^53 (a rounded seed replays another episode).
            seed = e.Seed?.ToString(System.Globalization.CultureInfo.InvariantCulture),
            phase = e.Phase,
            checkpoint = e.CheckpointId,
            ret = e.Return,
            length = e.Length,
            success = e.Success,
            actionNames = r.ActionNames,
            delay = frameDelayMs,
            frames = r.Frames.Select(DataUri).ToArray(),
            pictures = r.Pictures.Select(p => new { name = p.Modality, frames = p.Frames.Select(DataUri).ToArray() }).ToArray(),
            steps,
        };
        // The default encoder escapes <, > and & so the JSON cannot close the script element.
        string json = JsonSerializer.Serialize(data);
        var sb = new StringBuilder(Template.Length + json.Length);
        sb.Append(Template.Replace("__DATA__", json, StringComparison.Ordinal).Replace("__TITLE__", System.Net.WebUtility.HtmlEncode(data.title), StringComparison.Ordinal));
        return sb.ToString();
    }

    private static string DataUri(RgbFrame frame) => "data:image/png;base64," + Convert.ToBase64String(PngEncoder.Encode(frame));

    /// <summary>Writes the viewer to <paramref name="path"/>.</summary>
    public static void Write(string path, RenderedEpisode r, int frameDelayMs = 300) =>
        File.WriteAllText(path, Build(r, frameDelayMs), new UTF8Encoding(false));

    private const string Template = """
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>__TITLE__</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 16px; background: #fafafa; color: #222; }
  h1 { font-size: 18px; margin: 0 0 8px; }
  #meta { font-size: 13px; color: #555; margin-bottom: 8px; }
  #main { display: flex; gap: 16px; align-items: flex-start; }
  #frame { image-rendering: pixelated; border: 1px solid #ccc; background: #fff; min-width: 320px; max-width: 560px; }
  img.picture { image-rendering: pixelated; border: 1px solid #ccc; margin-top: 4px; max-width: 560px; }
  #side { min-width: 320px; font-size: 14px; }
  #controls { margin: 10px 0; display: flex; gap: 8px; align-items: center; }
  #slider { width: 360px; }
  .bar { display: flex; align-items: center; gap: 6px; margin: 2px 0; font-size: 12px; }
  .bar span.name { width: 80px; text-align: right; }
  .bar div.fill { height: 12px; background: #4a7bd1; }
  .bar.taken span.name { font-weight: bold; }
  pre { background: #fff; border: 1px solid #ddd; padding: 6px; font-size: 12px; max-height: 320px; overflow: auto; }
  .label { color: #666; }
</style>
</head>
<body>
<h1 id="title"></h1>
<div id="meta"></div>
<div id="controls">
  <button id="prev" title="previous (←)">◀</button>
  <button id="play" title="play / pause (space)">play</button>
  <button id="next" title="next (→)">▶</button>
  <input id="slider" type="range" min="0" value="0">
  <span id="step-label"></span>
</div>
<div id="main">
  <div><img id="frame" alt="frame"><div id="pictures"></div><pre id="ascii"></pre></div>
  <div id="side">
    <div><span class="label">action:</span> <span id="action"></span></div>
    <div><span class="label">reward:</span> <span id="reward"></span> <span id="flags"></span></div>
    <div><span class="label">value:</span> <span id="value"></span></div>
    <div class="label">action probabilities:</div>
    <div id="probs"></div>
    <div id="texts"></div>
  </div>
</div>
<script type="application/json" id="data">__DATA__</script>
<script>
(function () {
  const data = JSON.parse(document.getElementById('data').textContent);
  const last = data.steps.length - 1;
  const $ = id => document.getElementById(id);
  const slider = $('slider');
  slider.max = last;
  $('title').textContent = data.title;
  $('meta').textContent = `seed ${data.seed ?? '-'} · phase ${data.phase ?? '-'} · checkpoint ${data.checkpoint ?? '-'} · return ${data.ret} · length ${data.length}` +
    (data.success === null ? '' : data.success ? ' · success' : ' · failure');
  if (data.frames.length === 0) $('frame').style.display = 'none';
  const pictures = data.pictures.map(p => {
    const box = document.createElement('div');
    const label = document.createElement('div'); label.className = 'label'; label.textContent = `observation ${p.name}:`;
    const img = document.createElement('img'); img.className = 'picture'; img.alt = p.name;
    box.append(label, img);
    $('pictures').append(box);
    return { img, frames: p.frames };
  });
  let step = 0, timer = null;
  function show(t) {
    step = Math.max(0, Math.min(last, t));
    const s = data.steps[step];
    if (data.frames.length) $('frame').src = data.frames[step];
    pictures.forEach(p => { p.img.src = p.frames[step]; });
    slider.value = step;
    $('step-label').textContent = `step ${step} / ${last}`;
    $('ascii').textContent = s.ascii;
    $('action').textContent = s.action === null ? '(episode end)'
      : s.continuous ? '[' + s.continuous.map(v => v.toFixed(4)).join(', ') + ']'
      : `${s.actionName ?? s.action} (${s.action})`;
    $('action').title = s.continuousText ?? '';
    $('reward').textContent = s.reward === null ? '-' : s.reward;
    $('flags').textContent = (s.terminated ? 'terminated ' : '') + (s.truncated ? 'truncated' : '');
    $('value').textContent = s.value === null ? '-' : s.value.toFixed(4);
    const probs = $('probs');
    probs.innerHTML = '';
    (s.probs ?? []).forEach((p, a) => {
      const row = document.createElement('div');
      row.className = 'bar' + (a === s.action ? ' taken' : '');
      const name = document.createElement('span'); name.className = 'name'; name.textContent = data.actionNames[a] ?? a;
      const fill = document.createElement('div'); fill.className = 'fill'; fill.style.width = (p * 200) + 'px';
      const num = document.createElement('span'); num.textContent = p.toFixed(3);
      row.append(name, fill, num);
      probs.append(row);
    });
    const texts = $('texts');
    texts.innerHTML = '';
    for (const [k, v] of Object.entries(s.texts)) {
      const d = document.createElement('div');
      d.id = 'text-' + k;
      const l = document.createElement('div'); l.className = 'label'; l.textContent = k + ':';
      const p = document.createElement('div'); p.textContent = v;
      d.append(l, p);
      texts.append(d);
    }
    document.body.dataset.step = String(step);
  }
  function play() {
    if (timer) return;
    if (step >= last) show(0);
    $('play').textContent = 'pause';
    document.body.dataset.playing = 'true';
    timer = setInterval(() => { if (step >= last) pause(); else show(step + 1); }, data.delay);
  }
  function pause() {
    clearInterval(timer); timer = null;
    $('play').textContent = 'play';
    document.body.dataset.playing = 'false';
  }
  $('play').addEventListener('click', () => timer ? pause() : play());
  $('prev').addEventListener('click', () => { pause(); show(step - 1); });
  $('next').addEventListener('click', () => { pause(); show(step + 1); });
  slider.addEventListener('input', () => { pause(); show(parseInt(slider.value, 10)); });
  document.addEventListener('keydown', ev => {
    if (ev.key === 'ArrowLeft') { pause(); show(step - 1); }
    else if (ev.key === 'ArrowRight') { pause(); show(step + 1); }
    else if (ev.key === ' ') { ev.preventDefault(); timer ? pause() : play(); }
  });
  const m = /step=(\d+)/.exec(location.hash);
  show(m ? parseInt(m[1], 10) : 0);
  document.body.dataset.playing = 'false';
  if (new URLSearchParams(location.search).get('autoplay') === '1') play();
})();
</script>
</body>
</html>
""";
}
