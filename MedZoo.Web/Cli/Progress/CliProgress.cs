using System.Globalization;
using Spectre.Console;

namespace MedZoo.Web.Cli.Progress;

/// <summary>
/// Where a long task (training, inference, a benchmark, a dataset check) shows how far it is. On a
/// terminal a Spectre.Console progress bar is redrawn in place and <see cref="Line"/> prints above
/// it; when output is redirected (a log file, CI, tests) there is no bar and progress is plain lines,
/// so logs stay readable and can be searched.
/// </summary>
public interface IProgressDisplay
{
    /// <summary>True when a bar is drawn in place (a terminal); false for plain lines.</summary>
    bool IsTerminal { get; }

    /// <summary>A line that stays: above the bar on a terminal, a plain line otherwise.</summary>
    void Line(string text);

    /// <summary>
    /// Moves the bar to <paramref name="done"/> of <paramref name="total"/> and shows
    /// <paramref name="label"/> with <paramref name="detail"/> beside it. Without a terminal it prints
    /// "label: N%" each time another tenth is done.
    /// </summary>
    void Update(double done, double total, string label, string? detail = null);
}

/// <summary>Runs a long task with the progress display its context allows.</summary>
public static class CliProgress
{
    /// <summary>
    /// Runs <paramref name="work"/> with a bar on <see cref="CliContext.Terminal"/> when there is one,
    /// else with plain lines on <see cref="CliContext.Error"/>; returns what it returns.
    /// </summary>
    public static T Run<T>(CliContext context, string title, Func<IProgressDisplay, T> work)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(work);
        if (context.Terminal is not { } terminal) return work(new PlainProgress(context.Error));
        return terminal.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(Markup.Escape(title), autoStart: true, maxValue: 1);
                var display = new TerminalProgress(terminal, task);
                try
                {
                    return work(display);
                }
                finally
                {
                    task.StopTask();
                }
            });
    }

    /// <summary>Plain lines on a writer (no terminal).</summary>
    public sealed class PlainProgress(TextWriter writer) : IProgressDisplay
    {
        private int _lastTenth = -1;
        private string? _lastLabel;

        /// <inheritdoc />
        public bool IsTerminal => false;

        /// <inheritdoc />
        public void Line(string text)
        {
            writer.WriteLine(text);
            writer.Flush();
        }

        /// <inheritdoc />
        public void Update(double done, double total, string label, string? detail = null)
        {
            if (!string.Equals(label, _lastLabel, StringComparison.Ordinal)) _lastTenth = -1;
            _lastLabel = label;
            var percent = total > 0 ? (int)Math.Clamp(100 * done / total, 0, 100) : 0;
            if (percent / 10 == _lastTenth) return;
            _lastTenth = percent / 10;
            Line(string.Create(CultureInfo.InvariantCulture, $"{label}: {percent}%"));
        }
    }

    /// <summary>A Spectre.Console bar; lines are written through the same console so they land above it.</summary>
    private sealed class TerminalProgress(IAnsiConsole console, ProgressTask task) : IProgressDisplay
    {
        public bool IsTerminal => true;

        public void Line(string text) => console.WriteLine(text);

        public void Update(double done, double total, string label, string? detail = null)
        {
            task.MaxValue = Math.Max(total, 1e-9);
            task.Value = Math.Clamp(done, 0, task.MaxValue);
            task.Description = Markup.Escape(detail is null ? label : $"{label} {detail}");
        }
    }
}
