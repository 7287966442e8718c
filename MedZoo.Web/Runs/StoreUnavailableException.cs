namespace MedZoo.Web.Runs;

/// <summary>
/// A store could not be reached for longer than it retries (in cluster mode: PostgreSQL down or restarting for more
/// than its retry budget). Nothing was written; the same call may succeed later unchanged, so a background writer
/// (<see cref="RunEventRecorder"/>) keeps its work and tries again instead of dropping it. Any store may throw it;
/// LiteDB's never do (the file is local).
/// </summary>
public sealed class StoreUnavailableException(string message, Exception inner) : Exception(message, inner);
