using System.Collections.Concurrent;
using System.Globalization;
using MedZoo.Engine.Networks;

namespace MedZoo.Web.Models;

/// <summary>
/// The model zoo as the Models page shows it, with parameter counts for a reference input (the
/// synthetic dataset's <see cref="ReferenceInChannels"/> modalities and <see cref="ReferenceClasses"/>
/// classes). Counting builds each network, which takes a second or more for the large ones, so the
/// counts are computed once per process on a background thread, the first time a page asks.
/// </summary>
public sealed class ModelCatalog(ILogger<ModelCatalog> logger)
{
    /// <summary>Input channels the counts assume.</summary>
    public const int ReferenceInChannels = 2;

    /// <summary>Classes (background included) the counts assume.</summary>
    public const int ReferenceClasses = 4;

    private readonly ConcurrentDictionary<string, string> _counts = new(StringComparer.OrdinalIgnoreCase);
    private readonly object _gate = new();
    private Task? _counting;

    /// <summary>Every model, in the zoo's order.</summary>
    public IReadOnlyList<ModelInfo> Models => ModelZoo.Models;

    /// <summary>Raised on the counting thread after each model is counted; handlers must return at once.</summary>
    public event Action? Counted;

    /// <summary>Starts counting (once per process); completes when every count is known.</summary>
    public Task CountAsync()
    {
        lock (_gate)
            return _counting ??= Task.Factory.StartNew(CountAll, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
    }

    /// <summary>The parameter count as text ("1,234,567", or why the network could not be built), or null while not yet counted.</summary>
    public string? Count(string model) => _counts.TryGetValue(model, out var c) ? c : null;

    private void CountAll()
    {
        foreach (var m in ModelZoo.Models)
        {
            try
            {
                _counts[m.Name] = m.CountParameters(ReferenceInChannels, ReferenceClasses).ToString("N0", CultureInfo.InvariantCulture);
            }
            catch (Exception e)
            {
                // One network that cannot be built must not hide the others' counts: say why on its card.
                logger.LogWarning(e, "Could not count the parameters of {Model}", m.Name);
                _counts[m.Name] = "not available: " + e.Message;
            }
            Counted?.Invoke();
        }
    }
}
