namespace MedZoo.Web.Runs;

/// <summary>One page of a run's history in sequence order, and whether more follow it.</summary>
public sealed record SeqPage<T>(IReadOnlyList<T> Items, bool More)
{
    internal static SeqPage<T> Of(List<T> fetched, int limit) =>
        fetched.Count > limit ? new(fetched.GetRange(0, limit), true) : new(fetched, false);
}
