using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MedZoo.Tests.TestSupport;

/// <summary>A logger provider that keeps every line (category, level, text) for a test to read.</summary>
public sealed class CapturedLogs : ILoggerProvider
{
    private readonly ConcurrentQueue<(string Category, LogLevel Level, string Text)> _lines = new();

    /// <summary>Lines so far, oldest first.</summary>
    public IReadOnlyList<(string Category, LogLevel Level, string Text)> Lines => [.. _lines];

    /// <summary>True when some line at <paramref name="level"/> or above contains <paramref name="text"/>.</summary>
    public bool Contains(string text, LogLevel level = LogLevel.Trace) =>
        _lines.Any(l => l.Level >= level && l.Text.Contains(text, StringComparison.Ordinal));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturedLogs owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) owner._lines.Enqueue((category, logLevel, formatter(state, exception) + (exception is null ? "" : " | " + exception.Message)));
        }
    }
}
