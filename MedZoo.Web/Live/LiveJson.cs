using System.Text.Json;
using System.Text.Json.Serialization;

namespace MedZoo.Web.Live;

/// <summary>JSON settings shared by the hub and the HTTP API (clients must use the same).</summary>
public static class LiveJson
{
    /// <summary>
    /// Allows NaN and ±Infinity (metrics are NaN where undefined, and System.Text.Json refuses them
    /// by default) and writes enums as strings.
    /// </summary>
    public static void Configure(JsonSerializerOptions o)
    {
        o.NumberHandling |= JsonNumberHandling.AllowNamedFloatingPointLiterals;
        if (!o.Converters.OfType<JsonStringEnumConverter>().Any()) o.Converters.Add(new JsonStringEnumConverter());
    }
}
