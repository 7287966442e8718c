using Bunit;
using MedZoo.Tests.Web.Components;
using MedZoo.Tests.Web.Support;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace MedZoo.Tests.Cluster;

/// <summary>The Workers page in the embedded mode, where no worker registry exists (its cluster side: <see cref="ClusterWorkerTests"/>).</summary>
public sealed class WorkersPageTests : ComponentTestContext
{
    [Fact]
    public async Task Render_EmbeddedMode_SaysThisServerTrainsRunsItself()
    {
        await using var store = new StoreFixture();
        Context.Services.AddSingleton<IRunStore>(store.Runs);

        var page = Context.Render<MedZoo.Web.Cluster.Pages.Workers>();

        Assert.Contains("trains runs itself", page.Find("#workers-embedded").TextContent);
        Assert.Empty(page.FindAll("#workers"));
    }
}
