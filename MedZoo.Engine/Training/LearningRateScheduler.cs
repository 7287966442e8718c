using System.Text.Json;
using static TorchSharp.torch;

namespace MedZoo.Engine.Training;

/// <summary>Learning-rate schedule kinds.</summary>
public enum SchedulerKind
{
    /// <summary>Constant learning rate.</summary>
    None,
    /// <summary>lr = base · γ^⌊epoch / stepSize⌋ (PyTorch's StepLR).</summary>
    Step,
    /// <summary>lr = min + (base − min)·(1 + cos(π·epoch / epochs)) / 2 (CosineAnnealingLR over the run).</summary>
    Cosine,
    /// <summary>lr = base · (1 − epoch / epochs)^power, power 0.9 (nnU-Net's PolyLRScheduler).</summary>
    Polynomial,
    /// <summary>Multiply by a factor when validation mean foreground Dice stops improving (ReduceLROnPlateau, mode max).</summary>
    ReduceOnPlateau,
}

/// <summary>Options of <see cref="LearningRateScheduler"/>. Every schedule is stepped once per epoch.</summary>
public sealed class SchedulerOptions
{
    /// <summary>Schedule; default <see cref="SchedulerKind.None"/> (MedicalZoo's behaviour, since its scheduler never stepped).</summary>
    public SchedulerKind Kind { get; set; } = SchedulerKind.None;

    /// <summary>Step: epochs between decays; default 30.</summary>
    public int StepSize { get; set; } = 30;

    /// <summary>Step: decay factor, 0 &lt; γ ≤ 1; default 0.1.</summary>
    public double Gamma { get; set; } = 0.1;

    /// <summary>Polynomial: exponent; default 0.9 (nnU-Net).</summary>
    public double Power { get; set; } = 0.9;

    /// <summary>Cosine and plateau: lower bound of the learning rate; default 0.</summary>
    public double MinLearningRate { get; set; }

    /// <summary>Plateau: multiply by this factor, 0 &lt; f &lt; 1; default 0.1.</summary>
    public double PlateauFactor { get; set; } = 0.1;

    /// <summary>Plateau: validations without improvement before reducing; default 10.</summary>
    public int PlateauPatience { get; set; } = 10;

    /// <summary>Plateau: relative improvement that counts (PyTorch's threshold, mode "rel"); default 1e-4.</summary>
    public double PlateauThreshold { get; set; } = 1e-4;

    /// <summary>Plateau: validations to wait after a reduction before counting again; default 0.</summary>
    public int PlateauCooldown { get; set; }

    /// <summary>A copy.</summary>
    public SchedulerOptions Clone() => (SchedulerOptions)MemberwiseClone();

    /// <summary>Throws <see cref="InvalidOptionException"/> naming the first invalid field.</summary>
    public void Validate()
    {
        if (!Enum.IsDefined(Kind)) throw new InvalidOptionException(nameof(Kind), $"{(int)Kind} is not a scheduler");
        if (StepSize < 1) throw new InvalidOptionException(nameof(StepSize), $"must be at least 1, got {StepSize}");
        if (!(Gamma > 0 && Gamma <= 1)) throw new InvalidOptionException(nameof(Gamma), $"must be in (0, 1], got {Gamma}");
        if (!(Power > 0) || double.IsInfinity(Power)) throw new InvalidOptionException(nameof(Power), $"must be positive, got {Power}");
        if (!(MinLearningRate >= 0) || double.IsInfinity(MinLearningRate)) throw new InvalidOptionException(nameof(MinLearningRate), $"must be ≥ 0, got {MinLearningRate}");
        if (!(PlateauFactor > 0 && PlateauFactor < 1)) throw new InvalidOptionException(nameof(PlateauFactor), $"must be in (0, 1), got {PlateauFactor}");
        if (PlateauPatience < 0) throw new InvalidOptionException(nameof(PlateauPatience), $"must be ≥ 0, got {PlateauPatience}");
        if (!(PlateauThreshold >= 0)) throw new InvalidOptionException(nameof(PlateauThreshold), $"must be ≥ 0, got {PlateauThreshold}");
        if (PlateauCooldown < 0) throw new InvalidOptionException(nameof(PlateauCooldown), $"must be ≥ 0, got {PlateauCooldown}");
    }
}

/// <summary>
/// Per-epoch learning-rate schedule. Implemented here rather than with TorchSharp's schedulers
/// because nnU-Net's polynomial schedule and a savable plateau state are needed, and because a
/// closed form of the epoch makes a resumed run land on exactly the same rates.
/// Call <see cref="Step"/> after every epoch (MedicalZoo created a scheduler and never
/// stepped it) and <see cref="Apply"/> to push the rate into the optimizer.
/// </summary>
public sealed class LearningRateScheduler
{
    private readonly SchedulerOptions _options;
    private readonly double _base;
    private readonly int _epochs;
    private int _completed;
    private double _plateauBest = double.NaN;
    private int _badEpochs;
    private int _cooldown;

    /// <param name="options">Validated here.</param>
    /// <param name="baseLearningRate">Initial rate, &gt; 0.</param>
    /// <param name="epochs">Epochs of the run (the horizon of cosine and polynomial).</param>
    public LearningRateScheduler(SchedulerOptions options, double baseLearningRate, int epochs)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (!(baseLearningRate > 0)) throw new ArgumentOutOfRangeException(nameof(baseLearningRate), baseLearningRate, "must be positive");
        if (epochs < 1) throw new ArgumentOutOfRangeException(nameof(epochs), epochs, "must be at least 1");
        _options = options;
        _base = baseLearningRate;
        _epochs = epochs;
        LearningRate = baseLearningRate;
    }

    /// <summary>Rate for the next epoch.</summary>
    public double LearningRate { get; private set; }

    /// <summary>Epochs stepped so far.</summary>
    public int CompletedEpochs => _completed;

    /// <summary>
    /// Advances by one epoch. <paramref name="validationMetric"/> (mean foreground Dice, higher is
    /// better) drives <see cref="SchedulerKind.ReduceOnPlateau"/>; epochs without validation pass null
    /// and do not count towards its patience.
    /// </summary>
    /// <returns>The rate for the next epoch.</returns>
    public double Step(double? validationMetric = null)
    {
        _completed++;
        var t = Math.Min(_completed, _epochs);
        LearningRate = _options.Kind switch
        {
            SchedulerKind.Step => _base * Math.Pow(_options.Gamma, _completed / _options.StepSize),
            SchedulerKind.Cosine => _options.MinLearningRate + (_base - _options.MinLearningRate) * (1 + Math.Cos(Math.PI * t / _epochs)) / 2,
            SchedulerKind.Polynomial => _base * Math.Pow(1 - (double)t / _epochs, _options.Power),
            SchedulerKind.ReduceOnPlateau => Plateau(validationMetric),
            _ => _base,
        };
        return LearningRate;
    }

    private double Plateau(double? metric)
    {
        if (metric is not { } m || double.IsNaN(m)) return LearningRate;
        if (double.IsNaN(_plateauBest) || m > _plateauBest * (1 + _options.PlateauThreshold))
        {
            _plateauBest = m;
            _badEpochs = 0;
        }
        else
        {
            _badEpochs++;
        }
        if (_cooldown > 0)
        {
            _cooldown--;
            _badEpochs = 0;
        }
        if (_badEpochs > _options.PlateauPatience)
        {
            _badEpochs = 0;
            _cooldown = _options.PlateauCooldown;
            return Math.Max(LearningRate * _options.PlateauFactor, _options.MinLearningRate);
        }
        return LearningRate;
    }

    /// <summary>Sets <see cref="LearningRate"/> on every parameter group of <paramref name="optimizer"/>.</summary>
    public void Apply(optim.Optimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        foreach (var group in optimizer.ParamGroups) group.LearningRate = LearningRate;
    }

    /// <summary>The state to store in a checkpoint.</summary>
    public JsonElement SaveState() => JsonSerializer.SerializeToElement(
        new SchedulerState(_options.Kind, _completed, LearningRate, _plateauBest, _badEpochs, _cooldown), Checkpoints.Checkpoint.JsonOptions);

    /// <summary>Restores a state written by <see cref="SaveState"/> for the same kind of schedule.</summary>
    public void LoadState(JsonElement state)
    {
        var s = state.Deserialize<SchedulerState>(Checkpoints.Checkpoint.JsonOptions)
                ?? throw new InvalidDataException("scheduler state is empty");
        if (s.Kind != _options.Kind)
            throw new InvalidDataException($"checkpoint scheduler is {s.Kind}, the options ask for {_options.Kind}");
        _completed = s.CompletedEpochs;
        LearningRate = s.LearningRate;
        _plateauBest = s.PlateauBest;
        _badEpochs = s.BadEpochs;
        _cooldown = s.Cooldown;
    }

    private sealed record SchedulerState(SchedulerKind Kind, int CompletedEpochs, double LearningRate, double PlateauBest, int BadEpochs, int Cooldown);
}
