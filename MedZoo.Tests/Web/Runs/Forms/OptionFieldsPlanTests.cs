using MedZoo.Engine.Training;
using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Runs.Forms;

/// <summary>The run form offers the plan source ("auto" = auto-configure from the dataset), never the plan's data itself.</summary>
public class OptionFieldsPlanTests
{
    [Fact]
    public void Describe_TrainerOptions_OffersPlanSourceButNotThePlansFields()
    {
        var paths = OptionFields.Describe(typeof(TrainerOptions)).Select(f => f.Path).ToList();
        Assert.Contains(nameof(TrainerOptions.PlanSource), paths);
        Assert.DoesNotContain(paths, p => p.StartsWith("Plan.", StringComparison.Ordinal));
    }

    [Fact]
    public void TryParse_PlanSourceAuto_SetsIt()
    {
        var field = OptionFields.Describe(typeof(TrainerOptions)).Single(f => f.Path == nameof(TrainerOptions.PlanSource));
        var options = new TrainerOptions();
        Assert.Null(field.TryParse("auto", out var value));
        field.Set(options, value);
        Assert.Equal("auto", options.PlanSource);
    }
}
