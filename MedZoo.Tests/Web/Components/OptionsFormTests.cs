using Bunit;
using MedZoo.Tests.Web.Runs.Forms;
using MedZoo.Web.Components.Pages.Runs.Components;
using MedZoo.Web.Runs.Forms;

namespace MedZoo.Tests.Web.Components;

public sealed class OptionsFormTests : ComponentTestContext
{
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
}
