using System.Reflection;
using LiteDB;
using MedZoo.Tests.TestSupport;
using MedZoo.Web.Persistence;
using MedZoo.Web.Runs;
using MedZoo.Web.Settings;

namespace MedZoo.Tests.Web;

/// <summary>
/// Pages, the hub, the API and the workers reach storage only through the store interfaces: no type in
/// the feature namespaces may touch LiteDB, a type of the LiteDB implementation, or a storage document.
/// Checked on the compiled assembly (signatures, attributes, local variables and every member the IL
/// uses, lambdas and async state machines included), so a comment or a string cannot fool it and a use
/// hidden in a method body cannot escape it.
/// </summary>
public sealed class StorageBoundaryTests
{
    /// <summary>Namespaces that must stay free of storage-engine types (Persistence holds the LiteDB implementation).</summary>
    private static readonly string[] Areas =
    [
        "MedZoo.Web.Components", "MedZoo.Web.Runs", "MedZoo.Web.Live", "MedZoo.Web.Reviews", "MedZoo.Web.Accounts", "MedZoo.Web.Datasets", "MedZoo.Web.Sweeps",
        "MedZoo.Web.Models",
    ];

    private static readonly Assembly Web = typeof(RunProjection).Assembly;

    [Fact]
    public void FeatureNamespaces_EveryType_ReachesStorageOnlyThroughInterfaces()
    {
        var bound = StorageBoundary.LiteDbBound(Web);
        var violations = Web.GetTypes()
            .Where(t => Areas.Any(a => t.Namespace == a || t.Namespace?.StartsWith(a + ".", StringComparison.Ordinal) == true))
            .SelectMany(t => StorageBoundary.References(t)
                .Where(r => StorageBoundary.IsLiteDb(r.Type) || bound.Contains(r.Type) || StorageBoundary.IsStorageDocument(r.Type))
                .Select(r => $"{Outermost(t).FullName}: {r.Type.FullName} ({r.Where})"))
            .Distinct()
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(violations.Count == 0,
            "These types use LiteDB or its implementation directly; go through the store interfaces (IRunStore, IMetricStore, ...) instead:\n"
            + string.Join("\n", violations));
    }

    [Theory]
    [InlineData(typeof(MedZoo.Web.Runs.Live.TrainingHub))]
    [InlineData(typeof(MedZoo.Web.Runs.Live.ITrainingClient))]
    public void Hub_PublicMethods_TakeAndReturnContractsNotStoredRecords(Type hub)
    {
        var stored = hub.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.DeclaredOnly)
            .SelectMany(m => new[] { m.ReturnType }.Concat(m.GetParameters().Select(p => p.ParameterType)).Select(t => (m.Name, t)))
            .Where(x => Unwrap(x.t).Any(t => t.Namespace == typeof(RunRecord).Namespace && t.IsClass && !t.IsAbstract && t.Name.EndsWith("Record", StringComparison.Ordinal)))
            .Select(x => $"{x.Name}: {x.t}")
            .ToList();
        Assert.True(stored.Count == 0, "hub methods expose stored records; return a contract record (e.g. RunInfo) instead:\n" + string.Join("\n", stored));
        Assert.Equal(typeof(RunInfo), typeof(MedZoo.Web.Runs.Live.TrainingHub).GetMethod(nameof(MedZoo.Web.Runs.Live.TrainingHub.Subscribe))!.ReturnType);

        static IEnumerable<Type> Unwrap(Type t) => t.IsGenericType ? t.GetGenericArguments().SelectMany(Unwrap).Prepend(t) : [t];
    }

    [Fact]
    public void LiteDbBound_TheImplementation_IsFoundAndTheInterfacesAndRecordsAreNot()
    {
        var bound = StorageBoundary.LiteDbBound(Web);
        Assert.Contains(typeof(MedZooDatabase), bound);
        Assert.Contains(typeof(RunRepository), bound); // through its database field and its paging helper
        Assert.Contains(typeof(LiteDbCheckpointStore), bound);
        Assert.Contains(typeof(UserRepository), bound);
        Assert.DoesNotContain(typeof(IRunStore), bound);
        Assert.DoesNotContain(typeof(RunRecord), bound);
        Assert.DoesNotContain(typeof(RunEventRecorder), bound); // records through the interfaces only
        Assert.DoesNotContain(typeof(DataOptions), bound); // its docs mention LiteDB; its code does not
        Assert.DoesNotContain(typeof(RunJournalImporter), bound); // imports through the stores
        Assert.Contains(typeof(JournalRepository), bound);
    }

    [Theory]
    [InlineData(typeof(Canary.LocalVariable), typeof(LiteDatabase))]
    [InlineData(typeof(Canary.CallInLambda), typeof(RunRepository))]
    [InlineData(typeof(Canary.Attribute), typeof(BsonIdAttribute))]
    [InlineData(typeof(Canary.AsyncMethod), typeof(BsonValue))]
    [InlineData(typeof(Canary.DatabaseField), typeof(MedZooDatabase))]
    public void References_UseHiddenInAMember_IsFound(Type user, Type used)
    {
        var bound = StorageBoundary.LiteDbBound(Web);
        var found = StorageBoundary.References(user).Select(r => r.Type)
            .Concat(user.GetNestedTypes(BindingFlags.NonPublic | BindingFlags.Public).SelectMany(n => StorageBoundary.References(n).Select(r => r.Type)))
            .ToHashSet();
        Assert.Contains(used, found);
        Assert.True(StorageBoundary.IsLiteDb(used) || bound.Contains(used) || StorageBoundary.IsStorageDocument(used));
    }

    [Fact]
    public void References_OnlyACommentAndAString_FindsNothing()
    {
        var found = StorageBoundary.References(typeof(Canary.CommentOnly)).Select(r => r.Type).ToList();
        Assert.DoesNotContain(found, StorageBoundary.IsLiteDb);
        Assert.DoesNotContain(typeof(RunRepository), found);
    }

    private static Type Outermost(Type t) => t.DeclaringType is { } d ? Outermost(d) : t;

    /// <summary>Types that hide a storage use in different places, to prove the scan sees each.</summary>
    private static class Canary
    {
        public sealed class LocalVariable
        {
            public static int Count(string path)
            {
                using var db = new LiteDatabase(path);
                return db.GetCollectionNames().Count();
            }
        }

        public sealed class CallInLambda
        {
            public static Func<string, object?> Reader(IServiceProvider services) =>
                id => ((RunRepository)services.GetService(typeof(IRunStore))!).Get(id);
        }

        public sealed class Attribute
        {
            [BsonId] public string Name { get; set; } = "";
        }

        public sealed class AsyncMethod
        {
            public static async Task<string> Read(object value)
            {
                await Task.Yield();
                return value is BsonValue b ? b.AsString : "";
            }
        }

        public sealed class DatabaseField(MedZooDatabase database)
        {
            public string Folder => database.Options.DataDirectory;
        }

        public sealed class CommentOnly
        {
            // LiteDatabase, RunRepository and BsonValue are mentioned here and in the string below only.
            public static string Describe() => "stored in LiteDB by RunRepository as BsonValue";
        }
    }
}

/// <summary>Finds the types a type uses, from its metadata and its IL.</summary>
internal static class StorageBoundary
{
    private const BindingFlags Everything = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly;

    private static readonly Assembly LiteDb = typeof(LiteDatabase).Assembly;

    /// <summary>One use of a type, where it is, and whether it is part of the user's shape (a field, a property, a parameter...) rather than a method body.</summary>
    public readonly record struct Reference(Type Type, string Where, bool InSignature);

    /// <summary>True for a type of the LiteDB library.</summary>
    public static bool IsLiteDb(Type t) => t.Assembly == LiteDb;

    /// <summary>True for MedZoo's storage documents (the shapes a database keeps, named *Document).</summary>
    public static bool IsStorageDocument(Type t) =>
        t.Assembly == typeof(RunProjection).Assembly && t.Name.EndsWith("Document", StringComparison.Ordinal);

    /// <summary>
    /// The types of <paramref name="assembly"/> that are LiteDB code: they use a LiteDB type anywhere, or hold,
    /// take or return such a type (a repository that keeps the database in a field). Calling one from a method
    /// body alone (the composition root registering the stores) does not make a type LiteDB code.
    /// </summary>
    public static HashSet<Type> LiteDbBound(Assembly assembly)
    {
        var all = assembly.GetTypes().ToDictionary(t => t, t => References(t).ToList());
        var bound = all.Where(kv => kv.Value.Any(r => IsLiteDb(r.Type))).Select(kv => kv.Key).ToHashSet();
        var uses = all.ToDictionary(kv => kv.Key, kv => kv.Value.Where(r => r.InSignature).Select(r => r.Type).ToHashSet());
        bool grew;
        do
        {
            grew = false;
            foreach (var (type, used) in uses)
            {
                if (bound.Contains(type)) continue;
                if (used.Any(u => IsLiteDb(u) || bound.Contains(u)))
                {
                    bound.Add(type);
                    grew = true;
                }
            }
        }
        while (grew);
        return bound;
    }

    /// <summary>Every type <paramref name="type"/> names in its own declaration and members (nested types are types of their own).</summary>
    public static IEnumerable<Reference> References(Type type)
    {
        var found = new List<Reference>();
        var signature = true;
        void Add(Type? t, string where)
        {
            foreach (var part in Parts(t)) found.Add(new(part, where, signature));
        }
        void Attributes(IEnumerable<CustomAttributeData> attributes, string where)
        {
            foreach (var a in attributes) Add(a.AttributeType, where + " attribute");
        }

        Add(type.BaseType, "base type");
        foreach (var i in type.GetInterfaces()) Add(i, "interface");
        Attributes(type.CustomAttributes, "type");
        foreach (var f in type.GetFields(Everything))
        {
            Add(f.FieldType, $"field {f.Name}");
            Attributes(f.CustomAttributes, $"field {f.Name}");
        }
        foreach (var p in type.GetProperties(Everything))
        {
            Add(p.PropertyType, $"property {p.Name}");
            Attributes(p.CustomAttributes, $"property {p.Name}");
        }
        foreach (var e in type.GetEvents(Everything)) Add(e.EventHandlerType, $"event {e.Name}");
        foreach (var m in type.GetMethods(Everything).Cast<MethodBase>().Concat(type.GetConstructors(Everything)))
        {
            var where = $"{m.Name}";
            if (m is MethodInfo mi) Add(mi.ReturnType, where + " return");
            foreach (var p in m.GetParameters()) Add(p.ParameterType, where + " parameter " + p.Name);
            Attributes(m.CustomAttributes, where);
            MethodBody? body;
            try
            {
                body = m.GetMethodBody();
            }
            catch (InvalidOperationException)
            {
                body = null;
            }
            if (body is null) continue;
            signature = false;
            foreach (var local in body.LocalVariables) Add(local.LocalType, where + " local");
            foreach (var member in IlReader.Members(m)) AddMember(member, where + " body");
            signature = true;
        }
        return found;

        void AddMember(MemberInfo member, string where)
        {
            switch (member)
            {
                case Type t:
                    Add(t, where);
                    break;
                case FieldInfo f:
                    Add(f.DeclaringType, where);
                    Add(f.FieldType, where);
                    break;
                case MethodBase mb:
                    Add(mb.DeclaringType, where);
                    if (mb is MethodInfo mi)
                    {
                        Add(mi.ReturnType, where);
                        if (mi.IsGenericMethod) foreach (var g in mi.GetGenericArguments()) Add(g, where);
                    }
                    foreach (var p in mb.GetParameters()) Add(p.ParameterType, where);
                    break;
            }
        }
    }

    // The type and the types it is built from (element types, generic arguments).
    private static IEnumerable<Type> Parts(Type? t)
    {
        if (t is null || t.IsGenericParameter) yield break;
        if (t.HasElementType)
        {
            foreach (var p in Parts(t.GetElementType())) yield return p;
            yield break;
        }
        yield return t.IsGenericType ? t.GetGenericTypeDefinition() : t;
        if (t.IsGenericType)
            foreach (var a in t.GetGenericArguments())
                foreach (var p in Parts(a)) yield return p;
    }
}
