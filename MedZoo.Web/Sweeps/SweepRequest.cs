using System.Text.Json;
using System.Text.Json.Serialization;

namespace MedZoo.Web.Sweeps;

/// <summary>How a sweep picks its trials.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<SweepSearch>))]
public enum SweepSearch
{
    /// <summary>Every combination of the parameters' values.</summary>
    Grid,

    /// <summary><see cref="SweepRequest.Trials"/> draws: a value from each list, or a number from each range.</summary>
    Random,
}

/// <summary>
/// One option a sweep varies, by its path in the run configuration (dotted, as the configuration's JSON
/// names it: <c>learningRate</c>, <c>loss</c>, <c>sampling.patchSize</c>, <c>model</c>): either a list of
/// values (any JSON: <c>0.01</c>, <c>"dice"</c>, <c>[32,32,32]</c>) or, for random search, a numeric range.
/// </summary>
public sealed record SweepParameter
{
    /// <summary>The option's dotted path in the configuration's JSON.</summary>
    public string Path { get; init; } = "";

    /// <summary>The values to try (grid and random search).</summary>
    public IReadOnlyList<JsonElement>? Values { get; init; }

    /// <summary>Smallest value of a range (random search only).</summary>
    public double? Min { get; init; }

    /// <summary>Largest value of a range (random search only).</summary>
    public double? Max { get; init; }

    /// <summary>Draw the range log-uniformly (learning rates, weight decay); needs <see cref="Min"/> above 0.</summary>
    public bool Log { get; init; }
}

/// <summary>
/// Successive halving (asynchronous, as ASHA): at the rung epochs <c>MinEpochs × Eta^k</c>, a trial whose
/// best validation Dice so far is not among the best <c>1/Eta</c> of the trials that reached that epoch is
/// stopped, so the budget goes to the promising ones.
/// </summary>
public sealed record SuccessiveHalvingOptions
{
    /// <summary>Stop trailing trials at the rungs.</summary>
    public bool Enabled { get; init; }

    /// <summary>First rung: the epoch at which trials are first compared (default 1).</summary>
    public int MinEpochs { get; init; } = 1;

    /// <summary>Reduction factor: one trial in <c>Eta</c> goes on at each rung (default 3, as Hyperband and ASHA).</summary>
    public int Eta { get; init; } = 3;
}

/// <summary>Body of <c>POST /api/sweeps</c> and what the New sweep form builds.</summary>
public sealed record SweepRequest
{
    /// <summary>Display name (optional).</summary>
    public string? Name { get; init; }

    /// <summary>The configuration every trial starts from (as <c>POST /api/runs</c> takes it); when absent, <see cref="Preset"/>'s.</summary>
    public JsonElement? BaseConfig { get; init; }

    /// <summary>A New run preset to start from when <see cref="BaseConfig"/> is absent (default: the first preset).</summary>
    public string? Preset { get; init; }

    /// <summary>The options to vary.</summary>
    public IReadOnlyList<SweepParameter> Parameters { get; init; } = [];

    /// <summary>Grid (every combination) or random.</summary>
    public SweepSearch Search { get; init; } = SweepSearch.Grid;

    /// <summary>Trials of a random search (default 8).</summary>
    public int Trials { get; init; } = 8;

    /// <summary>Seed of a random search (the same seed draws the same trials).</summary>
    public long Seed { get; init; } = 1;

    /// <summary>Stop trials that trail at the same epoch; off when absent.</summary>
    public SuccessiveHalvingOptions? Halving { get; init; }
}
