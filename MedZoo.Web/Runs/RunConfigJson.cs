using System.Text.Json;
using MedZoo.Web.Live;

namespace MedZoo.Web.Runs;

/// <summary>How run configurations are stored: camelCase JSON, enums as strings, NaN allowed.</summary>
public static class RunConfigJson
{
    /// <summary>The serializer settings of stored configurations.</summary>
    public static JsonSerializerOptions Options { get; } = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web) { WriteIndented = false };
        LiveJson.Configure(o);
        return o;
    }

    /// <summary>The configuration as stored.</summary>
    public static string Serialize(object configuration) => JsonSerializer.Serialize(configuration, configuration.GetType(), Options);

    /// <summary>A stored configuration as <typeparamref name="T"/>; throws <see cref="ArgumentException"/> when it is not valid JSON for it.</summary>
    public static T Deserialize<T>(string json) => (T)Deserialize(json, typeof(T));

    /// <summary>A stored configuration as <paramref name="type"/>; throws <see cref="ArgumentException"/> when it is not valid JSON for it.</summary>
    public static object Deserialize(string json, Type type)
    {
        try
        {
            return JsonSerializer.Deserialize(json, type, Options) ?? throw new ArgumentException("the run configuration is empty");
        }
        catch (JsonException e)
        {
            throw new ArgumentException($"the run configuration is not valid: {e.Message}", e);
        }
    }
}
