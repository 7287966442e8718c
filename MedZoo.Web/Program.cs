using MedZoo.Engine.Devices;
using MedZoo.Web.Cli;
using MedZoo.Web.Hosting;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    if (cancel.IsCancellationRequested) return; // a second Ctrl+C kills the process
    e.Cancel = true;
    cancel.Cancel();
};

if (CliApp.IsCliInvocation(args))
    return CliApp.Run(args, cancellation: cancel.Token);

if (TorchRuntime.TryLoad() is { } why)
{
    Console.Error.WriteLine(why);
    return 3;
}

// Content root = the build output (appsettings, published wwwroot), whatever the working directory.
var builder = WebApplication.CreateBuilder(new WebApplicationOptions
{
    Args = args.Length > 0 && args[0] == "serve" ? args[1..] : args,
    ContentRootPath = AppContext.BaseDirectory,
});
builder.AddMedZooWeb();
var app = builder.Build();
app.UseMedZooWeb();
await app.RunAsync(cancel.Token);
return 0;

/// <summary>Entry point type, public so that WebApplicationFactory can host the app in tests.</summary>
public partial class Program;
