using MedZoo.Tests.TestSupport;
using System.Reflection;
using MedZoo.Engine;
using Xunit.Abstractions;

namespace MedZoo.Tests.Engine;

/// <summary>
/// The engine's namespace dependency graph, read from its compiled types: which area
/// (<c>MedZoo.Engine.&lt;Area&gt;</c>) uses which. A type counts as used when it appears in a base type
/// or interface, a field, property, event, parameter, return or local variable type, an attribute
/// argument, or a type, field or method token in a method body's IL (lambdas, iterators and async
/// state machines are nested types of their method's type, so their bodies count for it too).
/// </summary>
public sealed class EngineNamespaceTests(ITestOutputHelper output)
{
    private static readonly Assembly Engine = typeof(InvalidOptionException).Assembly;

    [Fact]
    public void Graph_Inference_DoesNotReachTraining()
    {
        var graph = Graph(Engine);
        output.WriteLine(Describe(graph));
        Assert.True(graph.ContainsKey("Inference"), Describe(graph));
        Assert.DoesNotContain("Training", graph["Inference"]);
        // Nor through another area: inference reads checkpoints, which must not need the trainer's types.
        var reachable = Reachable(graph, "Inference");
        Assert.True(!reachable.Contains("Training"), $"Inference reaches Training via {Path(graph, "Inference", "Training")}\n{Describe(graph)}");
        Assert.Contains("Checkpoints", graph["Inference"]);
        Assert.DoesNotContain("Training", Reachable(graph, "Checkpoints"));
    }

    [Fact]
    public void Graph_Engine_HasNoCycles()
    {
        // Domain folders depend one way (IO ← Data ← Training, Checkpoints ← Inference ← Training, ...): no area reaches itself.
        var graph = Graph(Engine);
        var cyclic = graph.Keys.Where(a => Reachable(graph, a).Contains(a)).ToList();
        Assert.True(cyclic.Count == 0, $"areas on a cycle: {string.Join(", ", cyclic.Select(Name))}\n{Describe(graph)}");
    }

    [Fact]
    public void Graph_Training_UsesCheckpointsAndInference()
    {
        // The scan sees real edges (the trainer writes checkpoints and validates by sliding window).
        var graph = Graph(Engine);
        Assert.Contains("Checkpoints", graph["Training"]);
        Assert.Contains("Inference", graph["Training"]);
    }

    [Fact]
    public void UsedTypes_TypeOnlyInAMethodBody_IsFound()
    {
        var used = UsedTypes(typeof(BodyOnly)).ToHashSet();
        Assert.Contains(typeof(System.Text.StringBuilder), used); // `new` in IL only
        Assert.Contains(typeof(Uri), used); // a static call in IL only
        Assert.Contains(typeof(Version), used); // inside a lambda (a nested closure type)
        Assert.DoesNotContain(typeof(System.Text.Rune), used);
    }

    private sealed class BodyOnly
    {
        public static int Length() => new System.Text.StringBuilder("x").Length + (Uri.IsHexDigit('a') ? 1 : 0);

        public static Func<int> Later() => () => new Version(1, 2).Major;
    }

    /// <summary>Area → areas its types use (the root namespace is "").</summary>
    internal static Dictionary<string, SortedSet<string>> Graph(Assembly assembly)
    {
        var root = assembly.GetName().Name!;
        var graph = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
        foreach (var type in assembly.GetTypes())
        {
            var from = Area(type, root);
            if (from is null) continue;
            if (!graph.TryGetValue(from, out var edges)) graph[from] = edges = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var used in UsedTypes(type))
                if (used.Assembly == assembly && Area(used, root) is { } to && to != from) edges.Add(to);
        }
        return graph;
    }

    private static string? Area(Type type, string root)
    {
        var ns = type.Namespace;
        if (ns is null || !(ns == root || ns.StartsWith(root + ".", StringComparison.Ordinal))) return null;
        return ns == root ? "" : ns[(root.Length + 1)..].Split('.')[0];
    }

    private static HashSet<string> Reachable(Dictionary<string, SortedSet<string>> graph, string from)
    {
        var seen = new HashSet<string>();
        var stack = new Stack<string>([from]);
        while (stack.TryPop(out var n))
            foreach (var m in graph.GetValueOrDefault(n) ?? [])
                if (seen.Add(m)) stack.Push(m);
        return seen;
    }

    private static string Path(Dictionary<string, SortedSet<string>> graph, string from, string to)
    {
        var previous = new Dictionary<string, string>();
        var queue = new Queue<string>([from]);
        while (queue.TryDequeue(out var n))
            foreach (var m in graph.GetValueOrDefault(n) ?? [])
                if (m != from && previous.TryAdd(m, n)) queue.Enqueue(m);
        var path = new List<string> { to };
        while (path[^1] != from && previous.TryGetValue(path[^1], out var p)) path.Add(p);
        path.Reverse();
        return string.Join(" → ", path);
    }

    private static string Describe(Dictionary<string, SortedSet<string>> graph) =>
        string.Join("\n", graph.OrderBy(p => p.Key).Select(p => $"{Name(p.Key)} → {string.Join(", ", p.Value.Select(Name))}"));

    private static string Name(string area) => area.Length == 0 ? "(root)" : area;

    private const BindingFlags Declared = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    /// <summary>Every type <paramref name="type"/> names in its signatures, attributes and method bodies (generic arguments and element types unwrapped).</summary>
    internal static IEnumerable<Type> UsedTypes(Type type)
    {
        var found = new HashSet<Type>();
        void Add(Type? t)
        {
            if (t is null || t.IsGenericParameter) return;
            if (t.HasElementType) { Add(t.GetElementType()); return; }
            if (t.IsGenericType && !t.IsGenericTypeDefinition)
            {
                Add(t.GetGenericTypeDefinition());
                foreach (var a in t.GetGenericArguments()) Add(a);
                return;
            }
            found.Add(t);
        }
        void Attributes(IEnumerable<CustomAttributeData> attributes)
        {
            foreach (var a in attributes)
            {
                Add(a.AttributeType);
                foreach (var arg in a.ConstructorArguments.Concat(a.NamedArguments.Select(n => n.TypedValue)))
                    if (arg.Value is Type t) Add(t);
            }
        }

        foreach (var nested in new[] { type }.Concat(AllNested(type)))
        {
            Add(nested.BaseType);
            foreach (var i in nested.GetInterfaces()) Add(i);
            Attributes(nested.CustomAttributes);
            foreach (var f in nested.GetFields(Declared)) { Add(f.FieldType); Attributes(f.CustomAttributes); }
            foreach (var p in nested.GetProperties(Declared)) { Add(p.PropertyType); Attributes(p.CustomAttributes); }
            foreach (var e in nested.GetEvents(Declared)) Add(e.EventHandlerType);
            foreach (var m in nested.GetMethods(Declared).Cast<MethodBase>().Concat(nested.GetConstructors(Declared)))
            {
                if (m is MethodInfo mi) Add(mi.ReturnType);
                foreach (var p in m.GetParameters()) Add(p.ParameterType);
                Attributes(m.CustomAttributes);
                var body = m.GetMethodBody();
                if (body is null) continue;
                foreach (var local in body.LocalVariables) Add(local.LocalType);
                foreach (var t in ILTypes(m)) Add(t);
            }
        }
        return found;
    }

    private static IEnumerable<Type> AllNested(Type type) =>
        type.GetNestedTypes(BindingFlags.Public | BindingFlags.NonPublic).SelectMany(n => new[] { n }.Concat(AllNested(n)));

    /// <summary>The types of the type, field and method tokens in a method body's IL.</summary>
    private static IEnumerable<Type> ILTypes(MethodBase method)
    {
        foreach (var member in IlReader.Members(method))
        {
            switch (member)
            {
                case Type t:
                    yield return t;
                    break;
                case FieldInfo f:
                    yield return f.DeclaringType!;
                    yield return f.FieldType;
                    break;
                case MethodBase m:
                    yield return m.DeclaringType!;
                    if (m is MethodInfo mi) yield return mi.ReturnType;
                    if (m.IsGenericMethod) foreach (var a in m.GetGenericArguments()) yield return a;
                    break;
            }
        }
    }
}
