using Bunit;
using MedZoo.Engine;
using MedZoo.Engine.Training;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Runs.Forms;
using MedZoo.Web.Runs;
using MedZoo.Web.Runs.Forms;
using MedZoo.Web.Runs.Pages.Components;

namespace MedZoo.Tests.Web.Runs.Pages.Components;

public sealed class OptionsFormTests : ComponentTestContext
{
    private static readonly IReadOnlyList<OptionField> TrainerFields = OptionFields.Describe(typeof(TrainerOptions));

    [Fact]
    public void Render_Options_OneInputPerOptionGroupedAndBadInputShowsItsError()
    {
        var target = new OptionFieldsTests.Sample();
        var fields = OptionFields.Describe(typeof(OptionFieldsTests.Sample));
        var errors = new Dictionary<string, string>();
        var changed = 0;
        var form = Context.Render<OptionsForm>(p => p
            .Add(c => c.Target, target).Add(c => c.Fields, fields).Add(c => c.Errors, errors).Add(c => c.Changed, () => changed++));

        Assert.Equal(fields.Count, fields.Count(f => form.FindAll($"#opt-{f.Path.Replace('.', '-')}").Count > 0));
        Assert.Contains("Sampling", form.Markup);

        form.Find("#opt-Epochs").Change("7");
        Assert.Equal(7, target.Epochs);
        form.Find("#opt-Epochs").Change("seven");
        Assert.Equal(7, target.Epochs);
        Assert.Contains("not a whole number", errors["Epochs"]);
        Assert.Contains("not a whole number", form.Markup);
        Assert.Equal(2, changed);
    }

    [Fact]
    public void Render_TrainerOptions_EssentialsFirstAndTheRestUnderCollapsedAdvancedGroups()
    {
        var form = RenderTrainer(new Dictionary<string, string>());

        var essentials = form.Find("#options-essentials");
        Assert.Equal(OptionLayout.Essentials, essentials.QuerySelectorAll(".mz-option").Select(e => e.GetAttribute("data-field")));
        Assert.Equal("false", form.Find("#options-advanced").GetAttribute("data-expanded"));
        foreach (var group in new[] { "Training", "Dataset", "Sampling", "Augmentation", "Scheduler", "LossOptions" })
            Assert.Equal("false", form.Find($"#group-{group}").GetAttribute("data-expanded"));
        // Every other option is still there, in its group, for the browser to reveal.
        foreach (var f in TrainerFields.Where(f => !OptionLayout.Essentials.Contains(f.Path)))
            Assert.NotNull(form.Find($"#{OptionLayout.GroupId(f.Group)} [data-field='{f.Path}'] #{OptionLayout.InputId(f.Path)}"));
    }

    [Fact]
    public void Render_EveryField_ShowsItsWholeHelpVisiblySwitchesIncluded()
    {
        var form = RenderTrainer(new Dictionary<string, string>());
        foreach (var f in TrainerFields)
        {
            var item = form.Find($"[data-field='{f.Path}']");
            Assert.Contains(f.Help!, item.TextContent.Replace("\u00a0", " "), StringComparison.Ordinal);
            Assert.Null(item.QuerySelector($"#{OptionLayout.InputId(f.Path)}")!.GetAttribute("title"));
        }
        Assert.Contains("Focal γ (Lin et al. 2017); 0 gives cross-entropy. Default 2.", form.Find("[data-field='LossOptions.FocalGamma']").TextContent);
        Assert.Contains("Score channel 0 (background)", form.Find("[data-field='LossOptions.IncludeBackground'] .mud-typography-caption").TextContent);
    }

    public static TheoryData<string, string, string?, string> Invalid => ValidationMessagesTests.Invalid;

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Render_ValidationError_IsShownOnItsFieldWhoseGroupOpens(string path, string text, string? first, string expectedPath)
    {
        var options = TrainerRunExecutor.Demo("synthetic");
        foreach (var (p, v) in new[] { first, $"{path}={text}" }.OfType<string>().Select(s => (s[..s.IndexOf('=')], s[(s.IndexOf('=') + 1)..])))
        {
            var field = TrainerFields.Single(f => f.Path == p);
            Assert.Null(field.TryParse(v, out var value));
            field.Set(options, value);
        }
        var error = ValidationMessages.FromError(Assert.Throws<InvalidOptionException>(options.Validate).Error, TrainerFields);
        Assert.Equal(expectedPath, error.Path);

        var errors = new Dictionary<string, string>();
        var form = RenderTrainer(errors, options);
        errors[error.Path!] = error.Message;
        form.Render(); // the page re-renders the form with the error it got from starting

        var item = form.Find($"[data-field='{error.Path}']");
        Assert.Contains(error.Message, item.TextContent);
        Assert.NotNull(item.QuerySelector(".mud-input-error, .mud-error-text"));
        if (!OptionLayout.Essentials.Contains(error.Path!))
        {
            Assert.Equal("true", form.Find("#options-advanced").GetAttribute("data-expanded"));
            var group = TrainerFields.Single(f => f.Path == error.Path).Group;
            Assert.Equal("true", form.Find($"#{OptionLayout.GroupId(group)}").GetAttribute("data-expanded"));
            Assert.Contains("1 error", form.Find($"#{OptionLayout.GroupId(group)}").TextContent);
        }
    }

    [Fact]
    public void Render_ErrorGroupClosedByTheUser_StaysClosedUntilANewError()
    {
        var errors = new Dictionary<string, string> { ["Sampling.Threshold"] = "2 must be a fraction in [0, 1]." };
        var form = RenderTrainer(errors);
        Assert.Equal("true", form.Find("#group-Sampling").GetAttribute("data-expanded"));

        form.Find("#group-Sampling .mud-expand-panel-header").Click();
        Assert.Equal("false", form.Find("#group-Sampling").GetAttribute("data-expanded"));
        form.Render();
        Assert.Equal("false", form.Find("#group-Sampling").GetAttribute("data-expanded"));

        errors["Sampling.GridOverlap"] = "1 must be in [0, 1).";
        form.Render();
        Assert.Equal("true", form.Find("#group-Sampling").GetAttribute("data-expanded"));
    }

    private IRenderedComponent<OptionsForm> RenderTrainer(Dictionary<string, string> errors, TrainerOptions? target = null) =>
        Context.Render<OptionsForm>(p => p
            .Add(c => c.Target, target ?? TrainerRunExecutor.Demo("synthetic")).Add(c => c.Fields, TrainerFields).Add(c => c.Errors, errors));
}
