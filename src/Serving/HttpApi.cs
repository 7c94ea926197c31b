using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using RLAgents.Environments;

namespace RLAgents.Serving;

/// <summary>
/// The HTTP/JSON endpoints:
/// <list type="bullet">
/// <item><c>POST /v1/act</c>: <c>{"observation": {"&lt;modality&gt;": value}}</c> → <c>{"action": a}</c>, or
/// <c>{"observations": [{…}, …]}</c> → <c>{"actions": […]}</c>; optional <c>"sample": true</c> with <c>"seed": n</c>,
/// <c>"probabilities": true</c>, <c>"value": true</c>. Box values are numbers or nested arrays in the modality's
/// shape (or flat), discrete values integers, text strings. A recurrent policy's answer carries <c>"memory"</c> (a batch's:
/// <c>"memories"</c>), H numbers per observation, which the next request of the same episode sends back; left out (or null
/// for one observation of a batch) it starts an episode. A bad request gets 400 and <c>{"error": "…"}</c>.</item>
/// <item><c>GET /v1/spaces</c>: the policy's spaces, outputs and text encodings.</item>
/// <item><c>GET /healthz</c> (the process answers), <c>GET /readyz</c> (the model is loaded and warm, the server is not stopping).</item>
/// </list>
/// </summary>
internal static class HttpApi
{
    private static readonly string[] Fields = ["observation", "observations", "memory", "memories", "sample", "seed", "probabilities", "value"];

    public static void Map(WebApplication app)
    {
        app.MapPost("/v1/act", Act);
        app.MapGet("/v1/spaces", (ActionService service) => Results.Text(SpacesDocument(service).ToJsonString(), "application/json"));
        app.MapGet("/healthz", () => Results.Text("ok\n"));
        app.MapGet("/readyz", (IHostApplicationLifetime lifetime) =>
            lifetime.ApplicationStopping.IsCancellationRequested ? Results.Text("stopping\n", statusCode: 503) : Results.Text("ready\n"));
    }

    /// <summary>The policy's description, as <c>/v1/spaces</c> and the gRPC <c>GetSpaces</c> return it.</summary>
    public static JsonObject SpacesDocument(ActionService service)
    {
        var info = service.Info;
        return new JsonObject
        {
            ["policy"] = info.IsQNetwork ? "q_network" : "actor_critic",
            ["backend"] = service.Backend.ToString().ToLowerInvariant(),
            ["observation_space"] = SpaceJson.Write(info.ObservationSpace),
            ["action_space"] = SpaceJson.Write(info.ActionSpace),
            ["outputs"] = info.ValueOutput is { } v ? new JsonArray(info.PreferencesOutput, v) : new JsonArray(info.PreferencesOutput),
            ["memory_size"] = info.MemorySize,
            ["checkpoint"] = info.Checkpoint,
            ["step"] = info.Step,
        };
    }

    private static async Task Act(HttpContext context, ActionService service, ServingMetrics metrics, PolicyServerOptions options, ILoggerFactory logs)
    {
        long start = Stopwatch.GetTimestamp();
        int count = 0;
        try
        {
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, cancellationToken: context.RequestAborted);
            }
            catch (JsonException e)
            {
                throw new BadRequestException($"the request body is not JSON: {e.Message.Split(" LineNumber")[0].TrimEnd('.')} (line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1})");
            }
            using (document)
            {
                var (observations, batch, act, memory) = Read(document.RootElement, service.Info.ObservationSpace, options.MaxRequestObservations, service.Info.MemorySize);
                count = observations.Count;
                var outcome = await service.ActAsync(observations, count, act, memory);
                context.Response.ContentType = "application/json";
                await using var writer = new Utf8JsonWriter(context.Response.Body);
                Write(writer, outcome, batch, service.Info.ActionSpace.N);
                await writer.FlushAsync();
            }
            metrics.Request("http", "ok", count, start);
        }
        catch (BadRequestException e)
        {
            metrics.Request("http", "invalid", count, start);
            await Error(context, 400, e.Message);
        }
        catch (InvalidOperationException) when (context.RequestServices.GetRequiredService<IHostApplicationLifetime>().ApplicationStopping.IsCancellationRequested)
        {
            metrics.Request("http", "error", count, start);
            await Error(context, 503, "the server is shutting down");
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            metrics.Request("http", "error", count, start);
            logs.CreateLogger("RLAgents.Serving").LogError(e, "POST /v1/act failed");
            await Error(context, 500, $"internal error: {e.Message}");
        }
    }

    /// <summary>
    /// Parses a request body: its observations (checked against <paramref name="space"/>), whether it was a batch, the
    /// options, and the memory of a recurrent policy of <paramref name="memorySize"/> units ([count·H], or null).
    /// </summary>
    internal static (ObservationBatch Observations, bool Batch, ActOptions Options, float[]? Memory) Read(JsonElement root, ObservationSpace space, int maxObservations, int memorySize = 0)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new BadRequestException($"the request must be a JSON object, got {ObservationReader.Kind(root)}");
        JsonElement? single = null, many = null, memory = null, memories = null;
        bool sample = false, probabilities = false, value = false;
        ulong? seed = null;
        foreach (var p in root.EnumerateObject())
        {
            switch (p.Name)
            {
                case "observation": single = p.Value; break;
                case "observations": many = p.Value; break;
                case "memory": memory = p.Value; break;
                case "memories": memories = p.Value; break;
                case "sample": sample = Bool(p.Value, "sample"); break;
                case "probabilities": probabilities = Bool(p.Value, "probabilities"); break;
                case "value": value = Bool(p.Value, "value"); break;
                case "seed":
                    seed = p.Value.ValueKind == JsonValueKind.Number && p.Value.TryGetUInt64(out ulong s)
                        ? s
                        : throw new BadRequestException($"seed: expected a non-negative integer, got {ObservationReader.Kind(p.Value)}");
                    break;
                default:
                    throw new BadRequestException($"unknown field '{p.Name}' (a request has {string.Join(", ", Fields)})");
            }
        }
        if (single is null == many is null) throw new BadRequestException("give exactly one of 'observation' (one) and 'observations' (a batch)");
        var reader = new ObservationReader(space);
        ObservationBatch batch;
        if (single is { } one)
        {
            batch = new ObservationBatch(space, 1);
            reader.Read(one, "observation", batch, 0);
        }
        else
        {
            var list = many!.Value;
            if (list.ValueKind != JsonValueKind.Array) throw new BadRequestException($"observations: expected an array of observation objects, got {ObservationReader.Kind(list)}");
            int n = list.GetArrayLength();
            if (n == 0) throw new BadRequestException("observations: the batch is empty");
            if (n > maxObservations) throw new BadRequestException($"observations: {n} observations, at most {maxObservations} per request");
            batch = new ObservationBatch(space, n);
            int i = 0;
            foreach (var o in list.EnumerateArray()) { reader.Read(o, $"observations[{i}]", batch, i); i++; }
        }
        if (single is not null && memories is not null) throw new BadRequestException("memories: one observation takes 'memory' (a batch takes 'memories')");
        if (many is not null && memory is not null) throw new BadRequestException("memory: a batch of observations takes 'memories', one per observation");
        var state = single is not null
            ? MemoryReader.Read(memory, "memory", batch: false, 1, memorySize)
            : MemoryReader.Read(memories, "memories", batch: true, batch.Count, memorySize);
        return (batch, many is not null, new ActOptions(sample, seed, probabilities, value), state);
    }

    private static bool Bool(JsonElement e, string field) => e.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new BadRequestException($"{field}: expected true or false, got {ObservationReader.Kind(e)}"),
    };

    private static void Write(Utf8JsonWriter w, ActOutcome outcome, bool batch, int k)
    {
        w.WriteStartObject();
        if (batch)
        {
            w.WriteStartArray("actions");
            foreach (int a in outcome.Actions) w.WriteNumberValue(a);
            w.WriteEndArray();
            if (outcome.Probabilities is { } p)
            {
                w.WriteStartArray("probabilities");
                for (int i = 0; i < outcome.Actions.Length; i++) Row(w, p.AsSpan(i * k, k));
                w.WriteEndArray();
            }
            if (outcome.Values is { } v)
            {
                w.WriteStartArray("values");
                foreach (float x in v) w.WriteNumberValue(x);
                w.WriteEndArray();
            }
            if (outcome.Memory is { } m)
            {
                int h = m.Length / outcome.Actions.Length;
                w.WriteStartArray("memories");
                for (int i = 0; i < outcome.Actions.Length; i++) Row(w, m.AsSpan(i * h, h));
                w.WriteEndArray();
            }
        }
        else
        {
            w.WriteNumber("action", outcome.Actions[0]);
            if (outcome.Probabilities is { } p)
            {
                w.WritePropertyName("probabilities");
                Row(w, p);
            }
            if (outcome.Values is { } v) w.WriteNumber("value", v[0]);
            if (outcome.Memory is { } m)
            {
                w.WritePropertyName("memory");
                Row(w, m);
            }
        }
        w.WriteEndObject();
    }

    private static void Row(Utf8JsonWriter w, ReadOnlySpan<float> row)
    {
        w.WriteStartArray();
        foreach (float x in row) w.WriteNumberValue(x);
        w.WriteEndArray();
    }

    private static async Task Error(HttpContext context, int status, string message)
    {
        if (context.Response.HasStarted) return;
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await context.Response.WriteAsync(new JsonObject { ["error"] = message }.ToJsonString());
    }
}
