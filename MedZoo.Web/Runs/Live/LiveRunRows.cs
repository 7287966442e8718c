using System.Collections.Concurrent;

namespace MedZoo.Web.Runs.Live;

/// <summary>
/// Keeps a list page's runs current from live events without reading the store on every event:
/// trainer events are folded into the rows with <see cref="RunProjection"/> (the same fold the store
/// uses), and only what a row cannot show by itself — a run the page does not have yet, or a status
/// the dashboard set (queued, deleted, interrupted) — asks the page to read its list again.
/// Thread use: <see cref="Post"/> from the publisher, <see cref="Apply"/> on the page's circuit.
/// </summary>
public sealed class LiveRunRows
{
    private readonly ConcurrentQueue<RunUpdate> _pending = new();
    private volatile bool _reload;

    /// <summary>Queues an update (called by the notifier's subscription).</summary>
    public void Post(RunUpdate update) => _pending.Enqueue(update);

    /// <summary>Makes the next <see cref="Apply"/> ask for a reload (e.g. to catch up right after subscribing).</summary>
    public void RequestReload() => _reload = true;

    /// <summary>
    /// Folds the queued updates into <paramref name="rows"/> and returns the rows to show: the same ones,
    /// or those <paramref name="read"/> returns when a queued update needs the list read again. Updates the
    /// rows do not have yet (numbered above a row's <see cref="RunRecord.LastSeq"/>) are folded in either way,
    /// so an event the store has not written yet is not lost by a reload.
    /// </summary>
    public IReadOnlyList<RunRecord> Apply(IReadOnlyList<RunRecord> rows, Func<IReadOnlyList<RunRecord>> read)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(read);
        var updates = new List<RunUpdate>();
        while (_pending.TryDequeue(out var u)) updates.Add(u);
        var listed = rows.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var reload = _reload || updates.Any(u => u.Event is RunStatusChanged || !listed.Contains(u.RunId));
        _reload = false;
        if (reload) rows = read();
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        foreach (var u in updates)
        {
            // The list was read with what the store held up to row.LastSeq: older events are in it already.
            if (u.Event is not RunStatusChanged && byId.TryGetValue(u.RunId, out var row) && u.Seq > row.LastSeq)
                RunProjection.Apply(row, u);
        }
        return rows;
    }
}
