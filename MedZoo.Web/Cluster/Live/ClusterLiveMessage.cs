using System.Text.Json;
using System.Text.Json.Nodes;
using MedZoo.Engine.Training;
using MedZoo.Web.Live;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs.Live;
using MedZoo.Web.Runs;

namespace MedZoo.Web.Cluster.Live;

/// <summary>
/// The wire format of a run update between a worker and the web nodes, versioned so that nodes of different
/// releases reject what they do not understand instead of misreading it:
/// <c>{"v":1,"origin":"…","type":"EpochCompleted","seq":42,"event":{…}}</c>. <c>type</c> is the event's record
/// name, <c>seq</c> its number in the run (0 for a <see cref="RunStatusChanged"/> notice), <c>event</c> the record
/// in the journal's and hub's JSON settings (<see cref="RunJournal.Json"/>), <c>origin</c> the sending process
/// (a node drops its own messages, so a process that both forwards and receives never loops).
/// Redis is reachable by more than MedZoo's processes, so decoding treats every message as hostile: a size limit
/// before parsing, a depth limit while parsing, and an explicit list of accepted types.
/// </summary>
public static class ClusterLiveMessage
{
    /// <summary>The version this build writes and the only one it reads.</summary>
    public const int Version = 1;

    /// <summary>Longest run id accepted.</summary>
    public const int MaxRunIdLength = 200;

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 16 };

    private static readonly Dictionary<string, Type> EventTypes = new[]
    {
        typeof(RunStarted), typeof(StepCompleted), typeof(EpochCompleted), typeof(SlicePreview), typeof(CheckpointSaved),
        typeof(RunStateChanged), typeof(RunLog), typeof(RunFinished), typeof(RunStatusChanged),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Encodes <paramref name="update"/> as sent by the process <paramref name="origin"/>.</summary>
    public static string Encode(RunUpdate update, string origin)
    {
        ArgumentNullException.ThrowIfNull(update);
        var type = update.Event.GetType();
        if (!EventTypes.ContainsKey(type.Name)) throw new ArgumentException($"event type {type.Name} has no wire format", nameof(update));
        return new JsonObject
        {
            ["v"] = Version,
            ["origin"] = origin,
            ["type"] = type.Name,
            ["seq"] = update.Seq,
            ["event"] = JsonSerializer.SerializeToNode(update.Event, type, RunJournal.Json),
        }.ToJsonString(RunJournal.Json);
    }

    /// <summary>
    /// Decodes a message. On success returns true with the sender and the update; otherwise false with
    /// <paramref name="error"/> saying what was wrong (for the log; the message itself is never logged whole).
    /// </summary>
    public static bool TryDecode(string? message, int maxChars, out string origin, out RunUpdate? update, out string error)
    {
        origin = "";
        update = null;
        if (message is null)
        {
            error = "the message is empty";
            return false;
        }
        if (message.Length > maxChars)
        {
            error = $"the message has {message.Length} characters, more than the {maxChars} allowed";
            return false;
        }
        try
        {
            if (JsonNode.Parse(message, documentOptions: ParseOptions) is not JsonObject node)
            {
                error = "the message is not a JSON object";
                return false;
            }
            if (node["v"] is not JsonValue v || !v.TryGetValue<int>(out var version) || version != Version)
            {
                error = $"the message's version is {node["v"]?.ToJsonString() ?? "missing"}, expected {Version}";
                return false;
            }
            if (node["origin"] is not JsonValue o || !o.TryGetValue<string>(out var from) || from.Length is 0 or > 100)
            {
                error = "the message names no sender (origin)";
                return false;
            }
            if (node["type"] is not JsonValue t || !t.TryGetValue<string>(out var typeName) || !EventTypes.TryGetValue(typeName, out var type))
            {
                error = $"the message's type {Truncated(node["type"]?.ToJsonString())} is not a run event this node knows";
                return false;
            }
            var status = type == typeof(RunStatusChanged);
            if (node["seq"] is not JsonValue s || !s.TryGetValue<long>(out var seq) || (status ? seq != 0 : seq < 1))
            {
                error = $"the {typeName} message's seq {Truncated(node["seq"]?.ToJsonString())} is not {(status ? "0" : "a positive number")}";
                return false;
            }
            if (node["event"] is not JsonObject body || body.Deserialize(type, RunJournal.Json) is not TrainingEvent e)
            {
                error = $"the {typeName} message has no event object";
                return false;
            }
            if (string.IsNullOrEmpty(e.RunId) || e.RunId.Length > MaxRunIdLength)
            {
                error = $"the {typeName} message's run id is empty or longer than {MaxRunIdLength} characters";
                return false;
            }
            origin = from;
            update = new RunUpdate(seq, e);
            error = "";
            return true;
        }
        // Whatever a hostile or torn message holds, it is one dropped message, never a failed node.
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or NotSupportedException or ArgumentException)
        {
            error = $"the message is not valid: {e.Message}";
            return false;
        }
    }

    private static string Truncated(string? s) => s is null ? "(missing)" : s.Length <= 60 ? s : s[..60] + "…";
}
