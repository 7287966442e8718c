using System.Reflection;
using MedZoo.Tests.Engine;
using MedZoo.Web.Runs;
using Xunit.Abstractions;

namespace MedZoo.Tests.Web;

/// <summary>
/// The web project's folder-level dependency graph, read from its compiled types: which top-level folder
/// (<c>MedZoo.Web.&lt;Folder&gt;</c>, the namespace follows the folder; a Razor component compiles into its
/// folder's namespace; the subfolders of the Components shell count as folders of their own) uses which. A type counts as used wherever the engine's namespace test sees it: base
/// type, interfaces, members' types, attributes, locals and every type, field or method the IL names, lambdas
/// and async state machines included. The folders must form no cycle, so each one can be read, tested and
/// replaced from the bottom up. Run it with
/// <c>dotnet test MedZoo.Tests -c Release --filter FullyQualifiedName~WebFolderDependencyTests</c>.
/// </summary>
public sealed class WebFolderDependencyTests(ITestOutputHelper output)
{
    private static readonly Assembly Web = typeof(RunProjection).Assembly;

    [Fact]
    public void Graph_WebFolders_HaveNoCycles()
    {
        var graph = FolderGraph.Build(Web);
        output.WriteLine(graph.Describe());
        var cycle = FolderGraph.FindCycle(graph.Edges);
        Assert.True(cycle is null,
            cycle is null ? "" : $"the folders of MedZoo.Web depend on each other in a circle; move or invert one of these uses:\n{graph.Explain(cycle)}\n\nwhole graph:\n{graph.Describe()}");
    }

    [Theory]
    // Features are on top of the shared parts; storage implements the features' interfaces; the host wires all.
    [InlineData("Persistence", "Runs")]
    [InlineData("Persistence", "Reviews")]
    [InlineData("Hosting", "Runs")]
    [InlineData("Runs", "Live")]
    [InlineData("Reviews", "Imaging")]
    [InlineData("Runs", "Components.Shared")]
    [InlineData("Components.Layout", "Accounts")]
    public void Graph_KnownUse_IsAnEdge(string from, string to)
    {
        // The scan sees real edges, pages' code included (a blind scan would find no cycle either).
        var graph = FolderGraph.Build(Web);
        Assert.True(graph.Edges.GetValueOrDefault(from)?.Contains(to) == true, $"expected {from} → {to}\n{graph.Describe()}");
    }

    [Theory]
    [InlineData("Runs", "Persistence")]
    [InlineData("Live", "Persistence")]
    [InlineData("Runs", "Hosting")]
    [InlineData("Accounts", "Hosting")]
    [InlineData("Components.Shared", "Runs")]
    [InlineData("Accounts", "Runs")]
    [InlineData("Live", "Runs")]
    public void Graph_LowerFolder_DoesNotReachHigherOne(string from, string to)
    {
        var graph = FolderGraph.Build(Web);
        var path = FolderGraph.PathBetween(graph.Edges, from, to);
        Assert.True(path is null, $"{from} must not reach {to}, but it does:\n{(path is null ? "" : graph.Explain(path))}");
    }

    [Fact]
    public void Folder_RazorPageAndGeneratedTypes_CountForTheirFolder()
    {
        Assert.Equal("Runs", FolderGraph.Folder(typeof(MedZoo.Web.Runs.Pages.RunDetail)));
        Assert.Equal("Runs", FolderGraph.Folder("__Blazor.MedZoo.Web.Runs.Pages.Components.TypeInference"));
        Assert.Equal("Persistence", FolderGraph.Folder(typeof(MedZoo.Web.Persistence.Postgres.PostgresRunStore)));
        Assert.Equal("Components.Shared", FolderGraph.Folder(typeof(MedZoo.Web.Components.Shared.Format)));
        Assert.Equal("Components", FolderGraph.Folder(typeof(MedZoo.Web.Components.Routes)));
        Assert.Null(FolderGraph.Folder("System.Text"));
    }

    [Fact]
    public void Explain_AnEdge_NamesTheTypesThatMakeIt()
    {
        // Accounts asks Api (not Hosting) whether a request is for a program, so the sign-in redirect needs no host.
        var text = FolderGraph.Build(Web).Explain(["Accounts", "Api"]);
        Assert.Contains("Accounts → Api because:", text);
        Assert.Contains("Accounts.AccountsExtensions → Api.ApiPaths", text);
    }

    [Fact]
    public void FindCycle_ThreeFoldersInACircle_ReturnsTheCircle()
    {
        var edges = new Dictionary<string, SortedSet<string>>
        {
            ["A"] = ["B"], ["B"] = ["C", "D"], ["C"] = ["A"], ["D"] = [],
        };
        var cycle = FolderGraph.FindCycle(edges);
        Assert.NotNull(cycle);
        Assert.Equal(cycle[0], cycle[^1]);
        Assert.Equal(["A", "B", "C"], cycle.Take(3).Order());
    }

    [Fact]
    public void FindCycle_ALayeredGraph_ReturnsNull()
    {
        var edges = new Dictionary<string, SortedSet<string>>
        {
            ["Hosting"] = ["Runs", "Persistence"], ["Persistence"] = ["Runs"], ["Runs"] = ["Live"], ["Live"] = [],
        };
        Assert.Null(FolderGraph.FindCycle(edges));
    }
}

/// <summary>Folder → folders it uses, and for each edge the types that make it.</summary>
internal sealed class FolderGraph
{
    private const string Root = "MedZoo.Web";
    private const string Components = "Components";

    /// <summary>Folder → the folders its types use.</summary>
    public Dictionary<string, SortedSet<string>> Edges { get; } = new(StringComparer.Ordinal);

    /// <summary>(from, to) → "UsingType → UsedType" lines.</summary>
    private readonly Dictionary<(string From, string To), SortedSet<string>> _why = [];

    public static FolderGraph Build(Assembly assembly)
    {
        var graph = new FolderGraph();
        foreach (var type in assembly.GetTypes())
        {
            if (Folder(type) is not { } from) continue;
            if (!graph.Edges.TryGetValue(from, out var edges)) graph.Edges[from] = edges = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var used in EngineNamespaceTests.UsedTypes(type))
            {
                if (used.Assembly != assembly || Folder(used) is not { } to || to == from) continue;
                edges.Add(to);
                if (!graph._why.TryGetValue((from, to), out var why)) graph._why[(from, to)] = why = new SortedSet<string>(StringComparer.Ordinal);
                why.Add($"{Name(Outermost(type))} → {Name(Outermost(used))}");
            }
        }
        return graph;
    }

    /// <summary>The top-level folder of a type of MedZoo.Web; null outside it (Program, compiler helpers).</summary>
    public static string? Folder(Type type) => Folder(type.Namespace);

    /// <summary>The top-level folder of a namespace; Razor's generated <c>__Blazor.</c> helpers count for their component's folder.</summary>
    public static string? Folder(string? ns)
    {
        if (ns is null) return null;
        if (ns.StartsWith("__Blazor.", StringComparison.Ordinal)) ns = ns["__Blazor.".Length..];
        if (!ns.StartsWith(Root + ".", StringComparison.Ordinal)) return ns == Root ? "(root)" : null;
        var parts = ns[(Root.Length + 1)..].Split('.');
        // Components is the app's shell, not one layer: Shared sits under every feature's pages, while Layout,
        // Pages (home, errors) and the root (App, Routes) sit on top and link to every feature. Its subfolders
        // are folders of their own.
        return parts[0] == Components && parts.Length > 1 ? $"{Components}.{parts[1]}" : parts[0];
    }

    /// <summary>A cycle as a list of folders whose first and last are the same; null when the graph has none.</summary>
    public static List<string>? FindCycle(Dictionary<string, SortedSet<string>> edges)
    {
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1 on the current path, 2 done
        var path = new List<string>();
        foreach (var start in edges.Keys.Order(StringComparer.Ordinal))
            if (Visit(start) is { } cycle) return cycle;
        return null;

        List<string>? Visit(string node)
        {
            if (state.GetValueOrDefault(node) == 2) return null;
            if (state.GetValueOrDefault(node) == 1) return [.. path.Skip(path.IndexOf(node)), node];
            state[node] = 1;
            path.Add(node);
            foreach (var next in edges.GetValueOrDefault(node) ?? [])
                if (Visit(next) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            state[node] = 2;
            return null;
        }
    }

    /// <summary>The shortest path of folders from one to another, or null when none leads there.</summary>
    public static List<string>? PathBetween(Dictionary<string, SortedSet<string>> edges, string from, string to)
    {
        var previous = new Dictionary<string, string>(StringComparer.Ordinal);
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var n))
            foreach (var m in edges.GetValueOrDefault(n) ?? [])
            {
                if (m == from || !previous.TryAdd(m, n)) continue;
                if (m == to)
                {
                    var path = new List<string> { to };
                    while (path[^1] != from) path.Add(previous[path[^1]]);
                    path.Reverse();
                    return path;
                }
                queue.Enqueue(m);
            }
        return null;
    }

    /// <summary>Each step of a path with the types that make it (at most eight per step).</summary>
    public string Explain(IReadOnlyList<string> path)
    {
        var lines = new List<string>();
        for (var i = 0; i + 1 < path.Count; i++)
        {
            var why = _why.GetValueOrDefault((path[i], path[i + 1])) ?? [];
            lines.Add($"{path[i]} → {path[i + 1]} because:");
            lines.AddRange(why.Take(8).Select(w => "    " + w));
            if (why.Count > 8) lines.Add($"    ... and {why.Count - 8} more");
        }
        return string.Join("\n", lines);
    }

    public string Describe() =>
        string.Join("\n", Edges.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} → {string.Join(", ", p.Value)}"));

    private static Type Outermost(Type t) => t.DeclaringType is { } d ? Outermost(d) : t;

    private static string Name(Type t) => t.FullName?.StartsWith(Root + ".", StringComparison.Ordinal) == true ? t.FullName[(Root.Length + 1)..] : t.FullName ?? t.Name;
}
