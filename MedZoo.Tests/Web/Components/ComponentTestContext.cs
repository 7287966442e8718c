using Bunit;
using MudBlazor.Services;

namespace MedZoo.Tests.Web.Components;

/// <summary>bunit context with MudBlazor's services and loose JS interop; disposed asynchronously (MudBlazor's services need it).</summary>
public abstract class ComponentTestContext : IAsyncLifetime
{
    protected ComponentTestContext()
    {
        Context.Services.AddMudServices();
        Context.JSInterop.Mode = JSRuntimeMode.Loose;
    }

    protected BunitContext Context { get; } = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await WhenBackgroundWorkDoneAsync();
        await Context.DisposeAsync();
    }

    /// <summary>
    /// Work a test's page started in the background that must end with the test (building networks
    /// draws from torch's process-wide random generator, which later tests seed and replay).
    /// </summary>
    protected virtual Task WhenBackgroundWorkDoneAsync() => Task.CompletedTask;
}
