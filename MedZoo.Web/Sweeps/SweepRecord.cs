namespace MedZoo.Web.Sweeps;

/// <summary>A stored sweep: what was asked and, per trial, its run and what successive halving recorded.</summary>
public sealed class SweepRecord
{
    public string Id { get; set; } = "";
    public string Name { get; set; } = "";
    public string CreatedBy { get; set; } = "";
    public DateTime CreatedAt { get; set; }

    /// <summary>The request as JSON (what it varied, how, and halving).</summary>
    public string RequestJson { get; set; } = "{}";

    /// <summary>Paths of the options varied, in the request's order (the columns of the trial table).</summary>
    public List<string> Parameters { get; set; } = [];

    public bool HalvingEnabled { get; set; }
    public int HalvingMinEpochs { get; set; } = 1;
    public int HalvingEta { get; set; } = 3;

    /// <summary>Set once someone stopped the whole sweep.</summary>
    public bool StopRequested { get; set; }

    public List<SweepTrialRecord> Trials { get; set; } = [];
}

/// <summary>One trial: its run, its values, its best Dice so far, the values it reached at each rung, and why halving stopped it.</summary>
public sealed class SweepTrialRecord
{
    public int Number { get; set; }
    public string RunId { get; set; } = "";

    /// <summary>Option path → value as JSON.</summary>
    public Dictionary<string, string> Values { get; set; } = [];

    /// <summary>Best validation mean foreground Dice seen so far (the value compared at rungs).</summary>
    public double? BestDice { get; set; }

    /// <summary>Rung epoch → best Dice so far at that epoch, recorded when the trial reached it.</summary>
    public List<SweepRungRecord> Rungs { get; set; } = [];

    /// <summary>Why successive halving stopped it (null while it goes on).</summary>
    public string? HaltedReason { get; set; }
}

/// <summary>A trial's best Dice when it completed a rung epoch.</summary>
public sealed class SweepRungRecord
{
    public int Epoch { get; set; }
    public double Dice { get; set; }
}
